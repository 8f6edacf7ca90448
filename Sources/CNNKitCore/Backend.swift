/// The backend protocol and the prepared operators it returns.
///
/// A backend *prepares* a validated problem: it decides everything it can before seeing data (algorithm, kernel
/// variant, packed or transformed weights when the plan was given them, tap tables, workspace size) and returns
/// an object that owns those decisions. Plans hold that object and run it. Declining is a throw from `prepare`
/// (a ``CNNKitError`` of kind ``CNNKitError/Kind/unsupported`` with the reason); the registry then tries the next
/// backend. (oneDNN: primitive descriptor → primitive; XNNPACK: create → run.)

/// A named implementation of some of CNNKit's operators.
///
/// Every `prepare` requirement has a default that declines with "not implemented", so a backend implements only
/// the operators it has; ``OperatorKind`` lists them all. Problems reach a backend validated (shapes, geometry and
/// parameters checked), and the prepared object's `run` is called only with tensors of the planned shapes.
public protocol Backend: Sendable {
    /// The registry name, e.g. `"reference"` or `"c"`.
    var name: String { get }

    /// Conv. `constants` carries the weights and bias when the plan was built with them (to pack once).
    func prepare(_ problem: ConvolutionProblem, constants: ConvolutionConstants) throws -> any PreparedWeightedOperator
    /// ConvTranspose.
    func prepare(_ problem: ConvTransposeProblem) throws -> any PreparedWeightedOperator
    /// Col2Im.
    func prepare(_ problem: Col2ImProblem) throws -> any PreparedUnaryOperator
    /// MaxPool, AveragePool, LpPool, the global pools, stochastic pooling.
    func prepare(_ problem: PoolingProblem) throws -> any PreparedPooling
    /// Resize.
    func prepare(_ problem: ResizeProblem) throws -> any PreparedUnaryOperator
    /// DepthToSpace / SpaceToDepth.
    func prepare(_ problem: PixelShuffleProblem) throws -> any PreparedUnaryOperator
    /// MaxUnpool.
    func prepare(_ problem: MaxUnpoolProblem) throws -> any PreparedMaxUnpool
    /// Pad.
    func prepare(_ problem: PadProblem) throws -> any PreparedUnaryOperator
    /// Adaptive max and average pooling.
    func prepare(_ problem: AdaptivePoolingProblem) throws -> any PreparedPooling

    // Backward passes (vector-Jacobian products: given dL/dY, the gradients with respect to the inputs). Each
    // takes the forward problem; see `Backward.swift` for the prepared forms.

    /// Conv backward: dL/dX, dL/dW, dL/dB.
    func prepareBackward(_ problem: ConvolutionProblem) throws -> any PreparedWeightedBackward
    /// ConvTranspose backward: dL/dX, dL/dW, dL/dB.
    func prepareBackward(_ problem: ConvTransposeProblem) throws -> any PreparedWeightedBackward
    /// Pooling backward: dL/dX (max and stochastic training mode through the selected element).
    func prepareBackward(_ problem: PoolingProblem) throws -> any PreparedPoolingBackward
    /// Resize backward: the adjoint of the resampling.
    func prepareBackward(_ problem: ResizeProblem) throws -> any PreparedUnaryBackward
    /// DepthToSpace / SpaceToDepth backward: the inverse permutation.
    func prepareBackward(_ problem: PixelShuffleProblem) throws -> any PreparedUnaryBackward
    /// Col2Im backward: im2col of dL/dY.
    func prepareBackward(_ problem: Col2ImProblem) throws -> any PreparedUnaryBackward
    /// MaxUnpool backward: dL/dX gathered from dL/dY at the indices.
    func prepareBackward(_ problem: MaxUnpoolProblem) throws -> any PreparedMaxUnpoolBackward
    /// Pad backward: each input position receives the sum of dL/dY over the output positions that read it.
    func prepareBackward(_ problem: PadProblem) throws -> any PreparedUnaryBackward
    /// Adaptive pooling backward: dL/dX (max through the first maximum of each window).
    func prepareBackward(_ problem: AdaptivePoolingProblem) throws -> any PreparedPoolingBackward
}

/// Every operator a backend can implement, in one list: plans, one-call functions, the registry's messages, the
/// cross-check tests and `cnnkit bench` name operators by these cases.
public enum OperatorKind: String, Sendable, Hashable, CaseIterable {
    case convolution = "Conv"
    case convTranspose = "ConvTranspose"
    case col2im = "Col2Im"
    case pooling = "Pool"
    case resize = "Resize"
    case pixelShuffle = "DepthToSpace/SpaceToDepth"
    case maxUnpool = "MaxUnpool"
    case pad = "Pad"
    case adaptivePooling = "AdaptivePool"
    case convolutionBackward = "Conv backward"
    case convTransposeBackward = "ConvTranspose backward"
    case col2imBackward = "Col2Im backward"
    case poolingBackward = "Pool backward"
    case resizeBackward = "Resize backward"
    case pixelShuffleBackward = "DepthToSpace/SpaceToDepth backward"
    case maxUnpoolBackward = "MaxUnpool backward"
    case padBackward = "Pad backward"
    case adaptivePoolingBackward = "AdaptivePool backward"
}

extension Backend {
    /// The decline a backend gives for an operator it does not implement.
    public func notImplemented(_ op: OperatorKind, _ problem: some CustomStringConvertible) -> CNNKitError {
        CNNKitError(kind: .unsupported, parameter: "backend", value: name,
                    expected: "a backend that implements \(op.rawValue) (not implemented)", problem: problem.description)
    }

    /// The decline a backend gives for a problem it implements but will not run, with the reason.
    public func declining(_ reason: String, _ problem: some CustomStringConvertible) -> CNNKitError {
        CNNKitError(kind: .unsupported, parameter: "backend", value: name,
                    expected: "a backend that supports this problem (\(reason))", problem: problem.description)
    }

    public func prepare(_ problem: ConvolutionProblem, constants: ConvolutionConstants) throws -> any PreparedWeightedOperator {
        throw notImplemented(.convolution, problem)
    }
    public func prepare(_ problem: ConvTransposeProblem) throws -> any PreparedWeightedOperator {
        throw notImplemented(.convTranspose, problem)
    }
    public func prepare(_ problem: Col2ImProblem) throws -> any PreparedUnaryOperator { throw notImplemented(.col2im, problem) }
    public func prepare(_ problem: PoolingProblem) throws -> any PreparedPooling { throw notImplemented(.pooling, problem) }
    public func prepare(_ problem: ResizeProblem) throws -> any PreparedUnaryOperator { throw notImplemented(.resize, problem) }
    public func prepare(_ problem: PixelShuffleProblem) throws -> any PreparedUnaryOperator {
        throw notImplemented(.pixelShuffle, problem)
    }
    public func prepare(_ problem: MaxUnpoolProblem) throws -> any PreparedMaxUnpool { throw notImplemented(.maxUnpool, problem) }
    public func prepare(_ problem: PadProblem) throws -> any PreparedUnaryOperator { throw notImplemented(.pad, problem) }
    public func prepare(_ problem: AdaptivePoolingProblem) throws -> any PreparedPooling {
        throw notImplemented(.adaptivePooling, problem)
    }

    public func prepareBackward(_ problem: ConvolutionProblem) throws -> any PreparedWeightedBackward {
        throw notImplemented(.convolutionBackward, problem)
    }
    public func prepareBackward(_ problem: ConvTransposeProblem) throws -> any PreparedWeightedBackward {
        throw notImplemented(.convTransposeBackward, problem)
    }
    public func prepareBackward(_ problem: PoolingProblem) throws -> any PreparedPoolingBackward {
        throw notImplemented(.poolingBackward, problem)
    }
    public func prepareBackward(_ problem: ResizeProblem) throws -> any PreparedUnaryBackward {
        throw notImplemented(.resizeBackward, problem)
    }
    public func prepareBackward(_ problem: PixelShuffleProblem) throws -> any PreparedUnaryBackward {
        throw notImplemented(.pixelShuffleBackward, problem)
    }
    public func prepareBackward(_ problem: Col2ImProblem) throws -> any PreparedUnaryBackward {
        throw notImplemented(.col2imBackward, problem)
    }
    public func prepareBackward(_ problem: MaxUnpoolProblem) throws -> any PreparedMaxUnpoolBackward {
        throw notImplemented(.maxUnpoolBackward, problem)
    }
    public func prepareBackward(_ problem: PadProblem) throws -> any PreparedUnaryBackward {
        throw notImplemented(.padBackward, problem)
    }
    public func prepareBackward(_ problem: AdaptivePoolingProblem) throws -> any PreparedPoolingBackward {
        throw notImplemented(.adaptivePoolingBackward, problem)
    }
}

/// Weights (and bias) known when a convolution plan is built, so a backend can pack or transform them once.
/// Empty when the plan takes its weights at run time.
public struct ConvolutionConstants: Sendable {
    /// `[M, C/group, k…]`, or nil.
    public var weight: Tensor?
    /// `[M]`, or nil.
    public var bias: Tensor?

    public init(weight: Tensor? = nil, bias: Tensor? = nil) {
        self.weight = weight
        self.bias = bias
    }

    public static let none = ConvolutionConstants()
}

/// What every prepared operator reports.
public protocol PreparedOperator: Sendable {
    /// The algorithm and kernel variant the backend chose, e.g. `"implicit_gemm/avx512"` or `"naive"`.
    var algorithm: String { get }
    /// Bytes of scratch memory one run allocates (im2col tiles, padded planes, packed weights when not held, …).
    var workspaceBytes: Int { get }
}

/// A prepared Conv or ConvTranspose.
public protocol PreparedWeightedOperator: PreparedOperator {
    /// Whether the plan holds the weights (packed at prepare time), so `run` may be called with `weight: nil`.
    var holdsWeights: Bool { get }
    /// `output` has the problem's output shape; `weight` and `bias` have the planned shapes (or are nil when the
    /// plan holds them). Fills every element of `output`.
    /// - Throws: ``CNNKitError`` when scratch memory cannot be allocated.
    func run(input: Tensor, weight: Tensor?, bias: Tensor?, output: inout Tensor) throws
}

/// A prepared operator with one input and one output (Col2Im, Resize, DepthToSpace / SpaceToDepth).
public protocol PreparedUnaryOperator: PreparedOperator {
    /// - Throws: ``CNNKitError`` when scratch memory cannot be allocated.
    func run(input: Tensor, output: inout Tensor) throws
}

/// A prepared pooling operator.
public protocol PreparedPooling: PreparedOperator {
    /// `indices` is non-nil (shaped like `output`) when the caller asked for argmax indices.
    /// - Throws: ``CNNKitError`` when scratch memory cannot be allocated.
    func run(input: Tensor, output: inout Tensor, indices: inout IndexTensor?) throws
}

/// A prepared MaxUnpool.
public protocol PreparedMaxUnpool: PreparedOperator {
    /// Every index lies in `[0, Π problem.indexSpaceShape)`; `output` is zero-filled.
    /// - Throws: ``CNNKitError`` when scratch memory cannot be allocated.
    func run(input: Tensor, indices: IndexTensor, output: inout Tensor) throws
}
