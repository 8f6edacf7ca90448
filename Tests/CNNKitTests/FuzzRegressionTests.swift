import CNNKit
import CNNKitConformance
import CNNKitTestSupport
import Foundation
import Testing

// Geometries the libFuzzer targets (scripts/fuzz.sh --libfuzzer, Fuzz/ck_fuzz_*.c) crashed or hung the C kernels
// on, through the public API: every instruction-set variant this CPU has (plus the default), 1 and 2 threads,
// against the reference backend (exactly for max pooling and nearest resize, 1e-4 otherwise), and bitwise equal
// across thread counts. The fuzz inputs themselves stay in the targets' corpora.

/// The C backends to run: the default and each ISA variant the CPU has (portable included: it takes the plain C
/// loops every window, where the AVX variants take them only for some geometries).
private var variants: [(String, (Int) -> CBackend)] {
    [("default", { CBackend(threads: $0) })] +
        ["avx512", "avx2", "portable"].filter { CBackend().instructionSets.contains($0) }.map { isa in (isa, { CBackend(threads: $0, isa: isa) }) }
}

private func compare(_ got: [Float], _ expected: [Float], exact: Bool, _ what: String,
                     sourceLocation: SourceLocation = #_sourceLocation) {
    let message = CrossCheck.mismatch(got, expected, exact ? .exact : .tolerance(1e-4))
    #expect(message == nil, "\(what): \(message ?? "")", sourceLocation: sourceLocation)
}

private func checkResize(_ problem: ResizeProblem, sourceLocation: SourceLocation = #_sourceLocation) throws {
    var draw = Draw(UInt64(problem.description.utf8.count))
    let x = draw.tensor(problem.inputShape)
    var expected = try Tensor(shape: problem.outputShape)
    try ReferenceBackend().prepare(problem).run(input: x, output: &expected)
    for (name, make) in variants {
        var first: [Float]? = nil
        for threads in [1, 2] {
            var y = try Tensor(shape: problem.outputShape, repeating: .nan)
            try make(threads).prepare(problem).run(input: x, output: &y)
            compare(y.scalars, expected.scalars, exact: problem.descriptor.mode == .nearest,
                    "\(problem) \(name) threads \(threads)", sourceLocation: sourceLocation)
            if let first { #expect(CrossCheck.bitwiseMismatch(y.scalars, first) == nil, sourceLocation: sourceLocation) }
            first = y.scalars
        }
    }
}

private func checkPool(_ problem: PoolingProblem, sourceLocation: SourceLocation = #_sourceLocation) throws {
    var draw = Draw(UInt64(problem.description.utf8.count))
    let x = draw.spikyTensor(problem.inputShape, specials: true)
    let isMax = if case .max = problem.descriptor.kind { true } else { false }
    var expected = try Tensor(shape: problem.outputShape)
    var expectedIndices: IndexTensor? = isMax ? try IndexTensor(shape: problem.outputShape) : nil
    try ReferenceBackend().prepare(problem).run(input: x, output: &expected, indices: &expectedIndices)
    for (name, make) in variants {
        var first: [Float]? = nil
        for threads in [1, 2] {
            var y = try Tensor(shape: problem.outputShape, repeating: .nan)
            var ix: IndexTensor? = isMax ? try IndexTensor(shape: problem.outputShape) : nil
            try make(threads).prepare(problem).run(input: x, output: &y, indices: &ix)
            compare(y.scalars, expected.scalars, exact: isMax, "\(problem) \(name) threads \(threads)",
                    sourceLocation: sourceLocation)
            if isMax {
                #expect(CrossCheck.mismatch(ix!.scalars, expectedIndices!.scalars) == nil, "\(problem) \(name)",
                        sourceLocation: sourceLocation)
            }
            if let first { #expect(CrossCheck.bitwiseMismatch(y.scalars, first) == nil, sourceLocation: sourceLocation) }
            first = y.scalars
        }
    }
}

private func checkConvolution(_ problem: ConvolutionProblem, sourceLocation: SourceLocation = #_sourceLocation) throws {
    var draw = Draw(UInt64(problem.description.utf8.count))
    let x = draw.tensor(problem.inputShape), w = draw.tensor(problem.weightShape)
    let b = problem.hasBias ? draw.tensor([problem.outputChannels]) : nil
    var expected = try Tensor(shape: problem.outputShape)
    try ReferenceBackend().prepare(problem, constants: .none).run(input: x, weight: w, bias: b, output: &expected)
    let direct: [(String, (Int) -> CBackend)] =
        [("direct", { CBackend(threads: $0, algorithm: .direct) })] +
        ["avx512", "avx2", "portable"].filter { CBackend().instructionSets.contains($0) }.map { isa in
            ("direct/\(isa)", { CBackend(threads: $0, algorithm: .direct, isa: isa) })
        }
    for (name, make) in variants + direct {
        var first: [Float]? = nil
        for threads in [1, 2] {
            var y = try Tensor(shape: problem.outputShape, repeating: .nan)
            try make(threads).prepare(problem, constants: .none).run(input: x, weight: w, bias: b, output: &y)
            compare(y.scalars, expected.scalars, exact: false, "\(problem) \(name) threads \(threads)",
                    sourceLocation: sourceLocation)
            if let first { #expect(CrossCheck.bitwiseMismatch(y.scalars, first) == nil, sourceLocation: sourceLocation) }
            first = y.scalars
        }
    }
}

@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    // resample-crash-cd597ef9…: SEGV in vblend (AVX-512; the AVX2 driver is the same macro). w was the identity
    // (IW = OW = 1) and every (d, h) weight of an output row zero (-0, -0), so no row was left to blend and vblend
    // read rows[0] unset. Such a row is 0 (as in the portable path). The Swift tap tables never zero every weight
    // of a row, so these are the geometry the input hit: identity along w, d resampled by linear taps some of
    // whose weights are 0; the all-zero row itself stays covered by the fuzz corpus.
    @Test func resizeIdentityAlongWidthWithLinearDepth() throws {
        for transformation in [CoordinateTransformation.alignCorners, .halfPixel, .asymmetric] {
            for mode in [ResizeMode.linear, .cubic, .nearest] {
                let descriptor = ResizeDescriptor(target: .sizes([1, 1, 4, 1, 1]), mode: mode, coordinateTransformation: transformation)
                try checkResize(ResizeProblem(descriptor: descriptor, inputShape: [1, 1, 4, 1, 1]))
                let up = ResizeDescriptor(target: .sizes([1, 2, 7, 3, 1]), mode: mode, coordinateTransformation: transformation)
                try checkResize(ResizeProblem(descriptor: up, inputShape: [1, 2, 4, 2, 1]))
            }
        }
    }

    // pool-timeout-1f65090c…: max_row looped over every kernel row (kernel 2^60 along h over an empty input);
    // ck_prow_rows (all four row kernels) and the exact NaN fallback now compute the taps inside the input. The
    // API declines such kernels; these windows reach far past the input along h and d.
    @Test func poolWindowsFarLargerThanTheInput() throws {
        let kinds: [PoolingKind] = [.max, .average(countIncludePad: false), .average(countIncludePad: true), .lp(p: 2)]
        for kind in kinds {
            try checkPool(PoolingProblem(
                descriptor: PoolingDescriptor(kind: kind, kernelShape: [7, 1], strides: [3, 1], pads: [3, 0, 3, 0]),
                inputShape: [1, 3, 2, 6]))
            try checkPool(PoolingProblem(
                descriptor: PoolingDescriptor(kind: kind, kernelShape: [9, 3], strides: [1, 2], pads: [4, 1, 4, 1]),
                inputShape: [2, 2, 3, 21]))
            try checkPool(PoolingProblem(
                descriptor: PoolingDescriptor(kind: kind, kernelShape: [5, 6, 2], strides: [1, 1, 2], pads: [2, 3, 0, 2, 3, 1]),
                inputShape: [1, 2, 2, 3, 17]))
        }
        try checkPool(PoolingProblem(
            descriptor: PoolingDescriptor(kind: .max, kernelShape: [7, 2], strides: [3, 1], pads: [3, 0, 3, 0], storageOrder: .columnMajor),
            inputShape: [1, 3, 2, 6]))
    }

    // pool-timeout-6670fc41… (Fuzz/corpus/pool/): the generic max, sum, stochastic and backward loops walked every
    // tap of a window (a kernel of 2^31 along h). They now visit only the taps inside the input: the rows of each
    // window, and per block of output columns the taps some column reads inside the row (the others read padding,
    // which adds nothing); the overlapping-window sum keeps only the span inside the row. The API declines such
    // kernels (windows wider than 2·L + 16 run per output); these windows hang far over both ends of long rows
    // (column blocks of 512 and a tail), dilated, with and without overlap, at stride 3 (the plain C loops on every
    // ISA) and with more than 16 taps along w.
    @Test func poolRowsClippedToTheInput() throws {
        // (Not the stochastic expectation: with -inf in a window the backends differ, the reference weighting it
        // 0·(−inf) = NaN, the C kernel leaving it out.)
        let kinds: [PoolingKind] = [.max, .average(countIncludePad: false), .average(countIncludePad: true), .lp(p: 2),
                                    .lp(p: 3), .stochastic(seed: 7)]
        for kind in kinds {
            try checkPool(PoolingProblem(
                descriptor: PoolingDescriptor(kind: kind, kernelShape: [3, 9], strides: [1, 3], pads: [1, 8, 1, 8], dilations: [1, 2]),
                inputShape: [1, 2, 3, 1100]))
            try checkPool(PoolingProblem(
                descriptor: PoolingDescriptor(kind: kind, kernelShape: [2, 20], pads: [1, 19, 0, 19]), inputShape: [2, 1, 3, 25]))
            try checkPool(PoolingProblem(
                descriptor: PoolingDescriptor(kind: kind, kernelShape: [1, 3], strides: [1, 5], pads: [0, 2, 0, 2]),
                inputShape: [1, 1, 2, 1030]))
            try checkPool(PoolingProblem(
                descriptor: PoolingDescriptor(kind: kind, kernelShape: [2, 2, 5], strides: [2, 1, 1], pads: [1, 1, 4, 1, 1, 4],
                                              dilations: [1, 3, 4]),
                inputShape: [1, 2, 3, 7, 40]))
        }
    }

    // conv-timeout-cf3d8dc6… (Fuzz/corpus/conv/): the direct row kernels (AVX2 / AVX-512) stepped through every input
    // row between a window's first and last tap, (KH − 1)·DH + 1 of them for a dilation of 2^60 along h. They now
    // step from one row that an output row of the block reads to the next. Windows that skip rows, at sizes the API
    // takes: a dilation along h (4-row blocks and the one-row kernel), and a stride past the kernel.
    @Test func directConvolutionSparseRows() throws {
        try checkConvolution(ConvolutionProblem(
            descriptor: .init(pads: [6, 1, 6, 1], dilations: [7, 1]), inputShape: [1, 2, 30, 20], weightShape: [3, 2, 3, 3],
            biasShape: [3]))
        try checkConvolution(ConvolutionProblem(
            descriptor: .init(dilations: [8, 1]), inputShape: [2, 1, 9, 40], weightShape: [2, 1, 2, 3]))
        try checkConvolution(ConvolutionProblem(
            descriptor: .init(strides: [5, 2], pads: [1, 1, 1, 1], dilations: [2, 1], group: 2), inputShape: [1, 2, 41, 37],
            weightShape: [4, 1, 2, 3], biasShape: [4]))
        try checkConvolution(ConvolutionProblem(
            descriptor: .init(strides: [3, 1, 1], pads: [2, 0, 1, 2, 0, 1], dilations: [2, 3, 1]), inputShape: [1, 1, 5, 8, 19],
            weightShape: [2, 1, 2, 2, 3]))
    }

    // conv-oom-0fc06a71… / -ffee9877…: the direct kernel's zero row followed stride and dilation (8 GiB for a
    // dilation of 2^31). It is now at most the input row plus margins, and an input with no row at all (IH or ID
    // 0, which the API rejects) runs with IW = 0. The API declines the huge dilations; these are the same geometries
    // at sizes it takes.
    @Test func directConvolutionDilatedAlongWidth() throws {
        try checkConvolution(ConvolutionProblem(
            descriptor: .init(strides: [2], pads: [2, 2], dilations: [5], group: 2, mode: .convolution),
            inputShape: [1, 2, 3], weightShape: [4, 1, 2], biasShape: [4]))
        try checkConvolution(ConvolutionProblem(
            descriptor: .init(pads: [2, 2], dilations: [5]), inputShape: [2, 1, 5], weightShape: [1, 1, 2]))
        try checkConvolution(ConvolutionProblem(
            descriptor: .init(strides: [1, 2], pads: [1, 2, 1, 2], dilations: [2, 7]), inputShape: [1, 2, 4, 9],
            weightShape: [3, 2, 2, 2], biasShape: [3]))
    }
}
