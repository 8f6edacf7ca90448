import CNNKit
import Foundation

/// A benchmark suite: real network layers and image operations with ONNX operator types and attributes and their
/// work counts (the format of `Sources/CNNKitBench/Resources/suite.json`, schema version 1).
public struct BenchSuite: Sendable, Decodable {
    public let schemaVersion: Int
    public let description: String
    public let cases: [BenchCase]

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case description, cases
    }

    /// The suite bundled with CNNKit (embedded in the binary, so it works from an installed `cnnkit` too).
    public static func bundled() throws -> BenchSuite {
        try BenchSuite(json: Data(PackageResources.suite_json))
    }

    /// The bundled suite's JSON text.
    public static var bundledJSON: String { String(decoding: PackageResources.suite_json, as: UTF8.self) }

    /// Reads a suite file.
    public init(contentsOf url: URL) throws {
        try self.init(json: try Data(contentsOf: url))
    }

    public init(json: Data) throws {
        self = try JSONDecoder().decode(BenchSuite.self, from: json)
        guard schemaVersion == 1 else {
            throw BenchError("suite schema_version \(schemaVersion) is not supported (expected 1)")
        }
    }
}

/// One suite case: an ONNX operator with its attributes, shapes and work counts.
public struct BenchCase: Sendable, Decodable {
    public let name: String
    /// `conv`, `pool` or `resample`.
    public let family: String
    /// ONNX operator type: `Conv`, `MaxPool`, `AveragePool`, `GlobalAveragePool`, `GlobalMaxPool`, `LpPool`, `Resize`.
    public let op: String
    public let source: String?
    public let attributes: [String: AttributeValue]
    public let inputShape: [Int]
    public let weightShape: [Int]?
    public let outputShape: [Int]
    /// Resize's `roi`, `scales` and `sizes` inputs.
    public let onnxInputs: OnnxInputs?
    public let macs: Int?
    /// conv: 2·MACs of the direct algorithm; pool: outputs·window; resample: nil.
    public let flops: Int?
    /// Compulsory traffic: each input, weight and output tensor counted once (float32).
    public let bytes: Int?
    /// `flops` or `bytes`: what a time is rated against (GFLOP/s or GB/s).
    public let metric: String
    public let notes: String?
    /// conv only: `forward` (nil), or a backward pass from X, W and dL/dY: `backward` (dL/dX and dL/dW),
    /// `backward_data` (dL/dX), `backward_weights` (dL/dW). `macs` then counts the direct algorithm's MACs of each
    /// gradient computed (each is one forward convolution's).
    public let pass: String?

    enum CodingKeys: String, CodingKey {
        case name, family, op, source, attributes, macs, flops, bytes, metric, notes, pass
        case inputShape = "input_shape", weightShape = "weight_shape", outputShape = "output_shape"
        case onnxInputs = "onnx_inputs"
    }

    public struct OnnxInputs: Sendable, Decodable {
        public let roi: [Float]?
        public let scales: [Float]?
        public let sizes: [Int]?
    }

    /// An ONNX attribute value as the suite writes it.
    public enum AttributeValue: Sendable, Decodable, Equatable {
        case int(Int)
        case float(Double)
        case string(String)
        case ints([Int])
        case floats([Double])

        public init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Int.self) {
                self = .int(value)
            } else if let value = try? container.decode(Double.self) {
                self = .float(value)
            } else if let value = try? container.decode(String.self) {
                self = .string(value)
            } else if let value = try? container.decode([Int].self) {
                self = .ints(value)
            } else if let value = try? container.decode([Double].self) {
                self = .floats(value)
            } else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "unsupported attribute value")
            }
        }
    }

    /// The gradients a backward case computes, nil for a forward case.
    /// - Throws: ``BenchError`` for an unknown `pass` or a backward pass outside family conv.
    public func backwardGradients() throws -> ConvolutionGradients? {
        let gradients: ConvolutionGradients?
        switch pass ?? "forward" {
        case "forward": gradients = nil
        case "backward": gradients = [.input, .weight]
        case "backward_data": gradients = .input
        case "backward_weights": gradients = .weight
        default: throw BenchError("\(name): pass \(pass ?? "") is not forward, backward, backward_data or backward_weights")
        }
        if gradients != nil && family != "conv" { throw BenchError("\(name): a backward pass is benchmarked for family conv only") }
        return gradients
    }

    /// Whether rates are GFLOP/s (`flops`) rather than GB/s (`bytes`).
    public var ratesFlops: Bool { metric == "flops" }

    /// FLOP per second over `seconds` in GFLOP/s, when the case has a FLOP count.
    public func gflops(seconds: Double) -> Double? {
        guard let flops, seconds > 0 else { return nil }
        return Double(flops) / seconds * 1e-9
    }

    /// Bytes per second over `seconds` in GB/s (1e9 B/s), when the case has a byte count.
    public func gbs(seconds: Double) -> Double? {
        guard let bytes, seconds > 0 else { return nil }
        return Double(bytes) / seconds * 1e-9
    }

    /// FLOP per byte of compulsory traffic, when both are known.
    public var arithmeticIntensity: Double? {
        guard let flops, let bytes, bytes > 0 else { return nil }
        return Double(flops) / Double(bytes)
    }

    func int(_ key: String, default value: Int) -> Int {
        switch attributes[key] {
        case .int(let v): return v
        case .float(let v): return Int(v)
        default: return value
        }
    }

    func float(_ key: String, default value: Double) -> Double {
        switch attributes[key] {
        case .int(let v): return Double(v)
        case .float(let v): return v
        default: return value
        }
    }

    func ints(_ key: String) -> [Int] {
        if case .ints(let v) = attributes[key] { return v }
        return []
    }

    func string(_ key: String, default value: String) -> String {
        if case .string(let v) = attributes[key] { return v }
        return value
    }
}

/// A benchmark-harness error with a message for the user.
public struct BenchError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
