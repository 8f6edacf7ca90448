import CNNKit

/// One suite case planned on one backend, with preallocated, randomly filled tensors: ``run()`` executes the plan
/// into the same output every time and allocates nothing of its own.
public final class Workload: @unchecked Sendable {
    /// The case's canonical problem string (``ConvolutionProblem/description`` etc.).
    public let problem: String
    public let backendName: String
    /// The algorithm and kernel variant the backend prepared (``PreparedOperator/algorithm``), e.g.
    /// `implicit_gemm/avx512`, or `naive` for the reference backend.
    public let algorithm: String
    /// Whether an `--algorithm` request was handed to the backend.
    public let algorithmForced: Bool
    /// Workspace the prepared operator reports for one run (``PreparedOperator/workspaceBytes``).
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

    /// A smaller problem of the same geometry, for estimating a slow backend's time: batch 1, at most
    /// `channelLimit` output channels (convolution with group 1), groups (grouped convolution) or channels
    /// (pooling, resampling), and the first spatial axis cut to about 1/`spatialDivisor` of its output length.
    public struct Reduction: Sendable, Hashable {
        public var channelLimit: Int
        public var spatialDivisor: Int
        public init(channelLimit: Int, spatialDivisor: Int = 1) {
            self.channelLimit = max(1, channelLimit)
            self.spatialDivisor = max(1, spatialDivisor)
        }
    }

    /// Plans `benchCase` on the backend registered as `backend`.
    ///
    /// - Parameters:
    ///   - threads: handed to a ``ConfigurableBackend`` (`nil`: its default).
    ///   - algorithm: a convolution algorithm for a ``ConfigurableBackend``; ignored for pooling and resampling.
    ///   - isa: an instruction-set cap for a ``ConfigurableBackend`` (e.g. `avx2`), `nil` for the best.
    ///
    /// Convolutions are planned with their weights, so the backend packs them once (as a network's layers are).
    /// A backward case (``BenchCase/pass``) plans a ``ConvolutionBackwardPlan`` instead and times one backward run
    /// from X, W and a random dL/dY into preallocated gradients, the weights passed on every run (as in training).
    ///   - reduction: plan a smaller problem (see ``Reduction``); the case's work is then ``workScale`` × this
    ///     workload's (exact ratio of multiply-accumulates, window taps or output elements).
    /// - Throws: ``BenchError`` when the backend does not exist or cannot take `algorithm`; ``CNNKitError`` when
    ///   the backend declines the problem or the case is malformed.
    public static func make(
        _ benchCase: BenchCase, backend: String, threads: Int? = nil, algorithm: String? = nil, isa: String? = nil,
        reduction: Reduction? = nil, registry: BackendRegistry = .shared
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
            if threads != nil || convAlgorithm != nil || isa != nil {
                chosen = try configurable.configured(threads: threads, convolutionAlgorithm: convAlgorithm, isa: isa)
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
            let fullDescriptor = try convolutionDescriptor(benchCase)
            var descriptor = fullDescriptor
            var inputShape = benchCase.inputShape, weightShape = weightShapeFull
            if let reduction {
                (inputShape, weightShape) = reducedConvolution(inputShape, weightShape, group: descriptor.group, limit: reduction.channelLimit)
                if descriptor.group > 1 { descriptor.group = min(descriptor.group, reduction.channelLimit) }
                let geometry = try ConvolutionProblem(descriptor: fullDescriptor, inputShape: benchCase.inputShape, weightShape: weightShapeFull).geometry
                inputShape[2] = reducedExtent(geometry, divisor: reduction.spatialDivisor)
            }
            let input = try randomTensor(inputShape, &random)
            let weight = try randomTensor(weightShape, &random)
            if let gradients = try benchCase.backwardGradients() {
                // A training step's backward pass: X, W and dL/dY given, the gradients written into preallocated
                // tensors; the weights are fresh on every run (nothing derived from them is held by the plan).
                let plan = try ConvolutionBackwardPlan(
                    descriptor, inputShape: inputShape, weightShape: weightShape, gradients: gradients,
                    backend: selection, registry: planRegistry)
                try checkOutput(benchCase, plan.problem.outputShape, reduction: reduction)
                let outputGrad = try randomTensor(plan.problem.outputShape, &random)
                let full = try ConvolutionProblem(descriptor: fullDescriptor, inputShape: benchCase.inputShape, weightShape: weightShapeFull)
                let box = GradientBox(
                    input: gradients.contains(.input) ? try Tensor(shape: inputShape) : nil,
                    weight: gradients.contains(.weight) ? try Tensor(shape: weightShape) : nil)
                let names = [gradients.contains(.input) ? "dX" : nil, gradients.contains(.weight) ? "dW" : nil]
                return Workload(
                    problem: plan.problem.description + " backward " + names.compactMap { $0 }.joined(separator: "+"),
                    backendName: backend, algorithm: plan.prepared.algorithm,
                    algorithmForced: false, workspaceBytes: plan.prepared.workspaceBytes,
                    tensorBytes: 4 * (input.count + weight.count + outputGrad.count + (box.input?.count ?? 0) + (box.weight?.count ?? 0)),
                    workScale: ratio(full.multiplyAccumulates, plan.problem.multiplyAccumulates)
                ) {
                    var bias: Tensor? = nil
                    try? plan.prepared.run(input: input, weight: weight, outputGrad: outputGrad, inputGrad: &box.input,
                                           weightGrad: &box.weight, biasGrad: &bias)
                }
            }
            let plan = try ConvolutionPlan(
                descriptor, inputShape: inputShape, weightShape: weightShape, weight: weight, backend: selection,
                registry: planRegistry)
            try checkOutput(benchCase, plan.problem.outputShape, reduction: reduction)
            let fullWork = benchCase.macs ?? plan.problem.multiplyAccumulates
            let box = Box(try Tensor(shape: plan.problem.outputShape))
            return Workload(
                problem: plan.problem.description, backendName: backend, algorithm: plan.prepared.algorithm,
                algorithmForced: convAlgorithm != nil && chosen is any ConfigurableBackend,
                workspaceBytes: plan.prepared.workspaceBytes, tensorBytes: 4 * (input.count + weight.count + box.value.count),
                workScale: ratio(fullWork, plan.problem.multiplyAccumulates)
            ) {
                try? plan.run(input: input, into: &box.value)
            }
        case "pool":
            let descriptor = try poolingDescriptor(benchCase)
            var inputShape = benchCase.inputShape
            var fullWork = 0
            if let reduction {
                let full = try PoolingProblem(descriptor: descriptor, inputShape: inputShape)
                fullWork = full.windowTaps
                inputShape = reducedChannels(inputShape, limit: reduction.channelLimit)
                inputShape[2] = descriptor.isGlobal
                    ? max(1, inputShape[2] / reduction.spatialDivisor) : reducedExtent(full.geometry, divisor: reduction.spatialDivisor)
            }
            let plan = try PoolingPlan(descriptor, inputShape: inputShape, backend: selection, registry: planRegistry)
            try checkOutput(benchCase, plan.problem.outputShape, reduction: descriptor.isGlobal ? nil : reduction, ignoreAll: descriptor.isGlobal && reduction != nil)
            let input = try randomTensor(inputShape, &random)
            let box = Box(try Tensor(shape: plan.problem.outputShape))
            return Workload(
                problem: plan.problem.description, backendName: backend,
                algorithm: plan.prepared.algorithm, algorithmForced: false,
                workspaceBytes: plan.prepared.workspaceBytes, tensorBytes: 4 * (input.count + box.value.count),
                workScale: reduction == nil ? 1 : ratio(fullWork, plan.problem.windowTaps)
            ) {
                var none: IndexTensor? = nil
                try? plan.run(input: input, into: &box.value, indices: &none)
            }
        case "resample":
            var inputShape = benchCase.inputShape
            var descriptor = try resizeDescriptor(benchCase, reducedTo: nil)
            if let reduction {
                inputShape = reducedChannels(inputShape, limit: reduction.channelLimit)
                if inputShape.count > 2 { inputShape[2] = max(1, inputShape[2] / reduction.spatialDivisor) }
                descriptor = try resizeDescriptor(benchCase, reducedTo: inputShape)
            }
            let plan = try ResizePlan(descriptor, inputShape: inputShape, backend: selection, registry: planRegistry)
            try checkOutput(benchCase, plan.problem.outputShape, reduction: reduction)
            let input = try randomTensor(inputShape, &random)
            let box = Box(try Tensor(shape: plan.problem.outputShape))
            return Workload(
                problem: plan.problem.description, backendName: backend,
                algorithm: plan.prepared.algorithm, algorithmForced: false,
                workspaceBytes: plan.prepared.workspaceBytes, tensorBytes: 4 * (input.count + box.value.count),
                workScale: ratio(benchCase.outputShape.reduce(1, *), box.value.count)
            ) {
                try? plan.run(input: input, into: &box.value)
            }
        default:
            throw BenchError("\(benchCase.name): unknown family \(benchCase.family) (expected conv, pool or resample)")
        }
    }

    /// A reduction that makes a probe of `benchCase` cost about `targetWork` units (convolution MACs, pooling window
    /// taps, or 8 per resize output element): fewer channels first, then a shorter first spatial axis.
    public static func probeReduction(_ benchCase: BenchCase, targetWork: Double = 1e6) -> Reduction {
        let batch = Double(benchCase.inputShape.first ?? 1)
        let channelUnits: Double, work: Double
        switch benchCase.family {
        case "conv":
            let group = benchCase.int("group", default: 1)
            channelUnits = Double(group == 1 ? (benchCase.weightShape?.first ?? 1) : group)
            work = Double(benchCase.macs ?? benchCase.flops.map { $0 / 2 } ?? 0)
        case "pool":
            channelUnits = Double(benchCase.inputShape.count > 1 ? benchCase.inputShape[1] : 1)
            work = Double(benchCase.flops ?? benchCase.outputShape.reduce(1, *))
        default:
            channelUnits = Double(benchCase.inputShape.count > 1 ? benchCase.inputShape[1] : 1)
            work = 8 * Double(benchCase.outputShape.reduce(1, *))
        }
        guard work > 0, channelUnits >= 1 else { return Reduction(channelLimit: 1) }
        let perUnit = work / batch / channelUnits
        let limit = max(1, min(Int(channelUnits), Int(targetWork / perUnit)))
        let remaining = perUnit * Double(limit)
        let divisor = remaining > targetWork ? Int((remaining / targetWork).rounded(.up)) : 1
        return Reduction(channelLimit: limit, spatialDivisor: divisor)
    }
}

/// The input extent along the first spatial axis that gives about 1/`divisor` of the output length (>= 1 output).
private func reducedExtent(_ geometry: WindowGeometry, divisor: Int) -> Int {
    let full = geometry.inputSize[0]
    guard divisor > 1 else { return full }
    let outputs = max(1, (geometry.outputSize[0] + divisor - 1) / divisor)
    let extent = (geometry.kernel[0] - 1) * geometry.dilations[0] + 1
    let needed = (outputs - 1) * geometry.strides[0] + extent - geometry.padBegin[0] - geometry.padEnd[0]
    return min(full, max(1, needed))
}

private func ratio(_ full: Int, _ reduced: Int) -> Double {
    reduced > 0 ? Double(full) / Double(reduced) : 1
}

private final class Box {
    var value: Tensor
    init(_ value: Tensor) { self.value = value }
}

private final class GradientBox {
    var input: Tensor?, weight: Tensor?
    init(input: Tensor?, weight: Tensor?) { (self.input, self.weight) = (input, weight) }
}

/// The suite's output_shape must be what CNNKit infers (a check on both); for a reduced probe, on the axes it keeps.
private func checkOutput(_ benchCase: BenchCase, _ shape: [Int], reduction: Workload.Reduction?, ignoreAll: Bool = false) throws {
    if ignoreAll { return }
    if let reduction {
        let kept = reduction.spatialDivisor > 1 ? 3 : 2
        guard Array(shape.dropFirst(kept)) == Array(benchCase.outputShape.dropFirst(kept)) else {
            throw BenchError("\(benchCase.name): probe output \(shape) differs from the suite's output_shape \(benchCase.outputShape) on the axes it keeps")
        }
    } else if shape != benchCase.outputShape {
        throw BenchError("\(benchCase.name): CNNKit infers output \(shape), the suite says \(benchCase.outputShape)")
    }
}

/// Batch 1 and at most `limit` output channels (group 1) or groups.
func reducedConvolution(_ input: [Int], _ weight: [Int], group: Int, limit: Int) -> ([Int], [Int]) {
    var input = input, weight = weight
    input[0] = 1
    if group <= 1 {
        weight[0] = min(weight[0], limit)
        return (input, weight)
    }
    let perGroupIn = input[1] / group, perGroupOut = weight[0] / group
    let kept = min(group, limit)
    input[1] = kept * perGroupIn
    weight[0] = kept * perGroupOut
    return (input, weight)
}

/// Batch 1 and at most `limit` channels.
func reducedChannels(_ shape: [Int], limit: Int) -> [Int] {
    guard shape.count >= 2 else { return shape }
    var reduced = shape
    reduced[0] = 1
    reduced[1] = min(shape[1], limit)
    return reduced
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

func resizeDescriptor(_ c: BenchCase, reducedTo reducedInput: [Int]?) throws -> ResizeDescriptor {
    guard c.op == "Resize" else { throw BenchError("\(c.name): op \(c.op) is not supported in family resample (expected Resize)") }
    func parse<T: RawRepresentable>(_ key: String, _ fallback: String, as: T.Type) throws -> T where T.RawValue == String {
        let text = c.string(key, default: fallback)
        guard let value = T(rawValue: text) else { throw BenchError("\(c.name): \(key) = \(text) is not an ONNX value") }
        return value
    }
    let axes = c.ints("axes")
    let target: ResizeTarget
    if var sizes = c.onnxInputs?.sizes, !sizes.isEmpty {
        if let reducedInput {
            // Sizes of a reduced probe: N and C as reduced; other axes scaled like their input extent.
            let rank = c.inputShape.count
            let listed = axes.isEmpty ? Array(0..<rank) : axes.map { $0 < 0 ? $0 + rank : $0 }
            for (i, axis) in listed.enumerated() where i < sizes.count && axis < rank {
                if axis < 2 {
                    sizes[i] = reducedInput[axis]
                } else if reducedInput[axis] != c.inputShape[axis] {
                    sizes[i] = max(1, Int((Double(sizes[i]) * Double(reducedInput[axis]) / Double(c.inputShape[axis])).rounded()))
                }
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

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny seeded generator on CNNKit's own finaliser.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        defer { state &+= 0x9E37_79B9_7F4A_7C15 }
        return StochasticSampling.mix(state)
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
            // A backward case: one forward convolution's MACs per gradient.
            let passes = try backwardGradients().map { $0.intersection([.input, .weight]).rawValue == 3 ? 2 : 1 } ?? 1
            return (problem.description, problem.outputShape, problem.multiplyAccumulates * passes)
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
