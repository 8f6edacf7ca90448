/// A backend's answer to "can you run this problem?".
public enum Support: Sendable, Hashable {
    case supported
    /// Declined, with the reason shown when `CNNKIT_VERBOSE=1` or when the backend was requested by name.
    case unsupported(String)

    public var isSupported: Bool { self == .supported }
}

/// A named implementation of some of CNNKit's operator families.
///
/// A backend conforms to one or more of ``ConvolutionBackend``, ``PoolingBackend`` and ``ResamplingBackend``.
/// Problems reach it validated (shapes, geometry and parameters checked, output allocated with the inferred
/// shape), so the run methods do not throw; they must fill every element of the output.
public protocol Backend: Sendable {
    /// The registry name, e.g. `"reference"` or `"c"`.
    var name: String { get }
}

/// Conv, ConvTranspose and Col2Im.
public protocol ConvolutionBackend: Backend {
    func support(for problem: ConvolutionProblem) -> Support
    /// `output` has `problem.outputShape`; `bias` is present iff `problem.hasBias`.
    func convolution(_ problem: ConvolutionProblem, input: Tensor, weight: Tensor, bias: Tensor?, output: inout Tensor)

    func support(for problem: ConvTransposeProblem) -> Support
    func convTranspose(_ problem: ConvTransposeProblem, input: Tensor, weight: Tensor, bias: Tensor?, output: inout Tensor)

    func support(for problem: Col2ImProblem) -> Support
    func col2im(_ problem: Col2ImProblem, input: Tensor, output: inout Tensor)
}

/// Max, average, Lp, global and stochastic pooling.
public protocol PoolingBackend: Backend {
    func support(for problem: PoolingProblem) -> Support
    /// `indices` is non-nil (shaped like `output`) when the caller asked for argmax indices.
    func pooling(_ problem: PoolingProblem, input: Tensor, output: inout Tensor, indices: inout IndexTensor?)
}

/// Resize, DepthToSpace / SpaceToDepth and MaxUnpool.
public protocol ResamplingBackend: Backend {
    func support(for problem: ResizeProblem) -> Support
    func resize(_ problem: ResizeProblem, input: Tensor, output: inout Tensor)

    func support(for problem: PixelShuffleProblem) -> Support
    func pixelShuffle(_ problem: PixelShuffleProblem, input: Tensor, output: inout Tensor)

    func support(for problem: MaxUnpoolProblem) -> Support
    /// Every index was checked to lie in `[0, Π problem.indexSpaceShape)`; `output` is zero-filled.
    func maxUnpool(_ problem: MaxUnpoolProblem, input: Tensor, indices: IndexTensor, output: inout Tensor)
}
