import CNNKit

/// A CNNKit operator call derived from one ONNX node: which one-call function runs and with which descriptor.
public enum MappedOperator: Sendable, Hashable {
    /// ``CNNKit/convolution(_:weight:bias:_:backend:)`` with inputs X, W, optional B (ONNX Conv).
    case convolution(ConvolutionDescriptor)
    /// ``CNNKit/convTranspose(_:weight:bias:_:backend:)`` with inputs X, W, optional B (ONNX ConvTranspose).
    case convTranspose(ConvTransposeDescriptor)
    /// ``CNNKit/col2im(_:_:backend:)`` on input 0 (ONNX Col2Im; image and block shapes are in the descriptor).
    case col2im(Col2ImDescriptor)
    /// ``CNNKit/pooling(_:_:backend:)``, or ``CNNKit/poolingWithIndices(_:_:backend:)`` when `indices` is `true`
    /// (ONNX MaxPool with its `Indices` output).
    case pooling(PoolingDescriptor, indices: Bool)
    /// ``CNNKit/resize(_:_:backend:)`` on input 0 (ONNX Resize and Upsample; scales or sizes are in the descriptor).
    case resize(ResizeDescriptor)
    /// ``CNNKit/pixelShuffle(_:_:backend:)`` on input 0 (ONNX DepthToSpace and SpaceToDepth).
    case pixelShuffle(PixelShuffleDescriptor)
    /// ``CNNKit/maxUnpool(_:indices:_:backend:)`` with inputs X and I (ONNX MaxUnpool; `output_shape` is in the
    /// descriptor).
    case maxUnpool(MaxUnpoolDescriptor)
    /// ``CNNKit/pad(_:_:backend:)`` on input 0 (ONNX Pad; pads, constant value and axes are in the descriptor).
    case pad(PadDescriptor)

    /// The CNNKit function's name, e.g. `"convolution"`, `"poolingWithIndices"`.
    public var name: String {
        switch self {
        case .convolution: return "convolution"
        case .convTranspose: return "convTranspose"
        case .col2im: return "col2im"
        case .pooling(_, let indices): return indices ? "poolingWithIndices" : "pooling"
        case .resize: return "resize"
        case .pixelShuffle: return "pixelShuffle"
        case .maxUnpool: return "maxUnpool"
        case .pad: return "pad"
        }
    }
}

/// Maps ONNX nodes (operator type, opset, attributes, input tensors) onto CNNKit descriptors and runs them.
///
/// Every attribute an ONNX node leaves out takes its ONNX default for the opset. Anything CNNKit cannot express
/// the same way — an unknown operator, domain or opset, an attribute the operator does not have, an attribute
/// or a missing or mistyped input — throws ``ConformanceError/unsupported(_:)``, never traps. Invalid operator input —
/// an attribute value outside its ONNX domain, a missing required attribute, Resize with both or neither of `scales`
/// and `sizes` — throws ``CNNKitError`` like CNNKit's own validation, so `expect_error` cases accept it.
///
/// Mapped operators (opsets): Conv, ConvTranspose (1+); Col2Im (18+); MaxPool (8+), AveragePool, LpPool,
/// GlobalMaxPool, GlobalAveragePool, GlobalLpPool (1+); MaxUnpool (9+); DepthToSpace, SpaceToDepth (1+, `mode`
/// from DepthToSpace-11 and SpaceToDepth-28); Resize (11+); Upsample (7–9, as Resize with
/// `coordinate_transformation_mode = asymmetric`, and `nearest_mode = floor` for `nearest`); Pad (2+: attributes
/// `pads` / `value` before 11, inputs `pads`, `constant_value` from 11, `axes` from 18, mode `wrap` from 19).
public enum ONNXMapping {
    /// The ONNX operator types the mapping understands.
    public static let supportedOps: [String] = [
        "Conv", "ConvTranspose", "Col2Im", "MaxPool", "AveragePool", "LpPool", "GlobalMaxPool", "GlobalAveragePool",
        "GlobalLpPool", "MaxUnpool", "DepthToSpace", "SpaceToDepth", "Resize", "Upsample", "Pad",
    ]

    /// Builds the CNNKit call for an ONNX node.
    ///
    /// - Parameters:
    ///   - op: ONNX operator type, e.g. `"Conv"`.
    ///   - opset: the opset of the operator definition.
    ///   - domain: the node's domain; `""` and `"ai.onnx"` are the default domain, the only one supported.
    ///   - attributes: the node's attributes as JSON values.
    ///   - inputs: tensors by positional input slot (`nil` = absent optional input). Shape-like inputs (Resize
    ///     `scales` / `sizes` / `roi`, Upsample `scales`, Col2Im `image_shape` / `block_shape`, MaxUnpool
    ///     `output_shape`) are read here; data inputs are only type-checked.
    ///   - outputCount: how many output slots the caller wants (2 asks MaxPool for `Indices`).
    /// - Throws: ``ConformanceError/unsupported(_:)`` as described on ``ONNXMapping``.
    public static func map(
        op: String, opset: Int, domain: String? = "", attributes: [String: JSONValue], inputs: [CaseTensor?],
        outputCount: Int = 1
    ) throws -> MappedOperator {
        guard domain == nil || domain == "" || domain == "ai.onnx" else {
            throw ConformanceError.unsupported("domain \"\(domain!)\" (only the default ONNX domain is mapped)")
        }
        var a = AttributeReader(op: op, opset: opset, attributes: attributes)
        let x = InputReader(op: op, opset: opset, tensors: inputs)
        let mapped: MappedOperator
        switch op {
        case "Conv":
            try x.arity(2...3)
            _ = try x.float(0, "X"); _ = try x.float(1, "W"); _ = try x.optionalFloat(2, "B")
            mapped = .convolution(ConvolutionDescriptor(
                kernelShape: try a.ints("kernel_shape"), strides: try a.ints("strides"), pads: try a.ints("pads"),
                autoPad: try a.choice("auto_pad", default: AutoPad.notSet), dilations: try a.ints("dilations"),
                group: try a.int("group", default: 1)))
        case "ConvTranspose":
            try x.arity(2...3)
            _ = try x.float(0, "X"); _ = try x.float(1, "W"); _ = try x.optionalFloat(2, "B")
            mapped = .convTranspose(ConvTransposeDescriptor(
                kernelShape: try a.ints("kernel_shape"), strides: try a.ints("strides"), pads: try a.ints("pads"),
                outputPadding: try a.ints("output_padding"), outputShape: try a.ints("output_shape"),
                autoPad: try a.choice("auto_pad", default: AutoPad.notSet), dilations: try a.ints("dilations"),
                group: try a.int("group", default: 1)))
        case "Col2Im":
            try x.require(opset: 18)
            try x.arity(3...3)
            _ = try x.float(0, "input")
            mapped = .col2im(Col2ImDescriptor(
                imageShape: try x.intList(1, "image_shape"), blockShape: try x.intList(2, "block_shape"),
                strides: try a.ints("strides"), pads: try a.ints("pads"), dilations: try a.ints("dilations")))
        case "MaxPool", "AveragePool", "LpPool":
            try x.arity(1...1)
            _ = try x.float(0, "X")
            let kind: PoolingKind
            switch op {
            case "MaxPool":
                try x.require(opset: 8)
                kind = .max
            case "AveragePool":
                kind = .average(countIncludePad: try a.flag("count_include_pad"))
            default:
                kind = .lp(p: try a.float("p", default: 2))
            }
            var descriptor = PoolingDescriptor(
                kind: kind, kernelShape: try a.ints("kernel_shape", required: true), strides: try a.ints("strides"),
                pads: try a.ints("pads"), autoPad: try a.choice("auto_pad", default: AutoPad.notSet),
                dilations: try a.ints("dilations"), ceilMode: try a.flag("ceil_mode"))
            if op == "MaxPool" {
                let order = try a.int("storage_order", default: 0)
                guard let storage = StorageOrder(rawValue: order) else {
                    throw CNNKitError(kind: .invalidArgument, parameter: "storage_order", value: "\(order)", expected: "0 or 1", problem: op)
                }
                descriptor.storageOrder = storage
            }
            mapped = .pooling(descriptor, indices: op == "MaxPool" && outputCount >= 2)
        case "GlobalMaxPool", "GlobalAveragePool", "GlobalLpPool":
            try x.arity(1...1)
            _ = try x.float(0, "X")
            let kind: PoolingKind
            switch op {
            case "GlobalMaxPool": kind = .max
            case "GlobalAveragePool": kind = .average(countIncludePad: false)
            default: kind = .lp(p: try a.float("p", default: 2))
            }
            mapped = .pooling(.global(kind), indices: false)
        case "MaxUnpool":
            try x.require(opset: 9)
            try x.arity(2...3)
            _ = try x.float(0, "X"); _ = try x.int64(1, "I")
            mapped = .maxUnpool(MaxUnpoolDescriptor(
                kernelShape: try a.ints("kernel_shape", required: true), strides: try a.ints("strides"),
                pads: try a.ints("pads"), outputShape: try x.optionalIntList(2, "output_shape") ?? []))
        case "DepthToSpace", "SpaceToDepth":
            try x.arity(1...1)
            _ = try x.float(0, "input")
            let direction: PixelShuffleDescriptor.Direction = op == "DepthToSpace" ? .depthToSpace : .spaceToDepth
            let modeOpset = op == "DepthToSpace" ? 11 : 28
            let mode = opset >= modeOpset ? try a.choice("mode", default: PixelShuffleMode.dcr) : .dcr
            mapped = .pixelShuffle(PixelShuffleDescriptor(
                direction, blockSize: try a.int("blocksize", required: true), mode: mode))
        case "Resize":
            mapped = .resize(try resizeDescriptor(&a, x))
        case "Upsample":
            mapped = .resize(try upsampleDescriptor(&a, x))
        case "Pad":
            mapped = .pad(try padDescriptor(&a, x))
        default:
            throw ConformanceError.unsupported(
                "operator \(op) (mapped operators: \(supportedOps.joined(separator: ", ")))")
        }
        try a.rejectUnread()
        return mapped
    }

    /// Maps and runs a case's node on `inputs` (as loaded by ``ConformanceCase/loadInputs(from:)``).
    /// - Returns: one tensor per output slot the case lists (at least one).
    /// - Throws: ``ConformanceError`` when the node cannot be mapped, ``CNNKitError`` when CNNKit rejects it.
    public static func run(
        _ testCase: ConformanceCase, inputs: [CaseTensor?], backend: BackendSelection
    ) throws -> [CaseTensor] {
        let mapped = try map(
            op: testCase.op, opset: testCase.opset, domain: testCase.domain, attributes: testCase.attributes,
            inputs: inputs, outputCount: max(testCase.outputs.count, 1))
        return try run(mapped, inputs: inputs, backend: backend)
    }

    /// Runs a mapped operator on positional ONNX inputs.
    /// - Returns: the outputs in ONNX slot order: `[Y]`, or `[Y, Indices]` for pooling with indices.
    /// - Throws: ``ConformanceError/unsupported(_:)`` when a data input is missing or mistyped, and whatever
    ///   ``CNNKitError`` the CNNKit function throws.
    public static func run(_ mapped: MappedOperator, inputs: [CaseTensor?], backend: BackendSelection) throws -> [CaseTensor] {
        let x = InputReader(op: mapped.name, opset: 0, tensors: inputs)
        switch mapped {
        case .convolution(let descriptor):
            return [.float32(try convolution(
                x.float(0, "X"), weight: x.float(1, "W"), bias: x.optionalFloat(2, "B"), descriptor, backend: backend))]
        case .convTranspose(let descriptor):
            return [.float32(try convTranspose(
                x.float(0, "X"), weight: x.float(1, "W"), bias: x.optionalFloat(2, "B"), descriptor, backend: backend))]
        case .col2im(let descriptor):
            return [.float32(try col2im(x.float(0, "input"), descriptor, backend: backend))]
        case .pooling(let descriptor, let indices):
            if indices {
                let (output, argmax) = try poolingWithIndices(x.float(0, "X"), descriptor, backend: backend)
                return [.float32(output), .int64(argmax)]
            }
            return [.float32(try pooling(x.float(0, "X"), descriptor, backend: backend))]
        case .resize(let descriptor):
            return [.float32(try resize(x.float(0, "X"), descriptor, backend: backend))]
        case .pixelShuffle(let descriptor):
            return [.float32(try pixelShuffle(x.float(0, "input"), descriptor, backend: backend))]
        case .maxUnpool(let descriptor):
            return [.float32(try maxUnpool(x.float(0, "X"), indices: x.int64(1, "I"), descriptor, backend: backend))]
        case .pad(let descriptor):
            return [.float32(try pad(x.float(0, "data"), descriptor, backend: backend))]
        }
    }

    /// Pad-2 … 19: attributes `mode`, and `pads` / `value` before opset 11; inputs data, pads, constant_value, axes.
    private static func padDescriptor(_ a: inout AttributeReader, _ x: InputReader) throws -> PadDescriptor {
        try x.require(opset: 2)
        let modes = x.opset >= 19 ? ["constant", "reflect", "edge", "wrap"] : ["constant", "reflect", "edge"]
        let text = try a.string("mode", default: "constant")
        guard modes.contains(text), let mode = BorderMode(rawValue: text) else {
            throw CNNKitError(kind: .invalidArgument, parameter: "mode", value: "\"\(text)\"",
                              expected: "one of \(modes.map { "\"\($0)\"" }.joined(separator: ", ")) (Pad-\(x.opset))", problem: "Pad")
        }
        _ = try x.float(0, "data")
        if x.opset < 11 {
            try x.arity(1...1)
            return PadDescriptor(mode: mode, pads: try a.ints("pads", required: true), constantValue: try a.float("value", default: 0))
        }
        try x.arity(2...(x.opset >= 18 ? 4 : 3))
        var value: Float = 0
        if let constant = try x.optionalFloat(2, "constant_value") {
            guard constant.count <= 1 else {
                throw ConformanceError.unsupported("Pad: input 2 (constant_value) has shape \(constant.shape); expected a scalar")
            }
            value = constant.scalars.first ?? 0
        }
        return PadDescriptor(mode: mode, pads: try x.intList(1, "pads"), constantValue: value,
                             axes: x.opset >= 18 ? try x.optionalIntList(3, "axes") : nil)
    }

    /// Resize-11 … 19: inputs X, roi, scales, sizes.
    private static func resizeDescriptor(_ a: inout AttributeReader, _ x: InputReader) throws -> ResizeDescriptor {
        try x.require(opset: 11)
        try x.arity(1...4)
        _ = try x.float(0, "X")
        let roi = try x.optionalFloat(1, "roi")?.scalars ?? []
        let scales = try x.optionalFloat(2, "scales")?.scalars ?? []
        let sizes = try x.optionalIntList(3, "sizes") ?? []
        let target: ResizeTarget
        switch (scales.isEmpty, sizes.isEmpty) {
        case (false, true): target = .scales(scales)
        case (true, false): target = .sizes(sizes)
        case (false, false):
            throw CNNKitError(kind: .invalidArgument, parameter: "scales", value: "\(scales) with sizes \(sizes)", expected: "scales or sizes, not both", problem: "Resize")
        case (true, true):
            throw CNNKitError(kind: .invalidArgument, parameter: "scales", value: "absent, and sizes absent", expected: "scales or sizes", problem: "Resize")
        }
        let mode = try a.choice("mode", default: ResizeMode.nearest)
        // CNNKit's own filters (area, box, hamming, lanczos3) are not ONNX Resize modes.
        guard mode.isONNX else {
            throw CNNKitError(kind: .invalidArgument, parameter: "mode", value: "\"\(mode.rawValue)\"",
                              expected: "one of \"nearest\", \"linear\", \"cubic\" (ONNX Resize)", problem: "Resize")
        }
        var descriptor = ResizeDescriptor(
            target: target, mode: mode,
            coordinateTransformation: try a.choice("coordinate_transformation_mode", default: CoordinateTransformation.halfPixel),
            nearestMode: try a.choice("nearest_mode", default: NearestMode.roundPreferFloor),
            cubicCoefficientA: try a.float("cubic_coeff_a", default: -0.75),
            excludeOutside: try a.flag("exclude_outside"),
            extrapolationValue: try a.float("extrapolation_value", default: 0))
        if x.opset >= 18 {
            descriptor.antialias = try a.flag("antialias")
            descriptor.axes = try a.ints("axes")
            descriptor.keepAspectRatioPolicy = try a.choice("keep_aspect_ratio_policy", default: KeepAspectRatioPolicy.stretch)
        }
        // ONNX: roi "only takes effect when coordinate_transformation_mode is tf_crop_and_resize".
        if descriptor.coordinateTransformation == .tfCropAndResize { descriptor.roi = roi }
        return descriptor
    }

    /// Upsample-7 (`scales` attribute) and Upsample-9 (`scales` input): Resize with `floor(L·scale)` outputs,
    /// asymmetric coordinates (`x / scale`) and, for `nearest`, `floor` rounding (Upsample repeats each input
    /// element `scale` times).
    private static func upsampleDescriptor(_ a: inout AttributeReader, _ x: InputReader) throws -> ResizeDescriptor {
        guard (7...9).contains(x.opset) else {
            throw ConformanceError.unsupported("Upsample-\(x.opset) (mapped: opsets 7 to 9; Upsample was removed in opset 10)")
        }
        let scales: [Float]
        if x.opset >= 9 {
            try x.arity(2...2)
            scales = try x.float(1, "scales").scalars
        } else {
            try x.arity(1...1)
            scales = try a.floats("scales", required: true)
        }
        _ = try x.float(0, "X")
        let mode = try a.string("mode", default: "nearest")
        switch mode {
        case "nearest":
            return .upsample(scales: scales, mode: .nearest)
        case "linear":
            return .upsample(scales: scales, mode: .linear)
        default:
            throw CNNKitError(kind: .invalidArgument, parameter: "mode", value: mode, expected: "nearest or linear", problem: "Upsample")
        }
    }
}

/// Reads ONNX attributes with their defaults and remembers which were read, so that unknown ones are reported.
struct AttributeReader {
    let op: String
    let opset: Int
    let attributes: [String: JSONValue]
    private var read: Set<String> = []

    init(op: String, opset: Int, attributes: [String: JSONValue]) {
        self.op = op
        self.opset = opset
        self.attributes = attributes
    }

    /// An attribute value outside its ONNX domain is invalid operator input, rejected like CNNKit's own validation.
    private func fail(_ name: String, _ value: JSONValue, _ expected: String) -> CNNKitError {
        CNNKitError(kind: .invalidArgument, parameter: name, value: "\(value)", expected: expected, problem: "\(op)-\(opset)")
    }

    private mutating func value(_ name: String, required: Bool) throws -> JSONValue? {
        read.insert(name)
        guard let value = attributes[name], value != .null else {
            if required {
                throw CNNKitError(kind: .invalidArgument, parameter: name, value: "absent", expected: "a value (required)", problem: "\(op)-\(opset)")
            }
            return nil
        }
        return value
    }

    /// An int attribute.
    mutating func int(_ name: String, default fallback: Int = 0, required: Bool = false) throws -> Int {
        guard let value = try value(name, required: required) else { return fallback }
        guard let result = value.intValue else { throw fail(name, value, "an integer") }
        return result
    }

    /// A 0/1 int attribute as a Bool.
    mutating func flag(_ name: String) throws -> Bool {
        guard let value = try value(name, required: false) else { return false }
        switch value.intValue {
        case 0: return false
        case 1: return true
        default: throw fail(name, value, "0 or 1")
        }
    }

    /// A float attribute (ints accepted, as ONNX exporters sometimes write them).
    mutating func float(_ name: String, default fallback: Float) throws -> Float {
        guard let value = try value(name, required: false) else { return fallback }
        guard let result = value.floatValue else { throw fail(name, value, "a number") }
        return result
    }

    /// A list-of-ints attribute; absent = `[]` (the descriptors' "ONNX default" marker).
    mutating func ints(_ name: String, required: Bool = false) throws -> [Int] {
        guard let value = try value(name, required: required) else { return [] }
        guard let items = value.arrayValue else { throw fail(name, value, "a list of integers") }
        return try items.map { item in
            guard let result = item.intValue else { throw fail(name, value, "a list of integers") }
            return result
        }
    }

    /// A list-of-floats attribute; absent = `[]`.
    mutating func floats(_ name: String, required: Bool = false) throws -> [Float] {
        guard let value = try value(name, required: required) else { return [] }
        guard let items = value.arrayValue else { throw fail(name, value, "a list of numbers") }
        return try items.map { item in
            guard let result = item.floatValue else { throw fail(name, value, "a list of numbers") }
            return result
        }
    }

    /// A string attribute.
    mutating func string(_ name: String, default fallback: String) throws -> String {
        guard let value = try value(name, required: false) else { return fallback }
        guard let result = value.stringValue else { throw fail(name, value, "a string") }
        return result
    }

    /// A string attribute naming a case of a CNNKit enum whose raw values are the ONNX spellings.
    mutating func choice<E: RawRepresentable & CaseIterable>(_ name: String, default fallback: E) throws -> E
    where E.RawValue == String {
        let text = try string(name, default: fallback.rawValue)
        guard let result = E(rawValue: text) else {
            throw fail(name, .string(text), "one of " + E.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))
        }
        return result
    }

    /// Throws when the node has an attribute the mapping never read (one the operator does not have at this opset).
    func rejectUnread() throws {
        let unknown = attributes.keys.filter { !read.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw ConformanceError.unsupported(
                "\(op)-\(opset): unknown attribute\(unknown.count > 1 ? "s" : "") \(unknown.joined(separator: ", "))")
        }
    }
}

/// Typed access to positional ONNX inputs, with clear errors for missing or mistyped slots.
struct InputReader {
    let op: String
    let opset: Int
    let tensors: [CaseTensor?]

    func require(opset minimum: Int) throws {
        guard opset >= minimum else {
            throw ConformanceError.unsupported("\(op)-\(opset) (mapped from opset \(minimum))")
        }
    }

    /// The number of input slots must lie in `range` (trailing absent slots are ignored).
    func arity(_ range: ClosedRange<Int>) throws {
        var count = tensors.count
        while count > 0, tensors[count - 1] == nil { count -= 1 }
        guard count <= range.upperBound, tensors.count >= range.lowerBound else {
            throw ConformanceError.unsupported("\(op)-\(opset): \(tensors.count) inputs; expected \(range.lowerBound) to \(range.upperBound)")
        }
    }

    private func slot(_ index: Int) -> CaseTensor? { index < tensors.count ? tensors[index] : nil }

    func optionalFloat(_ index: Int, _ name: String) throws -> Tensor? {
        switch slot(index) {
        case nil: return nil
        case .float32(let tensor): return tensor
        case .int64: throw ConformanceError.unsupported("\(op): input \(index) (\(name)) is int64; expected float32")
        }
    }

    func float(_ index: Int, _ name: String) throws -> Tensor {
        guard let tensor = try optionalFloat(index, name) else {
            throw ConformanceError.unsupported("\(op): missing required input \(index) (\(name))")
        }
        return tensor
    }

    func optionalInt64(_ index: Int, _ name: String) throws -> IndexTensor? {
        switch slot(index) {
        case nil: return nil
        case .int64(let tensor): return tensor
        case .float32: throw ConformanceError.unsupported("\(op): input \(index) (\(name)) is float32; expected int64")
        }
    }

    func int64(_ index: Int, _ name: String) throws -> IndexTensor {
        guard let tensor = try optionalInt64(index, name) else {
            throw ConformanceError.unsupported("\(op): missing required input \(index) (\(name))")
        }
        return tensor
    }

    /// A 1-D int64 input read as `[Int]`, or `nil` when absent.
    func optionalIntList(_ index: Int, _ name: String) throws -> [Int]? {
        guard let tensor = try optionalInt64(index, name) else { return nil }
        guard tensor.rank == 1 else {
            throw ConformanceError.unsupported("\(op): input \(index) (\(name)) has shape \(tensor.shape); expected 1-D")
        }
        return tensor.scalars.map { Int($0) }
    }

    func intList(_ index: Int, _ name: String) throws -> [Int] {
        guard let list = try optionalIntList(index, name) else {
            throw ConformanceError.unsupported("\(op): missing required input \(index) (\(name))")
        }
        return list
    }
}
