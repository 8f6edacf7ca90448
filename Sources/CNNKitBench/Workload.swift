import CNNKit

/// One suite case planned on one backend, with preallocated, randomly filled tensors: ``run()`` executes the plan
/// into the same output every time and allocates nothing of its own.
public final class Workload: @unchecked Sendable {
    /// The case's canonical problem string (``ConvolutionProblem/description`` etc.).
    public let problem: String
    public let backendName: String
    /// The algorithm the backend reports for this problem (``ConfigurableBackend``), `naive` for the reference
    /// backend, `default` when the backend does not say.
    public let algorithm: String
    /// Whether an `--algorithm` request was handed to the backend.
    public let algorithmForced: Bool
    /// Workspace the backend reports for one run (``WorkspaceReporting``), else 0.
    public let workspaceBytes: Int
    /// Bytes of the preallocated input, weight and output tensors.
    public let tensorBytes: Int
    /// Work of the full case divided by the work of this workload: 1, or more for a channel-reduced probe.
    public let workScale: Double
    private let body: () -> Void

    /// Runs the plan once.
    public func run() { body() }

    init(problem: String, backendName: String, algorithm: String, algorithmForced: Bool, workspaceBytes: Int,
         tensorBytes: Int, workScale: Double, body: @escaping () -> Void) {
        self.problem = problem
        self.backendName = backendName
        self.algorithm = algorithm
        self.algorithmForced = algorithmForced
        self.workspaceBytes = workspaceBytes
        self.tensorBytes = tensorBytes
        self.workScale = workScale
        self.body = body
    }

    /// Plans `benchCase` on the backend registered as `backend`.
    ///
    /// - Parameters:
    ///   - threads: handed to a ``ConfigurableBackend`` (`nil`: its default).
    ///   - algorithm: a convolution algorithm for a ``ConfigurableBackend``; ignored for pooling and resampling.
    ///   - channelLimit: plan a smaller problem of the same geometry: batch 1 and at most this many output channels
    ///     (convolution with group 1), groups (grouped convolution) or channels (pooling, resampling). The
    ///     case's cost is then about ``workScale`` × this workload's; used to estimate slow backends' times.
    /// - Throws: ``BenchError`` when the backend does not exist or cannot take `algorithm`; ``CNNKitError`` when
    ///   the backend declines the problem or the case is malformed.
    public static func make(
        _ benchCase: BenchCase, backend: String, threads: Int? = nil, algorithm: String? = nil,
        channelLimit: Int? = nil, registry: BackendRegistry = .shared
    ) throws -> Workload {
        guard let base = registry.backend(named: backend) else {
            throw BenchError("no backend named \(backend) (registered: \(registry.names.joined(separator: ", ")))")
        }
        let isConv = benchCase.family == "conv"
        let convAlgorithm = isConv ? algorithm : nil
        var chosen: any Backend = base
        if let configurable = base as? any ConfigurableBackend {
            if let convAlgorithm, !configurable.convolutionAlgorithms.contains(convAlgorithm) {
                throw BenchError(
                    "backend \(backend) has no algorithm \(convAlgorithm) (it has: "
                        + "\(configurable.convolutionAlgorithms.isEmpty ? "none to choose" : configurable.convolutionAlgorithms.joined(separator: ", ")))")
            }
            if threads != nil || convAlgorithm != nil {
                chosen = try configurable.configured(threads: threads, convolutionAlgorithm: convAlgorithm)
            }
        } else if let convAlgorithm, !(base is ReferenceBackend) {
            throw BenchError("backend \(backend) takes no algorithm choice (it does not adopt ConfigurableBackend); --algorithm \(convAlgorithm) is unsupported")
        }
        let planRegistry = BackendRegistry([chosen])
        let selection = BackendSelection.named(chosen.name)
        var random = SplitMix64(seed: 0x5eed_c0de)

        switch benchCase.family {
        case "conv":
            guard let weightShapeFull = benchCase.weightShape else { throw BenchError("\(benchCase.name): conv case without weight_shape") }
            var descriptor = try convolutionDescriptor(benchCase)
            var inputShape = benchCase.inputShape, weightShape = weightShapeFull
            var scale = 1.0
            if let limit = channelLimit {
                (inputShape, weightShape, scale) = reducedConvolution(inputShape, weightShape, group: descriptor.group, limit: max(1, limit))
                if descriptor.group > 1 { descriptor.group = min(descriptor.group, max(1, limit)) }
            }
            let plan = try ConvolutionPlan(descriptor, inputShape: inputShape, weightShape: weightShape, backend: selection, registry: planRegistry)
            try checkOutput(benchCase, plan.problem.outputShape, reduced: channelLimit != nil)
            let input = try randomTensor(inputShape, &random)
            let weight = try randomTensor(weightShape, &random)
            let box = Box(try Tensor(shape: plan.problem.outputShape))
            let algorithmName: String
            if let configurable = plan.backend as? any ConfigurableBackend {
                algorithmName = configurable.convolutionAlgorithm(for: plan.problem)
            } else {
                algorithmName = plan.backend is ReferenceBackend ? "naive" : "default"
            }
            let workspace = (plan.backend as? any WorkspaceReporting)?.workspaceBytes(for: plan.problem) ?? 0
            return Workload(
                problem: plan.problem.description, backendName: backend, algorithm: algorithmName,
                algorithmForced: convAlgorithm != nil && plan.backend is any ConfigurableBackend,
                workspaceBytes: workspace, tensorBytes: 4 * (input.count + weight.count + box.value.count),
                workScale: scale
            ) {
                try? plan.run(input: input, weight: weight, into: &box.value)
            }
        case "pool":
            let descriptor = try poolingDescriptor(benchCase)
            var inputShape = benchCase.inputShape
            var scale = 1.0
            if let limit = channelLimit { (inputShape, scale) = reducedChannels(inputShape, limit: max(1, limit)) }
            let plan = try PoolingPlan(descriptor, inputShape: inputShape, backend: selection, registry: planRegistry)
            try checkOutput(benchCase, plan.problem.outputShape, reduced: channelLimit != nil)
            let input = try randomTensor(inputShape, &random)
            let box = Box(try Tensor(shape: plan.problem.outputShape))
            let workspace = (plan.backend as? any WorkspaceReporting)?.workspaceBytes(for: plan.problem) ?? 0
            return Workload(
                problem: plan.problem.description, backendName: backend,
                algorithm: plan.backend is ReferenceBackend ? "naive" : "default", algorithmForced: false,
                workspaceBytes: workspace, tensorBytes: 4 * (input.count + box.value.count), workScale: scale
            ) {
                var none: IndexTensor? = nil
                try? plan.run(input: input, into: &box.value, indices: &none)
            }
        case "resample":
            var inputShape = benchCase.inputShape
            var scale = 1.0
            var reducedTo: (batch: Int, channels: Int)? = nil
            if let limit = channelLimit {
                (inputShape, scale) = reducedChannels(inputShape, limit: max(1, limit))
                reducedTo = (inputShape[0], inputShape.count > 1 ? inputShape[1] : 1)
            }
            let descriptor = try resizeDescriptor(benchCase, reducedTo: reducedTo)
            let plan = try ResizePlan(descriptor, inputShape: inputShape, backend: selection, registry: planRegistry)
            try checkOutput(benchCase, plan.problem.outputShape, reduced: channelLimit != nil)
            let input = try randomTensor(inputShape, &random)
            let box = Box(try Tensor(shape: plan.problem.outputShape))
            let workspace = (plan.backend as? any WorkspaceReporting)?.workspaceBytes(for: plan.problem) ?? 0
            return Workload(
                problem: plan.problem.description, backendName: backend,
                algorithm: plan.backend is ReferenceBackend ? "naive" : "default", algorithmForced: false,
                workspaceBytes: workspace, tensorBytes: 4 * (input.count + box.value.count), workScale: scale
            ) {
                try? plan.run(input: input, into: &box.value)
            }
        default:
            throw BenchError("\(benchCase.name): unknown family \(benchCase.family) (expected conv, pool or resample)")
        }
    }

    /// The channel limit that makes a probe of `benchCase` cost about `targetFlops` (at least one channel).
    public static func probeChannelLimit(_ benchCase: BenchCase, targetFlops: Double = 4e6) -> Int {
        guard benchCase.family == "conv", let weight = benchCase.weightShape, let flops = benchCase.flops, flops > 0 else {
            return 1
        }
        let group = benchCase.int("group", default: 1)
        let units = Double(group == 1 ? weight[0] : group) * Double(benchCase.inputShape[0])
        return max(1, Int(units * targetFlops / Double(flops)))
    }
}

private final class Box {
    var value: Tensor
    init(_ value: Tensor) { self.value = value }
}

/// The suite's output_shape must be what CNNKit infers (a check on both).
private func checkOutput(_ benchCase: BenchCase, _ shape: [Int], reduced: Bool) throws {
    if reduced {
        guard Array(shape.dropFirst(2)) == Array(benchCase.outputShape.dropFirst(2)) else {
            throw BenchError("\(benchCase.name): spatial output \(shape) differs from the suite's output_shape \(benchCase.outputShape)")
        }
    } else if shape != benchCase.outputShape {
        throw BenchError("\(benchCase.name): CNNKit infers output \(shape), the suite says \(benchCase.outputShape)")
    }
}

/// Batch 1 and at most `limit` output channels (group 1) or groups; returns the shapes and the work ratio.
func reducedConvolution(_ input: [Int], _ weight: [Int], group: Int, limit: Int) -> ([Int], [Int], Double) {
    var input = input, weight = weight
    let batch = input[0]
    input[0] = 1
    if group <= 1 {
        let outputs = weight[0], kept = min(outputs, limit)
        weight[0] = kept
        return (input, weight, Double(batch) * Double(outputs) / Double(kept))
    }
    let perGroupIn = input[1] / group, perGroupOut = weight[0] / group
    let kept = min(group, limit)
    input[1] = kept * perGroupIn
    weight[0] = kept * perGroupOut
    return (input, weight, Double(batch) * Double(group) / Double(kept))
}

/// Batch 1 and at most `limit` channels; returns the shape and the work ratio.
func reducedChannels(_ shape: [Int], limit: Int) -> ([Int], Double) {
    guard shape.count >= 2 else { return (shape, 1) }
    var reduced = shape
    reduced[0] = 1
    reduced[1] = min(shape[1], limit)
    let full = Double(shape[0]) * Double(shape[1]), kept = Double(reduced[1])
    return (reduced, kept > 0 ? full / kept : 1)
}

func autoPad(_ benchCase: BenchCase) throws -> AutoPad {
    let text = benchCase.string("auto_pad", default: "NOTSET")
    guard let value = AutoPad(rawValue: text) else { throw BenchError("\(benchCase.name): auto_pad \(text) is not an ONNX value") }
    return value
}

func convolutionDescriptor(_ c: BenchCase) throws -> ConvolutionDescriptor {
    guard c.op == "Conv" else { throw BenchError("\(c.name): op \(c.op) is not supported in family conv (expected Conv)") }
    return ConvolutionDescriptor(
        kernelShape: c.ints("kernel_shape"), strides: c.ints("strides"), pads: c.ints("pads"), autoPad: try autoPad(c),
        dilations: c.ints("dilations"), group: c.int("group", default: 1))
}

func poolingDescriptor(_ c: BenchCase) throws -> PoolingDescriptor {
    let kind: PoolingKind
    var global = false
    switch c.op {
    case "MaxPool": kind = .max
    case "AveragePool": kind = .average(countIncludePad: c.int("count_include_pad", default: 0) == 1)
    case "LpPool": kind = .lp(p: Float(c.float("p", default: 2)))
    case "GlobalMaxPool": kind = .max; global = true
    case "GlobalAveragePool": kind = .average(countIncludePad: false); global = true
    case "GlobalLpPool": kind = .lp(p: Float(c.float("p", default: 2))); global = true
    default: throw BenchError("\(c.name): op \(c.op) is not a pooling operator CNNKit benchmarks")
    }
    if global { return .global(kind) }
    guard let order = StorageOrder(rawValue: c.int("storage_order", default: 0)) else {
        throw BenchError("\(c.name): storage_order must be 0 or 1")
    }
    return PoolingDescriptor(
        kind: kind, kernelShape: c.ints("kernel_shape"), strides: c.ints("strides"), pads: c.ints("pads"),
        autoPad: try autoPad(c), dilations: c.ints("dilations"), ceilMode: c.int("ceil_mode", default: 0) == 1,
        storageOrder: order)
}

func resizeDescriptor(_ c: BenchCase, reducedTo: (batch: Int, channels: Int)?) throws -> ResizeDescriptor {
    guard c.op == "Resize" else { throw BenchError("\(c.name): op \(c.op) is not supported in family resample (expected Resize)") }
    func parse<T: RawRepresentable>(_ key: String, _ fallback: String, as: T.Type) throws -> T where T.RawValue == String {
        let text = c.string(key, default: fallback)
        guard let value = T(rawValue: text) else { throw BenchError("\(c.name): \(key) = \(text) is not an ONNX value") }
        return value
    }
    let axes = c.ints("axes")
    let target: ResizeTarget
    if var sizes = c.onnxInputs?.sizes, !sizes.isEmpty {
        if let reducedTo {
            let rank = c.inputShape.count
            let listed = axes.isEmpty ? Array(0..<rank) : axes.map { $0 < 0 ? $0 + rank : $0 }
            for (i, axis) in listed.enumerated() where i < sizes.count {
                if axis == 0 { sizes[i] = reducedTo.batch }
                if axis == 1 { sizes[i] = reducedTo.channels }
            }
        }
        target = .sizes(sizes)
    } else if let scales = c.onnxInputs?.scales, !scales.isEmpty {
        target = .scales(scales)
    } else {
        throw BenchError("\(c.name): Resize needs onnx_inputs.scales or onnx_inputs.sizes")
    }
    return ResizeDescriptor(
        target: target, mode: try parse("mode", "nearest", as: ResizeMode.self),
        coordinateTransformation: try parse("coordinate_transformation_mode", "half_pixel", as: CoordinateTransformation.self),
        nearestMode: try parse("nearest_mode", "round_prefer_floor", as: NearestMode.self),
        cubicCoefficientA: Float(c.float("cubic_coeff_a", default: -0.75)),
        excludeOutside: c.int("exclude_outside", default: 0) == 1, antialias: c.int("antialias", default: 0) == 1,
        extrapolationValue: Float(c.float("extrapolation_value", default: 0)),
        keepAspectRatioPolicy: try parse("keep_aspect_ratio_policy", "stretch", as: KeepAspectRatioPolicy.self),
        axes: axes, roi: c.onnxInputs?.roi ?? [])
}

/// Uniform values in [-1, 1) from a fixed seed (timing does not depend on the values; no denormals, no NaN).
func randomTensor(_ shape: [Int], _ random: inout SplitMix64) throws -> Tensor {
    let count = try Tensor.elementCount(of: shape)
    var scalars = [Float](repeating: 0, count: count)
    for i in 0..<count { scalars[i] = Float(random.next() >> 40) * 0x1p-23 - 1 }
    return try Tensor(shape: shape, scalars: scalars)
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny seeded generator.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension BenchCase {
    /// The case's problem as CNNKit validates it: canonical string, inferred output shape, and for convolutions the
    /// multiply-accumulates of the direct algorithm. Allocates no tensors.
    /// - Throws: ``BenchError`` or ``CNNKitError`` when the case does not map onto a valid CNNKit problem.
    public func validatedProblem() throws -> (description: String, outputShape: [Int], multiplyAccumulates: Int?) {
        switch family {
        case "conv":
            guard let weightShape else { throw BenchError("\(name): conv case without weight_shape") }
            let problem = try ConvolutionProblem(descriptor: try convolutionDescriptor(self), inputShape: inputShape, weightShape: weightShape)
            return (problem.description, problem.outputShape, problem.multiplyAccumulates)
        case "pool":
            let problem = try PoolingProblem(descriptor: try poolingDescriptor(self), inputShape: inputShape)
            return (problem.description, problem.outputShape, nil)
        case "resample":
            let problem = try ResizeProblem(descriptor: try resizeDescriptor(self, reducedTo: nil), inputShape: inputShape)
            return (problem.description, problem.outputShape, nil)
        default:
            throw BenchError("\(name): unknown family \(family) (expected conv, pool or resample)")
        }
    }
}
