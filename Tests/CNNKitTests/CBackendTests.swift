import CNNKit
import CNNKitConformance
import Foundation
import Testing

/// Runs `problem` through the reference and through the C backend with each algorithm at 1 and 2 threads.
private func checkConvolution(
    _ problem: ConvolutionProblem, algorithms: [CBackend.ConvolutionAlgorithm] = [.direct, .im2colGEMM],
    tolerance: Float = 1e-4, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    var draw = Draw(UInt64(problem.description.utf8.count))
    let x = draw.tensor(problem.inputShape), w = draw.tensor(problem.weightShape)
    let b = problem.hasBias ? draw.tensor([problem.outputChannels]) : nil
    var expected = try Tensor(shape: problem.outputShape)
    ReferenceBackend().convolution(problem, input: x, weight: w, bias: b, output: &expected)
    for algorithm in algorithms {
        var first: [Float]? = nil
        for threads in [1, 2] {
            var y = try Tensor(shape: problem.outputShape, repeating: .nan)
            CBackend(threads: threads, algorithm: algorithm).convolution(problem, input: x, weight: w, bias: b, output: &y)
            let message = CrossCheck.mismatch(y.scalars, expected.scalars, .tolerance(tolerance))
            #expect(message == nil, "\(problem) \(algorithm.rawValue) threads \(threads): \(message ?? "")", sourceLocation: sourceLocation)
            if let first { #expect(CrossCheck.bitwiseMismatch(y.scalars, first) == nil, sourceLocation: sourceLocation) }
            first = y.scalars
        }
    }
}

/// Max pooling with indices on the C backend (2 threads) vs the reference, bit-exact, on ties, ±0, ±inf and NaN.
private func checkMaxPool(_ problem: PoolingProblem, sourceLocation: SourceLocation = #_sourceLocation) throws {
    var draw = Draw(UInt64(problem.description.utf8.count))
    let x = draw.spikyTensor(problem.inputShape, specials: true)
    var expected = try Tensor(shape: problem.outputShape)
    var expectedIndices: IndexTensor? = try IndexTensor(shape: problem.outputShape)
    ReferenceBackend().pooling(problem, input: x, output: &expected, indices: &expectedIndices)
    var y = try Tensor(shape: problem.outputShape)
    var ix: IndexTensor? = try IndexTensor(shape: problem.outputShape)
    CBackend(threads: 2).pooling(problem, input: x, output: &y, indices: &ix)
    #expect(CrossCheck.mismatch(y.scalars, expected.scalars, .exact) == nil, "\(problem)", sourceLocation: sourceLocation)
    #expect(CrossCheck.mismatch(ix!.scalars, expectedIndices!.scalars) == nil, "\(problem)", sourceLocation: sourceLocation)
}

@Suite("C backend")
struct CBackendTests {
    @Test func algorithmListMatchesTheSwiftEnum() {
        let named = CBackend.ConvolutionAlgorithm.allCases.filter { $0 != .automatic }.map(\.rawValue)
        #expect(CBackend().convolutionAlgorithms == named)
    }

    @Test func instructionSetCapIsHonoured() throws {
        #expect(CBackend(isa: "portable").isa == "portable")
        #expect(CBackend.allInstructionSets == ["portable", "avx2", "avx512"])
        #expect(CBackend().instructionSets.last == CBackend.detectedInstructionSet)
        #expect(throws: CNNKitError.self) { try CBackend().configured(threads: nil, convolutionAlgorithm: nil, isa: "sse9") }
        let problem = try ConvolutionProblem(descriptor: .init(pads: [1, 1, 1, 1]), inputShape: [1, 32, 9, 9], weightShape: [32, 32, 3, 3])
        let prepared = try CBackend(algorithm: .implicitGEMM, isa: "portable").prepare(problem, constants: .none)
        #expect(prepared.algorithm == "implicit_gemm/portable")
    }

    @Test func registeredFirst() {
        #expect(BackendRegistry.shared.names == ["c", "reference"])
        #expect(CBackend(threads: 0).threads == 1)
    }

    @Test func heuristicPicksPerLayer() throws {
        let backend = CBackend(algorithm: .automatic)
        func problem(_ input: [Int], _ weight: [Int], _ d: ConvolutionDescriptor) throws -> ConvolutionProblem {
            try ConvolutionProblem(descriptor: d, inputShape: input, weightShape: weight)
        }
        let pad1 = ConvolutionDescriptor(pads: [1, 1, 1, 1])
        let vector = backend.isa != "portable"
        #expect(backend.chooseAlgorithm(for: try problem([1, 64, 56, 56], [256, 64, 1, 1], .init())) == (vector ? .implicitGEMM : .gemm1x1))
        #expect(backend.chooseAlgorithm(for: try problem([1, 64, 56, 56], [64, 64, 3, 3], pad1)) == (vector ? .winograd : .im2colGEMM))
        #expect(backend.chooseAlgorithm(for: try problem([1, 3, 224, 224], [64, 3, 7, 7], .init(strides: [2, 2], pads: [3, 3, 3, 3]))) == (vector ? .implicitGEMM : .im2colGEMM))
        var depthwise = pad1
        depthwise.group = 144
        #expect(backend.chooseAlgorithm(for: try problem([1, 144, 56, 56], [144, 1, 3, 3], depthwise)) == .direct)
        #expect(backend.chooseAlgorithm(for: try problem([1, 1, 1024, 1024], [1, 1, 3, 3], pad1)) == .direct)
        #expect(backend.chooseAlgorithm(for: try problem([1, 1, 16000], [512, 1, 10], .init(strides: [5]))) == (vector ? .implicitGEMM : .im2colGEMM))
        // Without AVX2 the OpenBLAS paths take over.
        let portable = CBackend(isa: "portable")
        #expect(portable.chooseAlgorithm(for: try problem([1, 64, 56, 56], [256, 64, 1, 1], .init())) == .gemm1x1)
        #expect(portable.chooseAlgorithm(for: try problem([1, 64, 56, 56], [64, 64, 3, 3], pad1)) == .im2colGEMM)
        // A forced algorithm that cannot run a problem declines it, so dispatch falls back.
        let threeByThree = try problem([1, 4, 8, 8], [4, 4, 3, 3], pad1)
        #expect(!CBackend(algorithm: .gemm1x1).supports(threeByThree))
        #expect(CBackend(algorithm: .gemm1x1).supports(try problem([1, 4, 8, 8], [4, 4, 1, 1], .init())))
    }

    @Test func im2colWorkspaceStaysBounded() throws {
        // 3×3 conv on a 4K RGB image: a whole im2col matrix would be 27 × 8.3 M floats = 0.9 GB.
        let uhd = try ConvolutionProblem(
            descriptor: .init(pads: [1, 1, 1, 1]), inputShape: [1, 3, 2160, 3840], weightShape: [16, 3, 3, 3])
        let deep = try ConvolutionProblem(
            descriptor: .init(pads: [1, 1, 1, 1]), inputShape: [1, 4096, 64, 64], weightShape: [64, 4096, 3, 3])
        for problem in [uhd, deep] {
            for threads in [1, 2, 64] {
                let bytes = CBackend(threads: threads).im2colWorkspace(for: problem)
                let limit = 16 << 20
                #expect(bytes > 0 && bytes <= limit, "\(problem) threads \(threads): \(bytes) bytes")
            }
        }
    }

    // Problems larger than the random harness draws, named after the boundary they cross.

    @Test func im2colManyColumnTiles() throws {
        try checkConvolution(ConvolutionProblem(
            descriptor: .init(strides: [1, 2], pads: [1, 2, 0, 1]), inputShape: [2, 5, 90, 130], weightShape: [7, 5, 3, 3], biasShape: [7]))
    }

    @Test func im2colReductionSplitIntoRowChunks() throws {
        // K = C·kh·kw = 2100·9 = 18900 > 16384 rows per chunk: the GEMM accumulates over two chunks.
        try checkConvolution(ConvolutionProblem(
            descriptor: .init(pads: [1, 1, 1, 1]), inputShape: [1, 2100, 5, 4], weightShape: [9, 2100, 3, 3]), tolerance: 1e-3)
    }

    @Test func im2colOutputChannelBlocksOnSmallImages() throws {
        try checkConvolution(ConvolutionProblem(
            descriptor: .init(pads: [1, 1, 1, 1], group: 2), inputShape: [1, 64, 3, 3], weightShape: [160, 32, 3, 3], biasShape: [160]))
    }

    @Test func im2colSharedTileWithRowChunks() throws {
        // A small image with many output channels shares one column tile across the team; K = 9000 > 8192.
        try checkConvolution(ConvolutionProblem(
            descriptor: .init(pads: [1, 1, 1, 1]), inputShape: [1, 1000, 4, 4], weightShape: [70, 1000, 3, 3], biasShape: [70]),
            tolerance: 1e-3)
    }

    @Test func directRowWiderThanOneBlock() throws {
        try checkConvolution(ConvolutionProblem(
            descriptor: .init(strides: [3], pads: [4, 2], dilations: [2]), inputShape: [1, 3, 4000], weightShape: [20, 3, 5], biasShape: [20]))
    }

    @Test func directImageTooLargeForWholePlanes() throws {
        // A padded plane over the per-thread budget: the row-by-row direct path, with stride 2 phases.
        try checkConvolution(ConvolutionProblem(
            descriptor: .init(strides: [2, 1], pads: [1, 2, 1, 0], dilations: [1, 2], group: 2, mode: .convolution),
            inputShape: [1, 4, 330, 301], weightShape: [4, 2, 3, 3], biasShape: [4]), algorithms: [.direct])
    }

    @Test func gemm1x1ManyTilesAndGroups() throws {
        try checkConvolution(ConvolutionProblem(
            descriptor: .init(group: 2), inputShape: [2, 16, 33, 47], weightShape: [40, 8, 1, 1], biasShape: [40]),
            algorithms: [.gemm1x1, .direct, .im2colGEMM])
    }

    @Test func convTransposeManyColumnTiles() throws {
        // Mg·Πk = 36·9 column rows: col tiles of 4 MiB hold 3236 input positions, the input has 12000.
        let problem = try ConvTransposeProblem(
            descriptor: .init(strides: [2, 2], pads: [1, 0, 0, 1], outputPadding: [1, 0]),
            inputShape: [1, 3, 100, 120], weightShape: [3, 36, 3, 3], biasShape: [36])
        var draw = Draw(99)
        let x = draw.tensor(problem.inputShape), w = draw.tensor(problem.weightShape), b = draw.tensor([36])
        var expected = try Tensor(shape: problem.outputShape)
        ReferenceBackend().convTranspose(problem, input: x, weight: w, bias: b, output: &expected)
        var outputs: [[Float]] = []
        for threads in [1, 2] {
            var y = try Tensor(shape: problem.outputShape, repeating: .nan)
            CBackend(threads: threads).convTranspose(problem, input: x, weight: w, bias: b, output: &y)
            #expect(CrossCheck.mismatch(y.scalars, expected.scalars, .tolerance(1e-4)) == nil)
            outputs.append(y.scalars)
        }
        #expect(CrossCheck.bitwiseMismatch(outputs[0], outputs[1]) == nil)
    }

    @Test func maxPoolRowWiderThanOneBlock() throws {
        try checkMaxPool(PoolingProblem(
            descriptor: PoolingDescriptor(kind: .max, kernelShape: [3], strides: [2], pads: [1, 1]), inputShape: [1, 2, 5000]))
    }

    @Test func maxPoolImageTooLargeForWholePlanes() throws {
        for storageOrder in [StorageOrder.rowMajor, .columnMajor] {
            try checkMaxPool(PoolingProblem(
                descriptor: PoolingDescriptor(kind: .max, kernelShape: [3, 2], strides: [2, 1], pads: [1, 0, 1, 1], storageOrder: storageOrder),
                inputShape: [1, 2, 310, 290]))
        }
    }

    @Test func allNegativeInfinityWindowReportsFirstTap() throws {
        let x = try Tensor(shape: [1, 1, 2, 2], repeating: -.infinity)
        let (y, indices) = try poolingWithIndices(
            x, PoolingDescriptor(kind: .max, kernelShape: [2, 2], pads: [1, 1, 0, 0]), backend: "c")
        let minusInfinity = [Float](repeating: -.infinity, count: 4)
        #expect(y.scalars == minusInfinity)
        #expect(indices.scalars == [0, 0, 0, 0])
    }

    @Test func resizeOfLeadingAxisFallsBackToReference() throws {
        let problem = try ResizeProblem(
            descriptor: ResizeDescriptor(target: .scales([2, 1, 1, 1]), mode: .nearest), inputShape: [2, 1, 2, 2])
        #expect(!CBackend().supports(problem))
        let x = try Tensor(shape: [2, 1, 2, 2], scalars: [1, 2, 3, 4, 5, 6, 7, 8])
        let y = try resize(x, ResizeDescriptor(target: .scales([2, 1, 1, 1]), mode: .nearest))
        #expect(y.shape == [4, 1, 2, 2])
    }
}
