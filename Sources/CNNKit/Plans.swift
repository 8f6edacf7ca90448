/// Plans: a validated problem and what the chosen backend prepared for it.
///
/// Building a plan validates the descriptor against the shapes, infers the output shape, and asks the backends
/// in dispatch order (or the named one) to prepare the problem; all of that may throw. Running a plan checks only
/// that the tensors have the planned shapes, then executes what was prepared (oneDNN's primitive descriptor →
/// primitive, XNNPACK's create → run). A plan is immutable and may be run from several threads at once.

func requireShape<S>(_ tensor: DenseTensor<S>, _ expected: [Int], _ name: String, problem: String) throws {
    guard tensor.shape == expected else {
        throw CNNKitError(kind: .shapeMismatch, parameter: name, value: "\(tensor.shape)", expected: "\(expected) as planned", problem: problem)
    }
}

/// A bias is given exactly when one was planned, shaped `[channels]`.
func requireBias(_ bias: Tensor?, planned: Bool, channels: Int, problem: String) throws {
    if planned != (bias != nil) {
        throw CNNKitError(
            kind: .shapeMismatch, parameter: "bias", value: bias.map { "\($0.shape)" } ?? "nil",
            expected: planned ? "a bias [\(channels)] as planned" : "no bias, as planned", problem: problem)
    }
    if let bias { try requireShape(bias, [channels], "bias.shape", problem: problem) }
}

/// Where a plan gets its backend: dispatch through a registry, or one backend instance given directly (tests,
/// benchmarks, a backend configured with ``ConfigurableBackend/configured(threads:convolutionAlgorithm:isa:)``).
func preparing<Prepared>(
    _ selection: BackendSelection, _ registry: BackendRegistry, _ instance: (any Backend)?, problem: String,
    _ prepare: (any Backend) throws -> Prepared
) throws -> (prepared: Prepared, backend: String) {
    if let instance {
        return (try BackendRegistry.prepare(on: instance, problem: problem, prepare), instance.name)
    }
    return try registry.prepare(selection, problem: problem, prepare)
}

/// Compares what a run needs — an output of `shape` (with int64 indices too when `indices`) and the prepared
/// operator's `workspace` — with ``MemoryBudget`` before anything is allocated.
/// - Throws: ``CNNKitError`` of kind `.outOfMemory` saying how much was needed and is available.
func requireMemory(output shape: [Int]?, indices: Bool = false, workspace: Int, problem: String) throws {
    let elements = shape.map(saturatingProduct) ?? 0
    let bytes = saturatingAdd(saturatingMultiply(elements, indices ? 12 : 4), max(0, workspace))
    try MemoryBudget.require(
        bytes, for: (shape.map { "output \($0)\(indices ? " with indices" : "") and " } ?? "") + "\(workspace) bytes of workspace",
        problem: problem)
}

func zeros(_ shape: [Int]) -> Tensor {
    Tensor(validatedShape: shape, scalars: [Float](repeating: 0, count: saturatingProduct(shape)))
}

/// A convolution (ONNX Conv) ready to run.
///
/// Built with `weight:` (and `bias:`), the backend packs or transforms the weights once (the C backend packs them
/// into its microkernel's register-tile panels) and ``run(input:)`` reuses them on every call; built without,
/// each ``run(input:weight:bias:)`` prepares the weights it is given.
public struct ConvolutionPlan: Sendable {
    public let problem: ConvolutionProblem
    /// The name of the backend that prepared the plan.
    public let backend: String
    /// What the backend prepared (algorithm, workspace).
    public let prepared: any PreparedWeightedOperator

    /// - Parameters:
    ///   - descriptor: the operator's attributes.
    ///   - inputShape: the input's shape, `[N, C, spatial…]`.
    ///   - weightShape: `[M, C/group, k…]`.
    ///   - biasShape: `[M]` when the convolution adds a bias, else nil (taken from `bias` when that is given).
    ///   - weight: `[M, C/group, k…]` to hold in the plan (packed once), or nil to pass weights to each run.
    ///   - bias: `[M]` held with `weight`; give `biasShape` or `bias`, not both differently.
    ///   - backend: which backend prepares the plan (default: the first in `registry` that accepts it).
    ///   - registry: the backends to choose from.
    ///   - instance: a backend instance to prepare on directly instead of dispatching through `registry`.
    /// - Throws: ``CNNKitError`` from ``ConvolutionProblem/init(descriptor:inputShape:weightShape:biasShape:)``,
    ///   when `weight`'s shape is not `weightShape`, or from backend selection.
    public init(
        _ descriptor: ConvolutionDescriptor, inputShape: [Int], weightShape: [Int], biasShape: [Int]? = nil,
        weight: Tensor? = nil, bias: Tensor? = nil,
        backend: BackendSelection = .automatic, registry: BackendRegistry = .shared, on instance: (any Backend)? = nil
    ) throws {
        let problem = try ConvolutionProblem(
            descriptor: descriptor, inputShape: inputShape, weightShape: weightShape, biasShape: biasShape ?? bias?.shape)
        let text = problem.description
        if let weight { try requireShape(weight, weightShape, "weight.shape", problem: text) }
        if weight != nil || bias != nil {
            guard weight != nil else {
                throw CNNKitError(kind: .invalidArgument, parameter: "bias", value: "given without weight",
                                  expected: "a plan-time bias only together with a plan-time weight", problem: text)
            }
            try requireBias(bias, planned: problem.hasBias, channels: problem.outputChannels, problem: text)
        }
        let constants = ConvolutionConstants(weight: weight, bias: bias)
        self.problem = problem
        (prepared, self.backend) = try preparing(backend, registry, instance, problem: text) {
            try $0.prepare(problem, constants: constants)
        }
    }

    /// Whether the plan holds its weights (built with `weight:`), so that ``run(input:)`` applies.
    public var holdsWeights: Bool { prepared.holdsWeights }

    /// Runs into a preallocated output of `problem.outputShape`.
    /// - Throws: ``CNNKitError`` when a tensor's shape differs from the plan, or scratch memory is not available.
    public func run(input: Tensor, weight: Tensor, bias: Tensor? = nil, into output: inout Tensor) throws {
        let text = problem.description
        try requireShape(input, problem.inputShape, "input.shape", problem: text)
        try requireShape(weight, problem.weightShape, "weight.shape", problem: text)
        try requireShape(output, problem.outputShape, "output.shape", problem: text)
        try requireBias(bias, planned: problem.hasBias, channels: problem.outputChannels, problem: text)
        try requireMemory(output: nil, workspace: prepared.workspaceBytes, problem: text)
        try quotingProblem(text) { try prepared.run(input: input, weight: weight, bias: bias, output: &output) }
    }

    /// Runs and returns a new output tensor `[N, M, out…]`.
    public func run(input: Tensor, weight: Tensor, bias: Tensor? = nil) throws -> Tensor {
        try requireMemory(output: problem.outputShape, workspace: prepared.workspaceBytes, problem: problem.description)
        var output = zeros(problem.outputShape)
        try run(input: input, weight: weight, bias: bias, into: &output)
        return output
    }

    /// Runs with the weights (and bias) the plan holds, into a preallocated output.
    /// - Throws: ``CNNKitError`` when the plan holds no weights or a shape differs from the plan.
    public func run(input: Tensor, into output: inout Tensor) throws {
        let text = problem.description
        guard prepared.holdsWeights else {
            throw CNNKitError(kind: .invalidArgument, parameter: "weight", value: "nil",
                              expected: "a weight (this plan was built without one)", problem: text)
        }
        try requireShape(input, problem.inputShape, "input.shape", problem: text)
        try requireShape(output, problem.outputShape, "output.shape", problem: text)
        try requireMemory(output: nil, workspace: prepared.workspaceBytes, problem: text)
        try quotingProblem(text) { try prepared.run(input: input, weight: nil, bias: nil, output: &output) }
    }

    /// Runs with the weights the plan holds and returns `[N, M, out…]`.
    public func run(input: Tensor) throws -> Tensor {
        try requireMemory(output: problem.outputShape, workspace: prepared.workspaceBytes, problem: problem.description)
        var output = zeros(problem.outputShape)
        try run(input: input, into: &output)
        return output
    }
}

/// A transposed convolution (ONNX ConvTranspose) ready to run.
public struct ConvTransposePlan: Sendable {
    public let problem: ConvTransposeProblem
    public let backend: String
    public let prepared: any PreparedWeightedOperator

    /// - Throws: ``CNNKitError`` from validation or backend selection.
    public init(
        _ descriptor: ConvTransposeDescriptor, inputShape: [Int], weightShape: [Int], biasShape: [Int]? = nil,
        backend: BackendSelection = .automatic, registry: BackendRegistry = .shared, on instance: (any Backend)? = nil
    ) throws {
        let problem = try ConvTransposeProblem(descriptor: descriptor, inputShape: inputShape, weightShape: weightShape, biasShape: biasShape)
        self.problem = problem
        (prepared, self.backend) = try preparing(backend, registry, instance, problem: problem.description) { try $0.prepare(problem) }
    }

    /// Runs and returns `[N, M, out…]`.
    /// - Throws: ``CNNKitError`` when a tensor's shape differs from the plan.
    public func run(input: Tensor, weight: Tensor, bias: Tensor? = nil) throws -> Tensor {
        let text = problem.description
        try requireShape(input, problem.inputShape, "input.shape", problem: text)
        try requireShape(weight, problem.weightShape, "weight.shape", problem: text)
        try requireBias(bias, planned: problem.hasBias, channels: problem.outputChannels, problem: text)
        try requireMemory(output: problem.outputShape, workspace: prepared.workspaceBytes, problem: text)
        var output = zeros(problem.outputShape)
        try quotingProblem(text) { try prepared.run(input: input, weight: weight, bias: bias, output: &output) }
        return output
    }
}

/// A validated pooling problem — fixed windows (``PoolingProblem``) or adaptive ones (``AdaptivePoolingProblem``) —
/// prepared through its own ``Backend`` requirements.
public protocol PoolingFamilyProblem: Sendable, CustomStringConvertible {
    associatedtype Descriptor
    init(descriptor: Descriptor, inputShape: [Int]) throws
    var inputShape: [Int] { get }
    var outputShape: [Int] { get }
    /// Why argmax indices cannot be requested, or nil when they can.
    var indicesUnavailable: String? { get }
    /// Calls the backend's `prepare` for this problem type.
    func prepare(on backend: any Backend) throws -> any PreparedPooling
    /// Calls the backend's `prepareBackward` for this problem type.
    func prepareBackward(on backend: any Backend) throws -> any PreparedPoolingBackward
}

extension PoolingProblem: PoolingFamilyProblem {
    public var indicesUnavailable: String? {
        descriptor.producesIndices ? nil : "no indices for \(descriptor.kind.canonicalName) pooling (only max and stochastic have them)"
    }
    public func prepare(on backend: any Backend) throws -> any PreparedPooling { try backend.prepare(self) }
    public func prepareBackward(on backend: any Backend) throws -> any PreparedPoolingBackward { try backend.prepareBackward(self) }
}

extension AdaptivePoolingProblem: PoolingFamilyProblem {
    public var indicesUnavailable: String? {
        descriptor.kind == .max ? nil : "no indices for adaptive average pooling (only max has them)"
    }
    public func prepare(on backend: any Backend) throws -> any PreparedPooling { try backend.prepare(self) }
    public func prepareBackward(on backend: any Backend) throws -> any PreparedPoolingBackward { try backend.prepareBackward(self) }
}

/// A pooling operator (ONNX MaxPool-12, AveragePool-19, LpPool-18, the global pools, stochastic pooling) ready to run.
public typealias PoolingPlan = PoolingFamilyPlan<PoolingProblem>
/// Adaptive max or average pooling (PyTorch `AdaptiveMaxPool*d` / `AdaptiveAvgPool*d`) ready to run.
public typealias AdaptivePoolingPlan = PoolingFamilyPlan<AdaptivePoolingProblem>

/// A pooling operator ready to run; see ``PoolingPlan`` and ``AdaptivePoolingPlan``.
public struct PoolingFamilyPlan<Problem: PoolingFamilyProblem>: Sendable {
    public let problem: Problem
    public let backend: String
    public let prepared: any PreparedPooling

    /// - Throws: ``CNNKitError`` from validation or backend selection.
    public init(
        _ descriptor: Problem.Descriptor, inputShape: [Int], backend: BackendSelection = .automatic,
        registry: BackendRegistry = .shared, on instance: (any Backend)? = nil
    ) throws {
        let problem = try Problem(descriptor: descriptor, inputShape: inputShape)
        self.problem = problem
        (prepared, self.backend) = try preparing(backend, registry, instance, problem: problem.description) { try problem.prepare(on: $0) }
    }

    /// Runs into a preallocated output (and, if non-nil, indices) of `problem.outputShape`.
    /// - Throws: ``CNNKitError`` when a shape differs from the plan or indices are requested from a kind that has none.
    public func run(input: Tensor, into output: inout Tensor, indices: inout IndexTensor?) throws {
        let text = problem.description
        try requireShape(input, problem.inputShape, "input.shape", problem: text)
        try requireShape(output, problem.outputShape, "output.shape", problem: text)
        if let given = indices {
            if let reason = problem.indicesUnavailable {
                throw CNNKitError(kind: .invalidArgument, parameter: "indices", value: "requested", expected: reason, problem: text)
            }
            try requireShape(given, problem.outputShape, "indices.shape", problem: text)
        }
        try requireMemory(output: nil, workspace: prepared.workspaceBytes, problem: text)
        try quotingProblem(text) { try prepared.run(input: input, output: &output, indices: &indices) }
    }

    /// Runs and returns `[N, C, out…]`.
    public func run(input: Tensor) throws -> Tensor {
        try requireMemory(output: problem.outputShape, workspace: prepared.workspaceBytes, problem: problem.description)
        var output = zeros(problem.outputShape)
        var none: IndexTensor? = nil
        try run(input: input, into: &output, indices: &none)
        return output
    }

    /// Runs and returns the output and the argmax indices (flat positions in the input, see ``StorageOrder``).
    public func runWithIndices(input: Tensor) throws -> (output: Tensor, indices: IndexTensor) {
        try requireMemory(output: problem.outputShape, indices: true, workspace: prepared.workspaceBytes, problem: problem.description)
        let count = saturatingProduct(problem.outputShape)
        var output = zeros(problem.outputShape)
        var indices: IndexTensor? = IndexTensor(validatedShape: problem.outputShape, scalars: [Int64](repeating: 0, count: count))
        try run(input: input, into: &output, indices: &indices)
        return (output, indices!)
    }
}

/// An operator with one input and one output ready to run: Resize, Col2Im, DepthToSpace / SpaceToDepth.
public struct UnaryPlan<Problem: UnaryProblem>: Sendable {
    public let problem: Problem
    public let backend: String
    public let prepared: any PreparedUnaryOperator

    /// - Throws: ``CNNKitError`` from validation or backend selection.
    public init(
        _ descriptor: Problem.Descriptor, inputShape: [Int], backend: BackendSelection = .automatic,
        registry: BackendRegistry = .shared, on instance: (any Backend)? = nil
    ) throws {
        let problem = try Problem(descriptor: descriptor, inputShape: inputShape)
        self.problem = problem
        (prepared, self.backend) = try preparing(backend, registry, instance, problem: problem.description) {
            try problem.prepare(on: $0)
        }
    }

    /// Runs into a preallocated output of `problem.outputShape`.
    /// - Throws: ``CNNKitError`` when a shape differs from the plan.
    public func run(input: Tensor, into output: inout Tensor) throws {
        let text = problem.description
        try requireShape(input, problem.inputShape, "input.shape", problem: text)
        try requireShape(output, problem.outputShape, "output.shape", problem: text)
        try requireMemory(output: nil, workspace: prepared.workspaceBytes, problem: text)
        try quotingProblem(text) { try prepared.run(input: input, output: &output) }
    }

    /// Runs and returns the output tensor.
    public func run(input: Tensor) throws -> Tensor {
        try requireMemory(output: problem.outputShape, workspace: prepared.workspaceBytes, problem: problem.description)
        var output = zeros(problem.outputShape)
        try run(input: input, into: &output)
        return output
    }
}

/// A validated problem with one input and one output, prepared through its own ``Backend`` requirement.
public protocol UnaryProblem: Sendable, CustomStringConvertible {
    associatedtype Descriptor
    init(descriptor: Descriptor, inputShape: [Int]) throws
    var inputShape: [Int] { get }
    var outputShape: [Int] { get }
    /// Calls the backend's `prepare` for this problem type.
    func prepare(on backend: any Backend) throws -> any PreparedUnaryOperator
}

extension ResizeProblem: UnaryProblem {
    public func prepare(on backend: any Backend) throws -> any PreparedUnaryOperator { try backend.prepare(self) }
}
extension Col2ImProblem: UnaryProblem {
    public func prepare(on backend: any Backend) throws -> any PreparedUnaryOperator { try backend.prepare(self) }
}
extension PixelShuffleProblem: UnaryProblem {
    public func prepare(on backend: any Backend) throws -> any PreparedUnaryOperator { try backend.prepare(self) }
}
extension PadProblem: UnaryProblem {
    public func prepare(on backend: any Backend) throws -> any PreparedUnaryOperator { try backend.prepare(self) }
}

/// A resize (ONNX Resize-19) ready to run.
public typealias ResizePlan = UnaryPlan<ResizeProblem>
/// A Col2Im (ONNX Col2Im-18) ready to run.
public typealias Col2ImPlan = UnaryPlan<Col2ImProblem>
/// A DepthToSpace / SpaceToDepth ready to run.
public typealias PixelShufflePlan = UnaryPlan<PixelShuffleProblem>
/// A Pad (ONNX Pad-19) ready to run.
public typealias PadPlan = UnaryPlan<PadProblem>

/// A MaxUnpool (ONNX MaxUnpool-22) ready to run.
public struct MaxUnpoolPlan: Sendable {
    public let problem: MaxUnpoolProblem
    public let backend: String
    public let prepared: any PreparedMaxUnpool

    /// - Throws: ``CNNKitError`` from validation or backend selection.
    public init(
        _ descriptor: MaxUnpoolDescriptor, inputShape: [Int], backend: BackendSelection = .automatic,
        registry: BackendRegistry = .shared, on instance: (any Backend)? = nil
    ) throws {
        let problem = try MaxUnpoolProblem(descriptor: descriptor, inputShape: inputShape)
        self.problem = problem
        (prepared, self.backend) = try preparing(backend, registry, instance, problem: problem.description) { try $0.prepare(problem) }
    }

    /// Scatters `input` to the flat positions in `indices` (as MaxPool reports them) and returns the output.
    /// - Throws: ``CNNKitError`` when a shape differs from the plan or an index lies outside the default
    ///   unpooled shape.
    public func run(input: Tensor, indices: IndexTensor) throws -> Tensor {
        let text = problem.description
        try requireShape(input, problem.inputShape, "input.shape", problem: text)
        try requireShape(indices, problem.inputShape, "indices.shape", problem: text)
        try requireUnpoolIndices(indices, problem)
        try requireMemory(output: problem.outputShape, workspace: prepared.workspaceBytes, problem: text)
        var output = zeros(problem.outputShape)
        try quotingProblem(text) { try prepared.run(input: input, indices: indices, output: &output) }
        return output
    }
}

/// Every MaxUnpool index lies in `[0, Π problem.indexSpaceShape)` (the forward and backward plans both check).
func requireUnpoolIndices(_ indices: IndexTensor, _ problem: MaxUnpoolProblem) throws {
    let limit = Int64(saturatingProduct(problem.indexSpaceShape))
    if let bad = indices.scalars.firstIndex(where: { $0 < 0 || $0 >= limit }) {
        throw CNNKitError(
            kind: .invalidArgument, parameter: "indices", value: "\(indices.scalars[bad]) at flat position \(bad)",
            expected: "flat indices in 0..<\(limit) (the unpooled shape \(problem.indexSpaceShape))",
            problem: problem.description)
    }
}
