import Foundation
import Testing
import CNNKit

/// Plans and backends are shared by concurrent callers: 8 threads running the same plans (and the same backend
/// instances) get bitwise the results one caller gets. `scripts/sanitize-c-backend.sh thread` runs this suite under
/// ThreadSanitizer.
@Suite("Concurrency: shared plans and backends")
struct ConcurrencyTests {
    static let callers = 8
    static let rounds = 3

    /// Every operator family, planned once on `backend`; each closure runs its plan on fixed inputs.
    static func workloads(_ backend: any Backend) throws -> [(String, @Sendable () throws -> [Float])] {
        let x = try normalTensor([2, 8, 12, 12], seed: 1)
        let w = try normalTensor([16, 8, 3, 3], seed: 2), b = try normalTensor([16], seed: 3)
        let wide = try normalTensor([2, 32, 10, 10], seed: 4), wideW = try normalTensor([32, 32, 3, 3], seed: 5)
        let packed = try ConvolutionPlan(ConvolutionDescriptor(pads: [1, 1, 1, 1]), inputShape: x.shape, weightShape: w.shape,
                                         weight: w, bias: b, on: backend)
        let perRun = try ConvolutionPlan(ConvolutionDescriptor(strides: [2, 2], activation: .relu), inputShape: wide.shape,
                                         weightShape: wideW.shape, on: backend)
        let transposed = try ConvTransposePlan(ConvTransposeDescriptor(strides: [2, 2], pads: [1, 1, 1, 1]), inputShape: x.shape,
                                               weightShape: [8, 4, 3, 3], on: backend)
        let tw = try normalTensor([8, 4, 3, 3], seed: 6)
        let maxPool = try PoolingPlan(PoolingDescriptor(kind: .max, kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1]),
                                      inputShape: x.shape, on: backend)
        let average = try PoolingPlan(PoolingDescriptor(kind: .average(countIncludePad: true), kernelShape: [2, 3], autoPad: .sameUpper),
                                      inputShape: x.shape, on: backend)
        let stochastic = try PoolingPlan(PoolingDescriptor(kind: .stochastic(seed: 9), kernelShape: [2, 2], strides: [2, 2]),
                                         inputShape: x.shape, on: backend)
        let cubic = try ResizePlan(ResizeDescriptor(target: .scales([1, 1, 1.5, 0.75]), mode: .cubic), inputShape: x.shape, on: backend)
        let linear = try ResizePlan(ResizeDescriptor(target: .sizes([7, 17]), mode: .linear, antialias: true, axes: [2, 3]),
                                    inputShape: x.shape, on: backend)
        let shuffle = try PixelShufflePlan(PixelShuffleDescriptor(.spaceToDepth, blockSize: 2, mode: .crd), inputShape: x.shape, on: backend)
        let columns = try normalTensor([2, 8 * 4, 25], seed: 7)
        let col2im = try Col2ImPlan(Col2ImDescriptor(imageShape: [6, 6], blockShape: [2, 2]), inputShape: columns.shape, on: backend)
        let unpool = try MaxUnpoolPlan(MaxUnpoolDescriptor(kernelShape: [2, 2], strides: [2, 2]), inputShape: [2, 8, 6, 6], on: backend)
        let (pooled, indices) = try PoolingPlan(PoolingDescriptor(kind: .max, kernelShape: [2, 2], strides: [2, 2]),
                                                inputShape: x.shape, on: backend).runWithIndices(input: x)
        return [
            ("conv packed", { try packed.run(input: x).scalars }),
            ("conv per-run weights", { try perRun.run(input: wide, weight: wideW).scalars }),
            ("convtranspose", { try transposed.run(input: x, weight: tw).scalars }),
            ("maxpool + indices", { let r = try maxPool.runWithIndices(input: x); return r.output.scalars + r.indices.scalars.map(Float.init) }),
            ("avgpool", { try average.run(input: x).scalars }),
            ("stochastic", { let r = try stochastic.runWithIndices(input: x); return r.output.scalars + r.indices.scalars.map(Float.init) }),
            ("resize cubic", { try cubic.run(input: x).scalars }),
            ("resize linear aa", { try linear.run(input: x).scalars }),
            ("spacetodepth", { try shuffle.run(input: x).scalars }),
            ("col2im", { try col2im.run(input: columns).scalars }),
            ("maxunpool", { try unpool.run(input: pooled, indices: indices).scalars }),
        ]
    }

    @Test(arguments: allBackends) func eightCallersShareOnePlanEach(backend name: String) throws {
        let backend = try #require(BackendRegistry.shared.backend(named: name))
        let workloads = try Self.workloads(backend)
        // One caller first: the expected bits.
        let expected = try workloads.map { try $0.1() }
        let results = Results(count: Self.callers * workloads.count)
        DispatchQueue.concurrentPerform(iterations: Self.callers) { caller in
            for round in 0..<Self.rounds {
                // Each caller walks the workloads in its own order, so different plans overlap in time too.
                for k in 0..<workloads.count {
                    let index = (k + caller + round) % workloads.count
                    let output = (try? workloads[index].1()) ?? []
                    results.record(caller * workloads.count + index, output)
                }
            }
        }
        for caller in 0..<Self.callers {
            for (index, workload) in workloads.enumerated() {
                for output in results.outputs(caller * workloads.count + index) {
                    #expect(output.map(\.bitPattern) == expected[index].map(\.bitPattern),
                            "\(name) \(workload.0): caller \(caller) differs from a single caller")
                }
            }
        }
    }

    /// Outputs of the concurrent callers, kept under a lock.
    final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [[[Float]]]
        init(count: Int) { values = Array(repeating: [], count: count) }
        func record(_ slot: Int, _ output: [Float]) { lock.lock(); values[slot].append(output); lock.unlock() }
        func outputs(_ slot: Int) -> [[Float]] { lock.lock(); defer { lock.unlock() }; return values[slot] }
    }
}
