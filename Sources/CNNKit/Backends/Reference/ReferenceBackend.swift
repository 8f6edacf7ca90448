/// The pure-Swift reference backend: plain loops straight from the operator definitions, every feature, never
/// optimised. It is the oracle the other backends are checked against. Registered as `"reference"`.
///
/// Accumulation is in `Double` so that its rounding error stays far below the tolerances other backends are held to.
public struct ReferenceBackend: ConvolutionBackend, PoolingBackend, ResamplingBackend {
    public let name = "reference"

    public init() {}

    public func support(for problem: ConvolutionProblem) -> Support { .supported }
    public func support(for problem: ConvTransposeProblem) -> Support { .supported }
    public func support(for problem: Col2ImProblem) -> Support { .supported }
    public func support(for problem: PoolingProblem) -> Support { .supported }
    public func support(for problem: ResizeProblem) -> Support { .supported }
    public func support(for problem: PixelShuffleProblem) -> Support { .supported }
    public func support(for problem: MaxUnpoolProblem) -> Support { .supported }
}
