import CNNKitCore
/// The pure-Swift reference backend: plain loops straight from the operator definitions, every feature, never
/// optimised. It is the oracle the other backends are checked against. Registered as `"reference"`.
///
/// Accumulation is in `Double` so that its rounding error stays far below the tolerances other backends are held to.
/// Preparing decides nothing (the algorithm is always `"naive"`); weights given at plan time are kept as they are.
/// `workspaceBytes` reports the intermediates a run allocates (Double sums of ConvTranspose and Col2Im, kernel
/// offsets, resize tap lists), and every run compares them with ``MemoryBudget`` first.
public struct ReferenceBackend: Backend {
    public let name = "reference"

    public init() {}

    public func prepare(_ problem: ConvolutionProblem, constants: ConvolutionConstants) throws -> any PreparedWeightedOperator {
        // The kernel offsets (one [Int] per kernel position) when there is work.
        let empty = checkedProduct(problem.outputShape) == 0 || problem.inputChannels == 0
        let scratch = empty ? 0 : saturatingMultiply(saturatingProduct(problem.geometry.kernel), 8 * problem.geometry.spatialRank + 32)
        return Weighted(held: constants, scratch: scratch, problem: problem.description) {
            self.convolution(problem, input: $0, weight: $1, bias: $2, output: &$3)
        }
    }

    public func prepare(_ problem: ConvTransposeProblem) throws -> any PreparedWeightedOperator {
        // Double sums over the output, plus the kernel offsets.
        let empty = checkedProduct(problem.outputShape) == 0 || checkedProduct(problem.inputShape) == 0
        let scratch = empty ? 0 : saturatingAdd(
            saturatingMultiply(saturatingProduct(problem.outputShape), 8),
            saturatingMultiply(saturatingProduct(problem.kernel), 8 * problem.kernel.count + 32))
        return Weighted(held: .none, scratch: scratch, problem: problem.description) {
            self.convTranspose(problem, input: $0, weight: $1, bias: $2, output: &$3)
        }
    }

    public func prepare(_ problem: Col2ImProblem) throws -> any PreparedUnaryOperator {
        let scratch = checkedProduct(problem.inputShape) == 0 ? 0 : saturatingMultiply(saturatingProduct(problem.outputShape), 8)
        return Unary(scratch: scratch, problem: problem.description) { self.col2im(problem, input: $0, output: &$1) }
    }

    public func prepare(_ problem: PoolingProblem) throws -> any PreparedPooling {
        Pooling { self.pooling(problem, input: $0, output: &$1, indices: &$2) }
    }

    public func prepare(_ problem: ResizeProblem) throws -> any PreparedUnaryOperator {
        // Per axis and output position a tap list (16 bytes per tap, an array header per position).
        let scratch = problem.tapTableBytes(perTap: 16, perOutput: 48)
        return Unary(scratch: scratch, problem: problem.description) { self.resize(problem, input: $0, output: &$1) }
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
        var scratch = 0
        var problem: String? = nil
        let body: @Sendable (Tensor, Tensor, Tensor?, inout Tensor) -> Void
        var algorithm: String { "naive" }
        var workspaceBytes: Int { scratch }
        var holdsWeights: Bool { held.weight != nil }
        func run(input: Tensor, weight: Tensor?, bias: Tensor?, output: inout Tensor) throws {
            guard let w = weight ?? held.weight else {
                throw CNNKitError.invalidArgument("weight", value: "nil", expected: "a weight (the plan holds none)")
            }
            try MemoryBudget.require(scratch, for: "the reference backend's intermediates", problem: problem)
            body(input, w, weight == nil ? held.bias : bias, &output)
        }
    }

    struct Unary: PreparedUnaryOperator {
        var scratch = 0
        var problem: String? = nil
        let body: @Sendable (Tensor, inout Tensor) -> Void
        var algorithm: String { "naive" }
        var workspaceBytes: Int { scratch }
        func run(input: Tensor, output: inout Tensor) throws {
            try MemoryBudget.require(scratch, for: "the reference backend's intermediates", problem: problem)
            body(input, &output)
        }
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
