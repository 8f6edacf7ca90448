// Backward plans: a validated forward problem and what the chosen backend prepared for its backward pass.
//
// A backward plan is built from the same descriptor and shapes as the forward plan (the forward problem is
// validated the same way) and dispatches through `BackendRegistry.prepare` with the same automatic fallback: a
// backend that does not implement the backward pass (its `prepareBackward` left at the "not implemented" default)
// or declines the problem is skipped. Running checks the tensors against the planned shapes and returns the
// gradients of a loss L with respect to the forward inputs, given `outputGrad` = dL/dY (semantics: the DocC article
// Backward.md). A plan is immutable and may be run from several threads at once.

/// Which gradients a ``ConvolutionBackwardPlan`` or ``ConvTransposeBackwardPlan`` computes.
public struct ConvolutionGradients: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// dL/dX, shaped like the input.
    public static let input = ConvolutionGradients(rawValue: 1)
    /// dL/dW, shaped like the weight.
    public static let weight = ConvolutionGradients(rawValue: 2)
    /// dL/dB, `[M]`.
    public static let bias = ConvolutionGradients(rawValue: 4)
    /// Input, weight and bias gradients.
    public static let all: ConvolutionGradients = [.input, .weight, .bias]
}

/// The gradients a plan computes for a problem with or without a bias: `requested`, or by default all it has.
/// - Throws: ``CNNKitError`` when a bias gradient is requested for a problem planned without a bias, or nothing is requested.
private func resolveGradients(_ requested: ConvolutionGradients?, hasBias: Bool, problem: String) throws -> ConvolutionGradients {
    let gradients = requested ?? (hasBias ? .all : [.input, .weight])
    if gradients.contains(.bias) && !hasBias {
        throw CNNKitError(
            kind: .invalidArgument, parameter: "gradients", value: "includes .bias",
            expected: "a biasShape [M] when the bias gradient is requested (the problem was planned without a bias)", problem: problem)
    }
    guard !gradients.intersection(.all).isEmpty else {
        throw CNNKitError(kind: .invalidArgument, parameter: "gradients", value: "[]",
                          expected: "at least one of .input, .weight, .bias", problem: problem)
    }
    return gradients
}

/// Runs a prepared Conv / ConvTranspose backward pass into new gradient tensors.
private func runWeightedBackward(
    _ prepared: any PreparedWeightedBackward, gradients: ConvolutionGradients, input: Tensor, weight: Tensor,
    outputGrad: Tensor, inputShape: [Int], weightShape: [Int], outputShape: [Int], channels: Int, problem text: String
) throws -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
    try requireShape(input, inputShape, "input.shape", problem: text)
    try requireShape(weight, weightShape, "weight.shape", problem: text)
    try requireShape(outputGrad, outputShape, "outputGrad.shape", problem: text)
    var dx: Tensor? = gradients.contains(.input) ? zeros(inputShape) : nil
    var dw: Tensor? = gradients.contains(.weight) ? zeros(weightShape) : nil
    var db: Tensor? = gradients.contains(.bias) ? zeros([channels]) : nil
    try quotingProblem(text) {
        try prepared.run(input: input, weight: weight, outputGrad: outputGrad, inputGrad: &dx, weightGrad: &dw, biasGrad: &db)
    }
    return (dx, dw, db)
}

/// The backward pass of a convolution (ONNX Conv): dL/dX, dL/dW and dL/dB from X, W and dL/dY.
///
/// Shapes: input `[N, C, spatial…]`, weight `[M, C/group, k…]`, output gradient `[N, M, out…]` (the forward output
/// shape); the gradients have the shapes of X, W and `[M]`. Every forward feature is covered: 1-D, 2-D and 3-D,
/// strides, explicit and automatic pads, dilations, groups (depthwise included) and true convolution
/// (``ConvolutionMode/convolution``, whose weight gradient is flipped back to the stored orientation). A
/// descriptor with a fused ``ConvolutionActivation`` other than `.none` is declined by the built-in backends: apply
/// the activation's gradient to dL/dY first and plan the convolution without it (see <doc:Backward>).
public struct ConvolutionBackwardPlan: Sendable {
    /// The forward problem whose backward pass this is.
    public let problem: ConvolutionProblem
    /// The gradients every run computes.
    public let gradients: ConvolutionGradients
    /// The name of the backend that prepared the plan.
    public let backend: String
    /// What the backend prepared (algorithm, workspace).
    public let prepared: any PreparedWeightedBackward

    /// - Parameters:
    ///   - descriptor: the operator's attributes.
    ///   - inputShape: the input's shape, `[N, C, spatial…]`.
    ///   - weightShape: `[M, C/group, k…]`.
    ///   - biasShape: `[M]` when the forward convolution adds a bias (needed for the bias gradient), else nil.
    ///   - gradients: the gradients to compute; nil = input and weight, and bias when `biasShape` is given.
    ///   - backend: which backend prepares the plan (default: the first in `registry` that accepts it).
    ///   - registry: the backends to choose from.
    ///   - instance: a backend instance to prepare on directly instead of dispatching through `registry`.
    /// - Throws: ``CNNKitError`` from ``ConvolutionProblem/init(descriptor:inputShape:weightShape:biasShape:)``,
    ///   when `.bias` is requested without `biasShape` or `gradients` is empty, or from backend selection
    ///   (`.unsupported` when no backend implements the backward pass of this problem).
    public init(
        _ descriptor: ConvolutionDescriptor, inputShape: [Int], weightShape: [Int], biasShape: [Int]? = nil,
        gradients: ConvolutionGradients? = nil,
        backend: BackendSelection = .automatic, registry: BackendRegistry = .shared, on instance: (any Backend)? = nil
    ) throws {
        let problem = try ConvolutionProblem(descriptor: descriptor, inputShape: inputShape, weightShape: weightShape, biasShape: biasShape)
        self.problem = problem
        self.gradients = try resolveGradients(gradients, hasBias: problem.hasBias, problem: problem.description)
        (prepared, self.backend) = try preparing(backend, registry, instance, problem: problem.description) {
            try $0.prepareBackward(problem)
        }
    }

    /// Computes the planned gradients; the ones not planned are nil.
    /// - Parameters:
    ///   - input: the forward input X.
    ///   - weight: the forward weight W.
    ///   - outputGrad: dL/dY, shaped like the forward output.
    /// - Throws: ``CNNKitError`` when a tensor's shape differs from the plan, or scratch memory is not available.
    public func run(input: Tensor, weight: Tensor, outputGrad: Tensor) throws -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        try runWeightedBackward(
            prepared, gradients: gradients, input: input, weight: weight, outputGrad: outputGrad,
            inputShape: problem.inputShape, weightShape: problem.weightShape, outputShape: problem.outputShape,
            channels: problem.outputChannels, problem: problem.description)
    }
}

/// The backward pass of a transposed convolution (ONNX ConvTranspose): dL/dX, dL/dW and dL/dB.
///
/// Shapes: input `[N, C, spatial…]`, weight `[C, M/group, k…]`, output gradient `[N, M, out…]`; the gradients have
/// the shapes of X, W and `[M]`. dL/dX is a convolution of dL/dY with W; dL/dW correlates X with dL/dY; dL/dB sums
/// dL/dY over the batch and every output position (bias-only positions included).
public struct ConvTransposeBackwardPlan: Sendable {
    public let problem: ConvTransposeProblem
    public let gradients: ConvolutionGradients
    public let backend: String
    public let prepared: any PreparedWeightedBackward

    /// - Parameters:
    ///   - descriptor: the operator's attributes.
    ///   - inputShape: the input's shape, `[N, C, spatial…]`.
    ///   - weightShape: `[C, M/group, k…]`.
    ///   - biasShape: `[M]` when the forward adds a bias (needed for the bias gradient), else nil.
    ///   - gradients: the gradients to compute; nil = input and weight, and bias when `biasShape` is given.
    ///   - backend: which backend prepares the plan (default: the first in `registry` that accepts it).
    ///   - registry: the backends to choose from.
    ///   - instance: a backend instance to prepare on directly instead of dispatching through `registry`.
    /// - Throws: ``CNNKitError`` from ``ConvTransposeProblem/init(descriptor:inputShape:weightShape:biasShape:)``,
    ///   when `.bias` is requested without `biasShape` or `gradients` is empty, or from backend selection.
    public init(
        _ descriptor: ConvTransposeDescriptor, inputShape: [Int], weightShape: [Int], biasShape: [Int]? = nil,
        gradients: ConvolutionGradients? = nil,
        backend: BackendSelection = .automatic, registry: BackendRegistry = .shared, on instance: (any Backend)? = nil
    ) throws {
        let problem = try ConvTransposeProblem(descriptor: descriptor, inputShape: inputShape, weightShape: weightShape, biasShape: biasShape)
        self.problem = problem
        self.gradients = try resolveGradients(gradients, hasBias: problem.hasBias, problem: problem.description)
        (prepared, self.backend) = try preparing(backend, registry, instance, problem: problem.description) {
            try $0.prepareBackward(problem)
        }
    }

    /// Computes the planned gradients from X, W and dL/dY; the ones not planned are nil.
    /// - Throws: ``CNNKitError`` when a tensor's shape differs from the plan, or scratch memory is not available.
    public func run(input: Tensor, weight: Tensor, outputGrad: Tensor) throws -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
        try runWeightedBackward(
            prepared, gradients: gradients, input: input, weight: weight, outputGrad: outputGrad,
            inputShape: problem.inputShape, weightShape: problem.weightShape, outputShape: problem.outputShape,
            channels: problem.outputChannels, problem: problem.description)
    }
}

/// The backward pass of a pooling operator (MaxPool, AveragePool, LpPool, the global pools, stochastic pooling).
///
/// Shapes: input `[N, C, spatial…]`, output gradient `[N, C, out…]`, input gradient like the input. Max pooling
/// sends each window's dL/dY to the element the forward `Indices` names (the first maximum in row-major window
/// order, the first NaN in a window holding NaN), summing where windows overlap; stochastic pooling in training
/// mode to the sampled element (the same seed gives the same samples); see <doc:Backward> for every kind.
public typealias PoolingBackwardPlan = PoolingFamilyBackwardPlan<PoolingProblem>
/// The backward pass of adaptive pooling: max through the first maximum of each window, average spread evenly over
/// the window; overlapping windows accumulate.
public typealias AdaptivePoolingBackwardPlan = PoolingFamilyBackwardPlan<AdaptivePoolingProblem>

/// The backward pass of a pooling operator; see ``PoolingBackwardPlan`` and ``AdaptivePoolingBackwardPlan``.
public struct PoolingFamilyBackwardPlan<Problem: PoolingFamilyProblem>: Sendable {
    public let problem: Problem
    public let backend: String
    public let prepared: any PreparedPoolingBackward

    /// - Throws: ``CNNKitError`` from the problem's validation or backend selection.
    public init(
        _ descriptor: Problem.Descriptor, inputShape: [Int], backend: BackendSelection = .automatic,
        registry: BackendRegistry = .shared, on instance: (any Backend)? = nil
    ) throws {
        let problem = try Problem(descriptor: descriptor, inputShape: inputShape)
        self.problem = problem
        (prepared, self.backend) = try preparing(backend, registry, instance, problem: problem.description) {
            try problem.prepareBackward(on: $0)
        }
    }

    /// Writes dL/dX into a preallocated tensor of `problem.inputShape` (every element).
    /// - Parameters:
    ///   - input: the forward input X (max, Lp and stochastic pooling depend on it).
    ///   - outputGrad: dL/dY, `problem.outputShape`.
    ///   - inputGrad: receives dL/dX; its shape must be `problem.inputShape`.
    /// - Throws: ``CNNKitError`` when a shape differs from the plan.
    public func run(input: Tensor, outputGrad: Tensor, into inputGrad: inout Tensor) throws {
        let text = problem.description
        try requireShape(input, problem.inputShape, "input.shape", problem: text)
        try requireShape(outputGrad, problem.outputShape, "outputGrad.shape", problem: text)
        try requireShape(inputGrad, problem.inputShape, "inputGrad.shape", problem: text)
        try quotingProblem(text) { try prepared.run(input: input, outputGrad: outputGrad, inputGrad: &inputGrad) }
    }

    /// Returns dL/dX, `[N, C, spatial…]`.
    public func run(input: Tensor, outputGrad: Tensor) throws -> Tensor {
        var inputGrad = zeros(problem.inputShape)
        try run(input: input, outputGrad: outputGrad, into: &inputGrad)
        return inputGrad
    }
}

/// A problem with one input and one output whose backward pass is linear (prepared through its own
/// `prepareBackward` requirement of ``Backend``).
public protocol UnaryBackwardProblem: UnaryProblem {
    /// Calls the backend's `prepareBackward` for this problem type.
    func prepareBackward(on backend: any Backend) throws -> any PreparedUnaryBackward
}

extension ResizeProblem: UnaryBackwardProblem {
    public func prepareBackward(on backend: any Backend) throws -> any PreparedUnaryBackward { try backend.prepareBackward(self) }
}
extension Col2ImProblem: UnaryBackwardProblem {
    public func prepareBackward(on backend: any Backend) throws -> any PreparedUnaryBackward { try backend.prepareBackward(self) }
}
extension PixelShuffleProblem: UnaryBackwardProblem {
    public func prepareBackward(on backend: any Backend) throws -> any PreparedUnaryBackward { try backend.prepareBackward(self) }
}
extension PadProblem: UnaryBackwardProblem {
    public func prepareBackward(on backend: any Backend) throws -> any PreparedUnaryBackward { try backend.prepareBackward(self) }
}

/// The backward pass of an operator linear in its one input — Resize, Col2Im, DepthToSpace / SpaceToDepth:
/// dL/dX = Jᵀ·dL/dY, independent of X.
///
/// Shapes: output gradient `problem.outputShape`, input gradient `problem.inputShape`. Resize: the adjoint of the
/// interpolation (each output's dY spread over the taps it read, with their weights). Col2Im: im2col of dY.
/// DepthToSpace / SpaceToDepth: the inverse permutation.
public struct UnaryBackwardPlan<Problem: UnaryBackwardProblem>: Sendable {
    public let problem: Problem
    public let backend: String
    public let prepared: any PreparedUnaryBackward

    /// - Parameters:
    ///   - descriptor: the operator's attributes.
    ///   - inputShape: the forward input's shape.
    ///   - backend: which backend prepares the plan (default: the first in `registry` that accepts it).
    ///   - registry: the backends to choose from.
    ///   - instance: a backend instance to prepare on directly instead of dispatching through `registry`.
    /// - Throws: ``CNNKitError`` from validation or backend selection.
    public init(
        _ descriptor: Problem.Descriptor, inputShape: [Int], backend: BackendSelection = .automatic,
        registry: BackendRegistry = .shared, on instance: (any Backend)? = nil
    ) throws {
        let problem = try Problem(descriptor: descriptor, inputShape: inputShape)
        self.problem = problem
        (prepared, self.backend) = try preparing(backend, registry, instance, problem: problem.description) {
            try problem.prepareBackward(on: $0)
        }
    }

    /// Writes dL/dX into a preallocated tensor of `problem.inputShape` (every element).
    /// - Throws: ``CNNKitError`` when a shape differs from the plan.
    public func run(outputGrad: Tensor, into inputGrad: inout Tensor) throws {
        let text = problem.description
        try requireShape(outputGrad, problem.outputShape, "outputGrad.shape", problem: text)
        try requireShape(inputGrad, problem.inputShape, "inputGrad.shape", problem: text)
        try quotingProblem(text) { try prepared.run(outputGrad: outputGrad, inputGrad: &inputGrad) }
    }

    /// Returns dL/dX, shaped like the forward input.
    public func run(outputGrad: Tensor) throws -> Tensor {
        var inputGrad = zeros(problem.inputShape)
        try run(outputGrad: outputGrad, into: &inputGrad)
        return inputGrad
    }
}

/// The backward pass of a resize (ONNX Resize-19), ready to run.
public typealias ResizeBackwardPlan = UnaryBackwardPlan<ResizeProblem>
/// The backward pass of a Col2Im (ONNX Col2Im-18), ready to run.
public typealias Col2ImBackwardPlan = UnaryBackwardPlan<Col2ImProblem>
/// The backward pass of a DepthToSpace / SpaceToDepth, ready to run.
public typealias PixelShuffleBackwardPlan = UnaryBackwardPlan<PixelShuffleProblem>
/// The backward pass of a Pad (ONNX Pad-19): each input position sums dL/dY over the outputs that read it.
public typealias PadBackwardPlan = UnaryBackwardPlan<PadProblem>

/// The backward pass of a MaxUnpool (ONNX MaxUnpool-22): `dX[i] = dY` at the position `indices[i]` names.
///
/// Shapes: indices like the forward input, output gradient `problem.outputShape`, input gradient
/// `problem.inputShape`.
public struct MaxUnpoolBackwardPlan: Sendable {
    public let problem: MaxUnpoolProblem
    public let backend: String
    public let prepared: any PreparedMaxUnpoolBackward

    /// - Throws: ``CNNKitError`` from validation or backend selection.
    public init(
        _ descriptor: MaxUnpoolDescriptor, inputShape: [Int], backend: BackendSelection = .automatic,
        registry: BackendRegistry = .shared, on instance: (any Backend)? = nil
    ) throws {
        let problem = try MaxUnpoolProblem(descriptor: descriptor, inputShape: inputShape)
        self.problem = problem
        (prepared, self.backend) = try preparing(backend, registry, instance, problem: problem.description) {
            try $0.prepareBackward(problem)
        }
    }

    /// Returns dL/dX, gathered from `outputGrad` at the positions `indices` names.
    /// - Throws: ``CNNKitError`` when a shape differs from the plan or an index lies outside the default unpooled
    ///   shape.
    public func run(indices: IndexTensor, outputGrad: Tensor) throws -> Tensor {
        let text = problem.description
        try requireShape(indices, problem.inputShape, "indices.shape", problem: text)
        try requireShape(outputGrad, problem.outputShape, "outputGrad.shape", problem: text)
        try requireUnpoolIndices(indices, problem)
        var inputGrad = zeros(problem.inputShape)
        try quotingProblem(text) { try prepared.run(indices: indices, outputGrad: outputGrad, inputGrad: &inputGrad) }
        return inputGrad
    }
}
