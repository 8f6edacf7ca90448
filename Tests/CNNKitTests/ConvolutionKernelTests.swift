import CNNKit
import Foundation
import Testing

@Suite("C backend convolution kernels on real layer shapes")
struct ConvolutionKernelTests {
    /// Layers past the register tile in every direction: M, K and pixel tails, pads, strides, groups, batch 2.
    static let layers: [(input: [Int], weight: [Int], descriptor: ConvolutionDescriptor)] = [
        ([2, 37, 15, 13], [70, 37, 3, 3], .init(pads: [1, 0, 2, 1])),
        ([1, 64, 17, 9], [33, 64, 3, 3], .init(pads: [1, 1, 1, 1], activation: .relu)),
        ([1, 48, 19, 23], [40, 24, 3, 3], .init(pads: [2, 2, 0, 1], group: 2, mode: .convolution)),
        ([1, 3, 31, 29], [29, 3, 7, 7], .init(strides: [2, 2], pads: [3, 3, 3, 3])),
        ([1, 20, 12, 12], [50, 20, 1, 1], .init(activation: .clamp(min: -0.5, max: 0.75))),
        ([1, 1, 333], [45, 1, 10], .init(strides: [5])),
        ([1, 6, 5, 7, 6], [19, 6, 3, 2, 3], .init(strides: [1, 2, 1], pads: [1, 0, 1, 1, 1, 0], dilations: [1, 1, 2])),
    ]

    @Test("implicit_gemm and winograd agree with the reference for every ISA and thread count", arguments: 0..<7)
    func packedAlgorithmsAgree(layer: Int) throws {
        let (inputShape, weightShape, descriptor) = Self.layers[layer]
        let problem = try ConvolutionProblem(
            descriptor: descriptor, inputShape: inputShape, weightShape: weightShape, biasShape: [weightShape[0]])
        let x = try normalTensor(inputShape, seed: 1), w = try normalTensor(weightShape, seed: 2)
        let b = try normalTensor([weightShape[0]], seed: 3)
        var expected = try Tensor(shape: problem.outputShape)
        ReferenceBackend().convolution(problem, input: x, weight: w, bias: b, output: &expected)
        for algorithm in [CBackend.ConvolutionAlgorithm.implicitGEMM, .winograd] {
            for isa in CBackend().instructionSets {
                let backend = CBackend(threads: 1, algorithm: algorithm, isa: isa)
                guard backend.supports(problem) else {
                    #expect(algorithm == .winograd, "\(algorithm) declined \(problem)")
                    continue
                }
                var first: [Float] = []
                for threads in [1, 2, 3] {
                    for packed in [false, true] {
                        var y = try Tensor(shape: problem.outputShape, repeating: .nan)
                        CBackend(threads: threads, algorithm: algorithm, isa: isa)
                            .convolution(problem, input: x, weight: w, bias: b, output: &y, packed: packed)
                        let error = relativeError(y.scalars, expected.scalars)
                        #expect(error < 2e-5, "\(problem) \(algorithm.rawValue)/\(isa) threads \(threads): error \(error)")
                        if first.isEmpty { first = y.scalars }
                        #expect(y.scalars.map(\.bitPattern) == first.map(\.bitPattern),
                                "\(problem) \(algorithm.rawValue)/\(isa): threads \(threads) packed \(packed) differ bitwise")
                    }
                }
            }
        }
    }

    /// The documented Winograd bound (Convolution article): on normal data with 512 input channels the error
    /// stays below 1e-4 of the largest output.
    @Test func winogradErrorBoundWith512InputChannels() throws {
        let problem = try ConvolutionProblem(
            descriptor: .init(pads: [1, 1, 1, 1]), inputShape: [1, 512, 14, 14], weightShape: [32, 512, 3, 3])
        let x = try normalTensor(problem.inputShape, seed: 11), w = try normalTensor(problem.weightShape, seed: 12)
        var expected = try Tensor(shape: problem.outputShape)
        ReferenceBackend().convolution(problem, input: x, weight: w, bias: nil, output: &expected)
        for isa in CBackend().instructionSets {
            var y = try Tensor(shape: problem.outputShape)
            CBackend(algorithm: .winograd, isa: isa).convolution(problem, input: x, weight: w, bias: nil, output: &y)
            let error = relativeError(y.scalars, expected.scalars)
            #expect(error < 1e-4, "winograd/\(isa): max error / max |y| = \(error)")
        }
    }

    @Test func planHoldsPackedWeightsAndRunsWithoutThem() throws {
        let x = try normalTensor([1, 32, 10, 10], seed: 5), w = try normalTensor([48, 32, 3, 3], seed: 6)
        let b = try normalTensor([48], seed: 7)
        let descriptor = ConvolutionDescriptor(pads: [1, 1, 1, 1], activation: .relu)
        let plan = try ConvolutionPlan(descriptor, inputShape: x.shape, weightShape: w.shape, weight: w, bias: b, backend: "c")
        #expect(plan.holdsWeights)
        let reference = try convolution(x, weight: w, bias: b, descriptor, backend: "reference")
        #expect(relativeError(try plan.run(input: x).scalars, reference.scalars) < 2e-5)
        #expect(try plan.run(input: x).scalars.allSatisfy { $0 >= 0 })
        let unpacked = try ConvolutionPlan(descriptor, inputShape: x.shape, weightShape: w.shape, biasShape: [48], backend: "c")
        #expect(throws: CNNKitError.self) { try unpacked.run(input: x) }
        #expect(relativeError(try unpacked.run(input: x, weight: w, bias: b).scalars, reference.scalars) < 2e-5)
    }
}
