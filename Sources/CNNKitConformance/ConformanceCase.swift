import CNNKit
import Foundation

/// One conformance case: the decoded `case.json` manifest of a case folder.
///
/// A case applies one ONNX operator (`op` at `opset`) with `attributes` to the tensors listed in `inputs` and
/// expects the tensors listed in `outputs` (format: `Tests/CNNKitTests/Fixtures/conformance/README.md`). Entries of
/// `inputs` and `outputs` are positional ONNX slots; `nil` marks an optional slot the case leaves out.
/// A backward case (`"mode": "backward"`) also lists `output_grads` (dL/dY per output slot) and `input_grads` (the
/// expected dL/dX per input slot) for the loss `L = Σ_K Σ dY_K·Y_K`.
/// Informational fields (`crosscheck`, `params`, `origin`) are not decoded; any other field the format does not
/// define makes the manifest malformed, so that a case the runner cannot check fails instead of passing unread.
public struct ConformanceCase: Sendable, Hashable, Decodable {
    /// The case name (the folder name).
    public var name: String
    /// `onnx-node`, `onnxruntime-random`, or another source label; `nil` when absent.
    public var source: String?
    /// ONNX operator type, e.g. `Conv`, `Resize`.
    public var op: String
    /// ONNX domain; `""` or `nil` is the default domain, the only one supported.
    public var domain: String?
    /// The opset whose operator definition applies.
    public var opset: Int
    /// The node's attributes; an attribute not listed takes its ONNX default for `opset`.
    public var attributes: [String: JSONValue]
    /// One entry per input slot, `nil` for an absent optional input.
    public var inputs: [TensorEntry?]
    /// One entry per output slot, `nil` for an output the case does not check. Empty when ``expectError``.
    public var outputs: [TensorEntry?]
    /// Float comparison tolerance.
    public var tolerance: Tolerance
    /// Note on a contested reading, when the case has one.
    public var disputed: JSONValue?
    /// Note on behaviour ONNX leaves open and the convention the expected outputs follow, when the case has one.
    public var implementationDefined: JSONValue?
    /// `true` when the operator must reject the inputs with a ``CNNKitError`` (the case then has no outputs).
    public var expectError: Bool
    /// What produced the expected outputs (informational).
    public var oracle: JSONValue?
    /// The case kind: forward (`nil`, the default) or ``Mode/backward``.
    public var mode: Mode
    /// Backward cases: one entry per output slot holding dL/dY_K, `nil` for an output that carries no gradient.
    public var outputGrads: [TensorEntry?]
    /// Backward cases: one entry per input slot holding the expected dL/dX_K, `nil` for an input that is not
    /// differentiable or absent.
    public var inputGrads: [TensorEntry?]

    /// What a case checks.
    public enum Mode: String, Sendable, Hashable, Codable {
        /// The operator's outputs (a manifest without `mode`).
        case forward
        /// The gradients of the loss `L = Σ_K Σ dY_K·Y_K` with respect to the inputs (vector-Jacobian products).
        case backward
    }

    /// Every top-level manifest field the format defines (conformance README); any other field is rejected.
    public static let knownFields: Set<String> = [
        "name", "source", "mode", "op", "domain", "opset", "attributes", "inputs", "outputs", "output_grads",
        "input_grads", "tolerance", "disputed", "implementation_defined", "expect_error", "oracle", "crosscheck",
        "params", "origin",
    ]

    /// The file name of the manifest inside a case folder.
    public static let manifestName = "case.json"

    /// Where a tensor of the case lives and what it holds.
    public struct TensorEntry: Sendable, Hashable, Codable {
        /// The tensor's name in the ONNX model (informational).
        public var name: String?
        /// File name relative to the case folder, e.g. `input_0.npy`.
        public var file: String
        /// Element type.
        public var dtype: DType
        /// Extents, outermost first; the file must have exactly this shape.
        public var shape: [Int]

        /// Creates an entry.
        public init(name: String? = nil, file: String, dtype: DType, shape: [Int]) {
            self.name = name
            self.file = file
            self.dtype = dtype
            self.shape = shape
        }
    }

    /// The two element types conformance tensors use.
    public enum DType: String, Sendable, Hashable, Codable {
        /// `<f4`, feature maps, weights, Resize `scales` and `roi`.
        case float32
        /// `<i8`, shape-like inputs and MaxPool `Indices`.
        case int64
    }

    /// Element-wise pass rule for float outputs: `|actual − expected| <= atol + rtol·|expected|`.
    public struct Tolerance: Sendable, Hashable, Codable {
        /// Absolute tolerance.
        public var atol: Double
        /// Relative tolerance.
        public var rtol: Double

        /// Creates a tolerance.
        public init(atol: Double, rtol: Double) {
            self.atol = atol
            self.rtol = rtol
        }

        /// The conformance default, `atol = rtol = 1e-4`.
        public static let standard = Tolerance(atol: 1e-4, rtol: 1e-4)
        /// The default for Resize with `mode = "cubic"`, `atol = rtol = 1e-3`.
        public static let cubic = Tolerance(atol: 1e-3, rtol: 1e-3)
    }

    /// Creates a case in memory (tests and generated cases).
    public init(
        name: String, op: String, opset: Int, attributes: [String: JSONValue] = [:], inputs: [TensorEntry?],
        outputs: [TensorEntry?], tolerance: Tolerance = .standard, expectError: Bool = false,
        disputed: JSONValue? = nil, implementationDefined: JSONValue? = nil, source: String? = nil,
        mode: Mode = .forward, outputGrads: [TensorEntry?] = [], inputGrads: [TensorEntry?] = []
    ) {
        self.name = name
        self.source = source
        self.op = op
        self.domain = ""
        self.opset = opset
        self.attributes = attributes
        self.inputs = inputs
        self.outputs = outputs
        self.tolerance = tolerance
        self.disputed = disputed
        self.implementationDefined = implementationDefined
        self.expectError = expectError
        self.oracle = nil
        self.mode = mode
        self.outputGrads = outputGrads
        self.inputGrads = inputGrads
    }

    private enum CodingKeys: String, CodingKey {
        case name, source, op, domain, opset, attributes, inputs, outputs, tolerance, disputed, oracle, mode
        case implementationDefined = "implementation_defined"
        case expectError = "expect_error"
        case outputGrads = "output_grads"
        case inputGrads = "input_grads"
    }

    /// Any top-level key, to find fields the format does not define.
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Decodes a manifest. `attributes`, `outputs`, `expect_error`, `mode`, `output_grads` and `input_grads` may be
    /// absent (empty, empty, false, forward, empty, empty); a missing `tolerance` takes the conformance default
    /// (1e-4, or 1e-3 for cubic Resize).
    /// - Throws: `DecodingError` when a required field (`name`, `op`, `opset`, `inputs`) is missing or mistyped, when
    ///   the manifest has a field the format does not define (``knownFields``), when `mode` is neither `"forward"`
    ///   nor `"backward"`, or when a forward case lists `output_grads` or `input_grads` (they would go unchecked).
    public init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: AnyKey.self)
        let unknown = keys.allKeys.map(\.stringValue).filter { !Self.knownFields.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw DecodingError.dataCorrupted(DecodingError.Context(
                codingPath: [], debugDescription: "unknown field\(unknown.count > 1 ? "s" : "") \(unknown.joined(separator: ", ")) "
                    + "(the format defines \(Self.knownFields.sorted().joined(separator: ", ")); a field the runner does not know cannot be checked)"))
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        source = try c.decodeIfPresent(String.self, forKey: .source)
        op = try c.decode(String.self, forKey: .op)
        domain = try c.decodeIfPresent(String.self, forKey: .domain)
        opset = try c.decode(Int.self, forKey: .opset)
        attributes = try c.decodeIfPresent([String: JSONValue].self, forKey: .attributes) ?? [:]
        inputs = try c.decode([TensorEntry?].self, forKey: .inputs)
        outputs = try c.decodeIfPresent([TensorEntry?].self, forKey: .outputs) ?? []
        expectError = try c.decodeIfPresent(Bool.self, forKey: .expectError) ?? false
        disputed = try c.decodeIfPresent(JSONValue.self, forKey: .disputed)
        implementationDefined = try c.decodeIfPresent(JSONValue.self, forKey: .implementationDefined)
        oracle = try c.decodeIfPresent(JSONValue.self, forKey: .oracle)
        if let text = try c.decodeIfPresent(String.self, forKey: .mode) {
            guard let parsed = Mode(rawValue: text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .mode, in: c, debugDescription: "unknown mode \"\(text)\" (known: \"forward\", \"backward\")")
            }
            mode = parsed
        } else {
            mode = .forward
        }
        outputGrads = try c.decodeIfPresent([TensorEntry?].self, forKey: .outputGrads) ?? []
        inputGrads = try c.decodeIfPresent([TensorEntry?].self, forKey: .inputGrads) ?? []
        if mode == .forward && (c.contains(.outputGrads) || c.contains(.inputGrads)) {
            throw DecodingError.dataCorruptedError(
                forKey: c.contains(.outputGrads) ? .outputGrads : .inputGrads, in: c,
                debugDescription: "gradients listed in a forward case (add \"mode\": \"backward\" to check them)")
        }
        if let given = try c.decodeIfPresent(Tolerance.self, forKey: .tolerance) {
            tolerance = given
        } else {
            tolerance = op == "Resize" && attributes["mode"]?.stringValue == "cubic" ? .cubic : .standard
        }
    }

    /// Reads and decodes `case.json` in `folder`.
    /// - Throws: ``ConformanceError/malformedCase(_:)`` when the file is missing, unreadable or not a valid manifest.
    public static func load(from folder: URL) throws -> ConformanceCase {
        let url = folder.appendingPathComponent(manifestName)
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ConformanceError.malformedCase("cannot read \(url.path)")
        }
        do {
            return try JSONDecoder().decode(ConformanceCase.self, from: data)
        } catch let error as DecodingError {
            throw ConformanceError.malformedCase("\(url.path): \(describe(error))")
        } catch {
            throw ConformanceError.malformedCase("\(url.path): \(error)")
        }
    }

    /// The case's flags (disputed, implementation-defined).
    public var flags: CaseFlags {
        var flags: CaseFlags = []
        if disputed != nil { flags.insert(.disputed) }
        if implementationDefined != nil { flags.insert(.implementationDefined) }
        return flags
    }

    /// Reads the tensor of one manifest entry from `folder` and checks it against the entry's dtype and shape.
    /// - Throws: ``ConformanceError/malformedCase(_:)`` when the file is missing, not a `.npy` array of the entry's
    ///   dtype, or of another shape than the manifest states.
    public static func loadTensor(_ entry: TensorEntry, in folder: URL) throws -> CaseTensor {
        let url = folder.appendingPathComponent(entry.file)
        let tensor: CaseTensor
        do {
            switch entry.dtype {
            case .float32: tensor = .float32(try Tensor(npyFile: url))
            case .int64: tensor = .int64(try IndexTensor(npyFile: url))
            }
        } catch let error as CNNKitError {
            throw ConformanceError.malformedCase("\(entry.file): \(error)")
        }
        // A scalar input (shape [] in the manifest) saved as a one-element 1-D array — as the Pad cases'
        // constant_value files are — is read as the scalar the manifest names.
        if entry.shape.isEmpty && tensor.shape == [1] {
            switch tensor {
            case .float32(let t): return .float32(try Tensor(shape: [], scalars: t.scalars))
            case .int64(let t): return .int64(try IndexTensor(shape: [], scalars: t.scalars))
            }
        }
        guard tensor.shape == entry.shape else {
            throw ConformanceError.malformedCase(
                "\(entry.file): the file has shape \(tensor.shape), the manifest says \(entry.shape)")
        }
        return tensor
    }

    /// Reads every input listed in the manifest (`nil` for absent slots).
    /// - Throws: ``ConformanceError/malformedCase(_:)`` as ``loadTensor(_:in:)``.
    public func loadInputs(from folder: URL) throws -> [CaseTensor?] {
        try inputs.map { entry in try entry.map { try Self.loadTensor($0, in: folder) } }
    }

    /// Reads every expected output listed in the manifest (`nil` for unchecked slots).
    /// - Throws: ``ConformanceError/malformedCase(_:)`` as ``loadTensor(_:in:)``.
    public func loadExpectedOutputs(from folder: URL) throws -> [CaseTensor?] {
        try outputs.map { entry in try entry.map { try Self.loadTensor($0, in: folder) } }
    }

    /// Reads every output gradient dL/dY_K listed in the manifest (`nil` for outputs without a gradient).
    /// - Throws: ``ConformanceError/malformedCase(_:)`` as ``loadTensor(_:in:)``, or when an entry is not float32.
    public func loadOutputGrads(from folder: URL) throws -> [Tensor?] {
        try outputGrads.map { entry in try entry.map { try Self.loadFloat($0, in: folder, field: "output_grads") } }
    }

    /// Reads every expected input gradient dL/dX_K listed in the manifest (`nil` for slots without one).
    /// - Throws: ``ConformanceError/malformedCase(_:)`` as ``loadTensor(_:in:)``, or when an entry is not float32.
    public func loadExpectedInputGrads(from folder: URL) throws -> [Tensor?] {
        try inputGrads.map { entry in try entry.map { try Self.loadFloat($0, in: folder, field: "input_grads") } }
    }

    private static func loadFloat(_ entry: TensorEntry, in folder: URL, field: String) throws -> Tensor {
        guard case .float32(let tensor) = try loadTensor(entry, in: folder) else {
            throw ConformanceError.malformedCase("\(field): \(entry.file) is \(entry.dtype.rawValue); gradients are float32")
        }
        return tensor
    }
}

/// Marks on a case whose expected outputs encode a convention or a contested reading.
public struct CaseFlags: OptionSet, Sendable, Hashable, CustomStringConvertible {
    /// The flag bits.
    public let rawValue: Int
    /// Creates flags from raw bits.
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// The manifest has a `disputed` note.
    public static let disputed = CaseFlags(rawValue: 1)
    /// The manifest has an `implementation_defined` note.
    public static let implementationDefined = CaseFlags(rawValue: 2)

    /// The manifest field names of the flags that are set, e.g. `disputed, implementation_defined`.
    public var description: String {
        var names: [String] = []
        if contains(.disputed) { names.append("disputed") }
        if contains(.implementationDefined) { names.append("implementation_defined") }
        return names.joined(separator: ", ")
    }
}

/// A tensor of a conformance case: float32 data or int64 shape-like values and indices.
public enum CaseTensor: Sendable, Hashable {
    /// A float32 tensor (`<f4`).
    case float32(Tensor)
    /// An int64 tensor (`<i8`).
    case int64(IndexTensor)

    /// The tensor's extents.
    public var shape: [Int] {
        switch self {
        case .float32(let tensor): return tensor.shape
        case .int64(let tensor): return tensor.shape
        }
    }

    /// The element type.
    public var dtype: ConformanceCase.DType {
        switch self {
        case .float32: return .float32
        case .int64: return .int64
        }
    }
}

/// Why the conformance harness could not run a case (as opposed to the operator rejecting it with a ``CNNKitError``).
public enum ConformanceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The case folder or its manifest or tensor files are missing or inconsistent.
    case malformedCase(String)
    /// The ONNX node cannot be mapped onto CNNKit: unknown op, domain or opset, unknown attribute, an attribute
    /// value outside its ONNX domain, or a missing or mistyped input.
    case unsupported(String)
    /// A path given to ``ConformanceRunner/discover(_:)`` is not a readable directory.
    case notADirectory(String)

    /// The message, prefixed with its category.
    public var description: String {
        switch self {
        case .malformedCase(let text): return "malformed case: \(text)"
        case .unsupported(let text): return "cannot map: \(text)"
        case .notADirectory(let path): return "not a directory: \(path)"
        }
    }
}

/// A one-line description of a `DecodingError`: what went wrong and at which JSON path.
func describe(_ error: DecodingError) -> String {
    func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
    switch error {
    case .keyNotFound(let key, let context):
        return "missing field \(path(context.codingPath + [key]))"
    case .typeMismatch(let type, let context):
        return "\(path(context.codingPath)): expected \(type) (\(context.debugDescription))"
    case .valueNotFound(let type, let context):
        return "\(path(context.codingPath)): expected \(type), found null"
    case .dataCorrupted(let context):
        let underlying = context.underlyingError.map { " (\($0))" } ?? ""
        return "\(path(context.codingPath)): \(context.debugDescription)\(underlying)"
    @unknown default:
        return "\(error)"
    }
}
