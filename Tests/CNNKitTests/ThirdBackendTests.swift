import CNNKit
import Testing

/// A third backend that implements only Conv (the reference's loops under another name): every other operator
/// takes the protocol's "not implemented" default.
private struct ConvOnlyBackend: Backend {
    var name: String { "conv-only" }
    func prepare(_ problem: ConvolutionProblem, constants: ConvolutionConstants) throws -> any PreparedWeightedOperator {
        try ReferenceBackend().prepare(problem, constants: constants)
    }
}

@Suite("A third backend plugs in without touching the others")
struct ThirdBackendTests {
    let registry = BackendRegistry([ConvOnlyBackend(), CBackend(), ReferenceBackend()])

    @Test func itIsCrossCheckedByBeingRegistered() {
        let variants = BackendVariant.all(convolution: true, registry: registry).map(\.description)
        #expect(variants.contains("conv-only"))
        #expect(variants.contains { $0.hasPrefix("c/") })
        #expect(!variants.contains("reference"))
    }

    @Test func dispatchTakesItFirstAndFallsBackForWhatItLacks() throws {
        let conv = try ConvolutionPlan(.init(pads: [1, 1, 1, 1]), inputShape: [1, 2, 5, 5], weightShape: [3, 2, 3, 3], registry: registry)
        #expect(conv.backend == "conv-only")
        let pool = try PoolingPlan(PoolingDescriptor(kind: .max, kernelShape: [2, 2]), inputShape: [1, 2, 4, 4], registry: registry)
        #expect(pool.backend == "c")
        let problem = try PoolingProblem(descriptor: PoolingDescriptor(kind: .max, kernelShape: [2, 2]), inputShape: [1, 2, 4, 4])
        do {
            _ = try ConvOnlyBackend().prepare(problem)
            Issue.record("the default prepare must decline")
        } catch let error as CNNKitError {
            #expect(error.kind == .unsupported)
            #expect(error.expected.contains("not implemented"))
        }
    }
}
