// Times every suite case (or those whose name contains a filter) on one backend and prints ms and GFLOP/s or GB/s
// against the suite's work counts. Best of several runs, each repeated until it lasts >= 20 ms.
import CNNKit
import Foundation

struct Suite: Decodable {
    struct Case: Decodable {
        let name: String, op: String
        let attributes: [String: Attribute]
        let input_shape: [Int]
        let weight_shape: [Int]?
        let flops: Double?, bytes: Double
        let metric: String
        let onnx_inputs: [String: [Double]]?
    }
    let cases: [Case]
}

enum Attribute: Decodable {
    case int(Int), ints([Int]), double(Double), string(String)
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode(Int.self) { self = .int(v) }
        else if let v = try? c.decode([Int].self) { self = .ints(v) }
        else if let v = try? c.decode(Double.self) { self = .double(v) }
        else { self = .string(try c.decode(String.self)) }
    }
    var ints: [Int] { if case .ints(let v) = self { return v }; return [] }
    var int: Int { if case .int(let v) = self { return v }; return 0 }
    var double: Double { switch self { case .double(let v): return v; case .int(let v): return Double(v); default: return 0 } }
    var string: String { if case .string(let v) = self { return v }; return "" }
}

var arguments = Array(CommandLine.arguments.dropFirst())
@MainActor func option(_ name: String) -> String? {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    defer { arguments.removeSubrange(i...i + 1) }
    return arguments[i + 1]
}
let backendName = option("--backend") ?? "c"
let threads = option("--threads").flatMap(Int.init)
let algorithm = option("--algorithm").flatMap(CBackend.ConvolutionAlgorithm.init(rawValue:))
let path = arguments.first ?? "../../../shared/bench/suite.json"
let filter = arguments.dropFirst().first ?? ""
if backendName == "c" { BackendRegistry.shared.register(CBackend(threads: threads, algorithm: algorithm)) }
let backend = BackendSelection(backendName)

func random(_ shape: [Int]) -> Tensor {
    var state: UInt32 = 12345
    return try! Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in
        state = state &* 1_664_525 &+ 1_013_904_223
        return Float(state >> 8) / Float(1 << 24) - 0.5
    })
}

/// Best seconds per call of `body`.
func time(_ body: () throws -> Void) rethrows -> Double {
    try body()
    var reps = 1, best = Double.infinity
    for _ in 0..<7 {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<reps { try body() }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        best = min(best, seconds / Double(reps))
        if seconds < 0.02 { reps *= 2 }
    }
    return best
}

let suite = try JSONDecoder().decode(Suite.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
print("backend \(backendName), threads \(threads.map(String.init) ?? "default")")
for c in suite.cases where filter.isEmpty || c.name.contains(filter) {
    let a = c.attributes
    let x = random(c.input_shape)
    let seconds: Double
    var detail = ""
    switch c.op {
    case "Conv":
        let w = random(c.weight_shape!)
        let plan = try ConvolutionPlan(
            ConvolutionDescriptor(kernelShape: a["kernel_shape"]?.ints ?? [], strides: a["strides"]?.ints ?? [],
                                  pads: a["pads"]?.ints ?? [], dilations: a["dilations"]?.ints ?? [], group: a["group"]?.int ?? 1),
            inputShape: x.shape, weightShape: w.shape, backend: backend)
        var y = try Tensor(shape: plan.problem.outputShape)
        seconds = try time { try plan.run(input: x, weight: w, into: &y) }
        if let cb = plan.backend as? CBackend { detail = (cb.algorithm == .automatic ? cb.chooseAlgorithm(for: plan.problem) : cb.algorithm).rawValue }
    case "MaxPool", "AveragePool", "GlobalAveragePool":
        let kind: PoolingKind = c.op == "MaxPool" ? .max : .average(countIncludePad: (a["count_include_pad"]?.int ?? 0) == 1)
        let descriptor = c.op.hasPrefix("Global") ? PoolingDescriptor.global(kind) : PoolingDescriptor(
            kind: kind, kernelShape: a["kernel_shape"]!.ints, strides: a["strides"]?.ints ?? [], pads: a["pads"]?.ints ?? [],
            ceilMode: (a["ceil_mode"]?.int ?? 0) == 1)
        let plan = try PoolingPlan(descriptor, inputShape: x.shape, backend: backend)
        var y = try Tensor(shape: plan.problem.outputShape)
        var none: IndexTensor? = nil
        seconds = try time { try plan.run(input: x, into: &y, indices: &none) }
    case "Resize":
        let inputs = c.onnx_inputs ?? [:]
        let target: ResizeTarget = (inputs["scales"] ?? []).isEmpty
            ? .sizes((inputs["sizes"] ?? []).map { Int($0) }) : .scales(inputs["scales"]!.map { Float($0) })
        let descriptor = ResizeDescriptor(
            target: target, mode: ResizeMode(rawValue: a["mode"]!.string)!,
            coordinateTransformation: CoordinateTransformation(rawValue: a["coordinate_transformation_mode"]!.string)!,
            nearestMode: NearestMode(rawValue: a["nearest_mode"]?.string ?? "round_prefer_floor")!,
            cubicCoefficientA: Float(a["cubic_coeff_a"]?.double ?? -0.75), excludeOutside: a["exclude_outside"]?.int == 1,
            antialias: a["antialias"]?.int == 1)
        let plan = try ResizePlan(descriptor, inputShape: x.shape, backend: backend)
        var y = try Tensor(shape: plan.problem.outputShape)
        seconds = try time { try plan.run(input: x, into: &y) }
    default:
        continue
    }
    let rate = c.metric == "flops" ? "\(String(format: "%7.1f", c.flops! / seconds / 1e9)) GFLOP/s" : "\(String(format: "%7.1f", c.bytes / seconds / 1e9)) GB/s"
    print("\(c.name.padding(toLength: 32, withPad: " ", startingAt: 0)) \(String(format: "%9.3f", seconds * 1e3)) ms  \(rate)  \(detail)")
}
