import CNNKitCore
/// The pure-Swift reference backend: plain loops straight from the operator definitions, every feature, never
/// optimised. It is the oracle the other backends are checked against. Registered as `"reference"`.
///
/// Accumulation is in `Double` so that its rounding error stays far below the tolerances other backends are held to.
/// Preparing decides nothing (the algorithm is always `"naive"`, no workspace); weights given at plan time are kept
/// as they are.
public struct ReferenceBackend: Backend {
    public let name = "reference"

    public init() {}

    public func prepare(_ problem: ConvolutionProblem, constants: ConvolutionConstants) throws -> any PreparedWeightedOperator {
        Weighted(held: constants) { self.convolution(problem, input: $0, weight: $1, bias: $2, output: &$3) }
    }

    public func prepare(_ problem: ConvTransposeProblem) throws -> any PreparedWeightedOperator {
        Weighted(held: .none) { self.convTranspose(problem, input: $0, weight: $1, bias: $2, output: &$3) }
    }

    public func prepare(_ problem: Col2ImProblem) throws -> any PreparedUnaryOperator {
        Unary { self.col2im(problem, input: $0, output: &$1) }
    }

    public func prepare(_ problem: PoolingProblem) throws -> any PreparedPooling {
        Pooling { self.pooling(problem, input: $0, output: &$1, indices: &$2) }
    }

    public func prepare(_ problem: ResizeProblem) throws -> any PreparedUnaryOperator {
        Unary { self.resize(problem, input: $0, output: &$1) }
    }

    public func prepare(_ problem: PixelShuffleProblem) throws -> any PreparedUnaryOperator {
        Unary { self.pixelShuffle(problem, input: $0, output: &$1) }
    }

    public func prepare(_ problem: MaxUnpoolProblem) throws -> any PreparedMaxUnpool {
        Unpool { self.maxUnpool(problem, input: $0, indices: $1, output: &$2) }
    }

    // The prepared forms: a problem bound to its loops.

    struct Weighted: PreparedWeightedOperator {
        let held: ConvolutionConstants
        let body: @Sendable (Tensor, Tensor, Tensor?, inout Tensor) -> Void
        var algorithm: String { "naive" }
        var workspaceBytes: Int { 0 }
        var holdsWeights: Bool { held.weight != nil }
        func run(input: Tensor, weight: Tensor?, bias: Tensor?, output: inout Tensor) throws {
            guard let w = weight ?? held.weight else {
                throw CNNKitError.invalidArgument("weight", value: "nil", expected: "a weight (the plan holds none)")
            }
            body(input, w, weight == nil ? held.bias : bias, &output)
        }
    }

    struct Unary: PreparedUnaryOperator {
        let body: @Sendable (Tensor, inout Tensor) -> Void
        var algorithm: String { "naive" }
        var workspaceBytes: Int { 0 }
        func run(input: Tensor, output: inout Tensor) throws { body(input, &output) }
    }

    struct Pooling: PreparedPooling {
        let body: @Sendable (Tensor, inout Tensor, inout IndexTensor?) -> Void
        var algorithm: String { "naive" }
        var workspaceBytes: Int { 0 }
        func run(input: Tensor, output: inout Tensor, indices: inout IndexTensor?) throws { body(input, &output, &indices) }
    }

    struct Unpool: PreparedMaxUnpool {
        let body: @Sendable (Tensor, IndexTensor, inout Tensor) -> Void
        var algorithm: String { "naive" }
        var workspaceBytes: Int { 0 }
        func run(input: Tensor, indices: IndexTensor, output: inout Tensor) throws { body(input, indices, &output) }
    }
}
