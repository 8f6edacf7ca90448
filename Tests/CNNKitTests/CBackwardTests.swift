import CNNKit
import CNNKitTestSupport
import Foundation
import Testing

/// The C backend's backward passes against the reference backend's (Double loops from the definitions), with every
/// instruction-set variant forced, and bitwise equality of every gradient across 1, 2 and 3 threads.
private let isas = CBackend(isa: nil).instructionSets
private let threadCounts = [1, 2, 3]

/// |a − e| ≤ tol·(1 + max|e|): gradients are sums of many terms, so the error scales with the largest of them.
private func scaledMismatch(_ actual: [Float], _ expected: [Float], _ tol: Float) -> String? {
    guard actual.count == expected.count else { return "\(actual.count) elements, expected \(expected.count)" }
    let scale = 1 + (expected.map { $0.isFinite ? abs($0) : 0 }.max() ?? 0)
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        if a.isNaN && e.isNaN { continue }
        if e.isInfinite || a.isInfinite { if a == e { continue } else { return "element \(i): got \(a), expected \(e)" } }
        if !(abs(a - e) <= tol * scale) { return "element \(i): got \(a), expected \(e) (scale \(scale))" }
    }
    return nil
}

private struct Gradients {
    var dx: [Float], dw: [Float], db: [Float]
}

private func runWeighted(
    _ prepared: any PreparedWeightedBackward, _ x: Tensor, _ w: Tensor, _ dy: Tensor, bias: Int?
) throws -> Gradients {
    var dx: Tensor? = try Tensor(shape: x.shape, repeating: .nan)
    var dw: Tensor? = try Tensor(shape: w.shape, repeating: .nan)
    var db: Tensor? = try bias.map { try Tensor(shape: [$0], repeating: .nan) }
    try prepared.run(input: x, weight: w, outputGrad: dy, inputGrad: &dx, weightGrad: &dw, biasGrad: &db)
    return Gradients(dx: dx!.scalars, dw: dw!.scalars, db: db?.scalars ?? [])
}

/// One weighted problem: reference vs C (every ISA × 1, 2, 3 threads), bitwise equal across the thread counts.
private func checkWeighted(
    _ name: String, reference: () throws -> any PreparedWeightedBackward,
    c: (CBackend) throws -> any PreparedWeightedBackward, x: Tensor, w: Tensor, dy: Tensor, bias: Int?,
    tolerance: Float, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let expected = try runWeighted(try reference(), x, w, dy, bias: bias)
    for isa in isas {
        var first: Gradients? = nil
        for threads in threadCounts {
            let prepared = try c(CBackend(threads: threads, isa: isa))
            let got = try runWeighted(prepared, x, w, dy, bias: bias)
            let label = "\(name) [\(prepared.algorithm)] isa \(isa) threads \(threads)"
            for (what, a, e) in [("dX", got.dx, expected.dx), ("dW", got.dw, expected.dw), ("dB", got.db, expected.db)] {
                let message = scaledMismatch(a, e, tolerance)
                #expect(message == nil, "\(label) \(what): \(message ?? "")", sourceLocation: sourceLocation)
            }
            if let first {
                for (what, a, b) in [("dX", got.dx, first.dx), ("dW", got.dw, first.dw), ("dB", got.db, first.db)] {
                    let message = CrossCheck.bitwiseMismatch(a, b)
                    #expect(message == nil, "\(label) \(what) vs 1 thread: \(message ?? "")", sourceLocation: sourceLocation)
                }
            }
            first = got
        }
    }
}

/// A unary-shaped check: `run(backend)` returns dX; reference vs C over every ISA and thread count.
private func checkUnary(
    _ name: String, tolerance: Float, sourceLocation: SourceLocation = #_sourceLocation,
    reference: () throws -> [Float], c: (CBackend) throws -> (String, [Float])
) throws {
    let expected = try reference()
    for isa in isas {
        var first: [Float]? = nil
        for threads in threadCounts {
            let (algorithm, got) = try c(CBackend(threads: threads, isa: isa))
            let label = "\(name) [\(algorithm)] isa \(isa) threads \(threads)"
            let message = scaledMismatch(got, expected, tolerance)
            #expect(message == nil, "\(label): \(message ?? "")", sourceLocation: sourceLocation)
            if let first {
                let bits = CrossCheck.bitwiseMismatch(got, first)
                #expect(bits == nil, "\(label) vs 1 thread: \(bits ?? "")", sourceLocation: sourceLocation)
            }
            first = got
        }
    }
}

/// The option matrix of convolutions: 1-D/2-D/3-D, strides, explicit / asymmetric / auto pads, dilations, groups
/// and depthwise, flip, bias, batch; channel counts on both the microkernel path and the dot path.
private func convolutionProblems() throws -> [ConvolutionProblem] {
    typealias P = (input: [Int], weight: [Int], d: ConvolutionDescriptor, bias: Bool)
    var list: [P] = [
        ([1, 16, 12, 12], [16, 16, 3, 3], ConvolutionDescriptor(pads: [1, 1, 1, 1]), true),
        ([2, 32, 9, 11], [24, 32, 3, 3], ConvolutionDescriptor(strides: [2, 2], pads: [1, 0, 1, 2]), true),
        ([1, 20, 10, 10], [36, 10, 3, 3], ConvolutionDescriptor(pads: [2, 2, 2, 2], dilations: [2, 2], group: 2), false),
        ([2, 18, 8, 8], [18, 1, 3, 3], ConvolutionDescriptor(pads: [1, 1, 1, 1], group: 18), true),          // depthwise
        ([1, 8, 9, 9], [16, 2, 3, 3], ConvolutionDescriptor(strides: [2, 1], pads: [0, 1, 1, 0], group: 4), false),
        ([3, 17, 7, 6], [19, 17, 2, 3], ConvolutionDescriptor(pads: [1, 0, 0, 2], mode: .convolution), true),  // flip
        ([1, 32, 11, 11], [40, 32, 3, 3], ConvolutionDescriptor(autoPad: .sameUpper, mode: .convolution), true),
        ([2, 24, 13, 13], [32, 24, 1, 1], ConvolutionDescriptor(strides: [2, 2]), true),
        ([1, 3, 15, 15], [16, 3, 5, 5], ConvolutionDescriptor(strides: [2, 2], pads: [2, 2, 2, 2]), true),
        ([2, 16, 20], [20, 16, 5], ConvolutionDescriptor(pads: [2, 3], dilations: [2]), true),             // 1-D
        ([2, 5, 17], [6, 5, 3], ConvolutionDescriptor(strides: [3], pads: [1, 1]), false),
        ([1, 16, 5, 6, 7], [16, 16, 3, 3, 3], ConvolutionDescriptor(pads: [1, 1, 1, 1, 1, 1]), true),        // 3-D
        ([2, 4, 5, 6, 5], [6, 2, 2, 3, 2], ConvolutionDescriptor(strides: [1, 2, 1], pads: [0, 1, 1, 1, 0, 0], group: 2, mode: .convolution), true),
        ([1, 16, 6, 6], [16, 16, 3, 3], ConvolutionDescriptor(pads: [3, 3, 3, 3]), false),                  // pad > reach
        ([4, 32, 7, 7], [32, 32, 3, 3], ConvolutionDescriptor(pads: [1, 1, 1, 1]), true),
        // Winograd dW with channel counts off the 16-lane vectors: a partial channel block (24), M-blocks that split
        // a lane group (20 = 2 × 10), and two groups of 16 accumulated over two images.
        ([1, 24, 18, 17], [20, 24, 3, 3], ConvolutionDescriptor(pads: [1, 1, 1, 1]), false),
        ([2, 32, 9, 9], [32, 16, 3, 3], ConvolutionDescriptor(pads: [1, 1, 1, 1], group: 2), true),
    ]
    // Random extras.
    var draw = Draw(77)
    for _ in 0..<10 {
        let rank = draw.int(1...3), group = draw.pick([1, 1, 2, 4])
        let cg = draw.pick([1, 3, 8, 16, 20]), mg = draw.pick([1, 5, 16, 24])
        let kernel = draw.list(rank, 1...3), strides = draw.list(rank, 1...2), dilations = draw.list(rank, 1...2)
        let pads = (0..<2 * rank).map { kernel[$0 % rank] > 1 ? draw.int(0...2) : 0 }
        let size = (0..<rank).map { _ in draw.int(rank == 3 ? 4...6 : 5...10) + 4 }
        list.append(([draw.int(1...2), cg * group] + size, [mg * group, cg] + kernel,
                     ConvolutionDescriptor(strides: strides, pads: pads, dilations: dilations, group: group,
                                           mode: draw.chance(0.3) ? .convolution : .crossCorrelation), draw.chance(0.5)))
    }
    return try list.map {
        try ConvolutionProblem(descriptor: $0.d, inputShape: $0.input, weightShape: $0.weight,
                               biasShape: $0.bias ? [$0.weight[0]] : nil)
    }
}

@Suite("C backend backward")
struct CBackwardTests {
    @Test func convolution() throws {
        var seen = Set<String>()
        for problem in try convolutionProblems() {
            let parts = try CBackend().prepareBackward(problem).algorithm.split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces).split(separator: "/").first.map(String.init) ?? ""
            }
            seen.formUnion(parts)
            var draw = Draw(UInt64(problem.description.utf8.count))
            let x = draw.tensor(problem.inputShape), w = draw.tensor(problem.weightShape), dy = draw.tensor(problem.outputShape)
            try checkWeighted(
                problem.description, reference: { try ReferenceBackend().prepareBackward(problem) },
                c: { try $0.prepareBackward(problem) }, x: x, w: w, dy: dy,
                bias: problem.hasBias ? problem.outputChannels : nil, tolerance: 2e-5)
        }
        // Every path of the C backend ran (on AVX2 / AVX-512 machines, where Winograd and implicit GEMM apply).
        var paths = ["dX gemm_col2im", "dX forward direct", "dW microkernel", "dW dot"]
        if CBackend.detectedInstructionSet != "portable" {
            paths += ["dX forward winograd", "dX forward implicit_gemm", "dW winograd"]
        }
        for path in paths { #expect(seen.contains(path), "no problem took \(path): \(seen.sorted())") }
    }

    @Test func resnetLayerUsesTheFastPaths() throws {
        let problem = try ConvolutionProblem(
            descriptor: ConvolutionDescriptor(pads: [1, 1, 1, 1]), inputShape: [1, 64, 56, 56], weightShape: [64, 64, 3, 3])
        let prepared = try CBackend().prepareBackward(problem)
        #expect(prepared.algorithm.contains("forward"), "\(prepared.algorithm)")
        var draw = Draw(5)
        let x = draw.tensor(problem.inputShape), w = draw.tensor(problem.weightShape), dy = draw.tensor(problem.outputShape)
        try checkWeighted(
            problem.description, reference: { try ReferenceBackend().prepareBackward(problem) },
            c: { try $0.prepareBackward(problem) }, x: x, w: w, dy: dy, bias: nil, tolerance: 1e-4)
    }

    @Test func fusedActivationIsDeclined() throws {
        let problem = try ConvolutionProblem(
            descriptor: ConvolutionDescriptor(activation: .relu), inputShape: [1, 2, 4, 4], weightShape: [2, 2, 3, 3])
        #expect(throws: CNNKitError.self) { try CBackend().prepareBackward(problem) }
    }

    @Test func convTranspose() throws {
        typealias P = (input: [Int], weight: [Int], d: ConvTransposeDescriptor, bias: Bool)
        let list: [P] = [
            ([1, 16, 7, 7], [16, 16, 4, 4], ConvTransposeDescriptor(strides: [2, 2], pads: [1, 1, 1, 1]), true),
            ([2, 6, 5, 4], [6, 3, 3, 3], ConvTransposeDescriptor(strides: [2, 3], pads: [1, 0, 0, 1], outputPadding: [1, 2], group: 2), true),
            ([1, 20, 6, 6], [20, 24, 3, 3], ConvTransposeDescriptor(pads: [1, 1, 1, 1], dilations: [2, 1]), false),
            ([2, 8, 9], [8, 4, 5], ConvTransposeDescriptor(strides: [2], pads: [2, 1]), true),
            ([1, 4, 3, 4, 3], [4, 2, 2, 2, 2], ConvTransposeDescriptor(strides: [2, 2, 2]), true),
            ([1, 3, 5, 5], [3, 2, 3, 3], ConvTransposeDescriptor(strides: [2, 2], outputShape: [8, 8]), false),
        ]
        for p in list {
            let problem = try ConvTransposeProblem(descriptor: p.d, inputShape: p.input, weightShape: p.weight,
                                                   biasShape: p.bias ? [p.weight[1] * p.d.group] : nil)
            var draw = Draw(UInt64(problem.description.utf8.count))
            let x = draw.tensor(problem.inputShape), w = draw.tensor(problem.weightShape), dy = draw.tensor(problem.outputShape)
            try checkWeighted(
                problem.description, reference: { try ReferenceBackend().prepareBackward(problem) },
                c: { try $0.prepareBackward(problem) }, x: x, w: w, dy: dy,
                bias: problem.hasBias ? problem.outputChannels : nil, tolerance: 2e-5)
        }
    }

    @Test func pooling() throws {
        typealias P = (input: [Int], d: PoolingDescriptor, specials: Bool)
        let list: [P] = [
            ([2, 3, 9, 9], PoolingDescriptor(kind: .max, kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1]), true),
            ([1, 2, 8, 7], PoolingDescriptor(kind: .max, kernelShape: [3, 2], strides: [1, 1], dilations: [1, 2]), true),
            ([1, 2, 6, 5], PoolingDescriptor(kind: .max, kernelShape: [2, 2], strides: [1, 2], storageOrder: .columnMajor), true),
            ([2, 2, 11], PoolingDescriptor(kind: .max, kernelShape: [4], strides: [3], pads: [1, 2], ceilMode: true), true),
            ([1, 2, 5, 6, 4], PoolingDescriptor(kind: .max, kernelShape: [2, 3, 2], strides: [2, 1, 2], pads: [1, 1, 0, 0, 1, 1]), true),
            ([2, 3, 9, 8], PoolingDescriptor(kind: .average(countIncludePad: false), kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true), false),
            ([2, 3, 9, 8], PoolingDescriptor(kind: .average(countIncludePad: true), kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true), false),
            ([1, 2, 7, 6, 5], PoolingDescriptor(kind: .average(countIncludePad: true), kernelShape: [2, 2, 3], strides: [1, 2, 2], pads: [0, 1, 1, 1, 0, 1]), false),
            ([1, 3, 8, 8], PoolingDescriptor(kind: .lp(p: 2), kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1]), false),
            ([1, 3, 7, 9], PoolingDescriptor(kind: .lp(p: 3), kernelShape: [2, 3], strides: [1, 2]), false),
            ([1, 3, 7, 9], PoolingDescriptor(kind: .lp(p: 1), kernelShape: [2, 2]), false),
            ([2, 4, 6, 7], PoolingDescriptor.global(.max), true),
            ([2, 4, 6, 7], PoolingDescriptor.global(.average(countIncludePad: false)), false),
            ([2, 4, 6, 7], PoolingDescriptor.global(.lp(p: 2)), false),
            ([2, 3, 8, 8], PoolingDescriptor(kind: .stochastic(seed: 42), kernelShape: [2, 2], strides: [2, 2]), false),
            ([1, 3, 9, 9], PoolingDescriptor(kind: .stochastic(seed: 7), kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1]), false),
            ([1, 3, 9, 9], PoolingDescriptor(kind: .stochasticExpectation, kernelShape: [3, 3], strides: [2, 2]), false),
        ]
        for p in list {
            let problem = try PoolingProblem(descriptor: p.d, inputShape: p.input)
            var draw = Draw(UInt64(problem.description.utf8.count))
            let x = draw.spikyTensor(problem.inputShape, specials: p.specials), dy = draw.tensor(problem.outputShape)
            try checkUnary(problem.description, tolerance: 2e-6, reference: {
                var dx = try Tensor(shape: problem.inputShape)
                try ReferenceBackend().prepareBackward(problem).run(input: x, outputGrad: dy, inputGrad: &dx)
                return dx.scalars
            }, c: { backend in
                let prepared = try backend.prepareBackward(problem)
                var dx = try Tensor(shape: problem.inputShape, repeating: .nan)
                try prepared.run(input: x, outputGrad: dy, inputGrad: &dx)
                return (prepared.algorithm, dx.scalars)
            })
        }
    }

    @Test func resize() throws {
        let list: [([Int], ResizeDescriptor)] = [
            ([1, 2, 5, 7], ResizeDescriptor(target: .sizes([11, 9]), mode: .nearest, axes: [2, 3])),
            ([2, 2, 6, 6], ResizeDescriptor(target: .scales([1, 1, 2, 2]), mode: .linear)),
            ([1, 3, 9, 8], ResizeDescriptor(target: .sizes([4, 5]), mode: .linear, antialias: true, axes: [2, 3])),
            ([1, 2, 6, 5], ResizeDescriptor(target: .sizes([9, 11]), mode: .cubic, coordinateTransformation: .alignCorners, axes: [2, 3])),
            ([1, 2, 7, 7], ResizeDescriptor(target: .sizes([5, 3]), mode: .cubic, excludeOutside: true, antialias: true, axes: [2, 3])),
            ([1, 1, 6, 6], ResizeDescriptor(target: .sizes([8, 8]), mode: .linear, coordinateTransformation: .tfCropAndResize,
                                            extrapolationValue: 3, axes: [2, 3], roi: [-0.2, 0.1, 0.9, 1.3])),
            ([1, 2, 3, 4, 5], ResizeDescriptor(target: .scales([1, 1, 2, 1.5, 0.6]), mode: .linear, coordinateTransformation: .pytorchHalfPixel)),
            ([2, 3, 10], ResizeDescriptor(target: .sizes([4]), mode: .nearest, nearestMode: .ceil, axes: [2])),
        ]
        for (shape, d) in list {
            let problem = try ResizeProblem(descriptor: d, inputShape: shape)
            var draw = Draw(UInt64(problem.description.utf8.count))
            let dy = draw.tensor(problem.outputShape)
            try checkUnary(problem.description, tolerance: 2e-6, reference: {
                var dx = try Tensor(shape: problem.inputShape)
                try ReferenceBackend().prepareBackward(problem).run(outputGrad: dy, inputGrad: &dx)
                return dx.scalars
            }, c: { backend in
                let prepared = try backend.prepareBackward(problem)
                var dx = try Tensor(shape: problem.inputShape, repeating: .nan)
                try prepared.run(outputGrad: dy, inputGrad: &dx)
                return (prepared.algorithm, dx.scalars)
            })
        }
    }

    @Test func pixelShuffleCol2ImMaxUnpool() throws {
        for direction in [PixelShuffleDescriptor.Direction.depthToSpace, .spaceToDepth] {
            for mode in PixelShuffleMode.allCases {
                let shape = direction == .depthToSpace ? [2, 12, 3, 4] : [2, 3, 6, 4]
                let problem = try PixelShuffleProblem(descriptor: PixelShuffleDescriptor(direction, blockSize: 2, mode: mode), inputShape: shape)
                var draw = Draw(3)
                let dy = draw.tensor(problem.outputShape)
                try checkUnary(problem.description, tolerance: 0, reference: {
                    var dx = try Tensor(shape: problem.inputShape)
                    try ReferenceBackend().prepareBackward(problem).run(outputGrad: dy, inputGrad: &dx)
                    return dx.scalars
                }, c: { backend in
                    let prepared = try backend.prepareBackward(problem)
                    var dx = try Tensor(shape: problem.inputShape, repeating: .nan)
                    try prepared.run(outputGrad: dy, inputGrad: &dx)
                    return (prepared.algorithm, dx.scalars)
                })
            }
        }
        let col2im = try Col2ImProblem(
            descriptor: Col2ImDescriptor(imageShape: [7, 6], blockShape: [3, 2], strides: [2, 1], pads: [1, 0, 1, 1], dilations: [1, 2]),
            inputShape: [2, 3 * 6, 4 * 5])
        var draw = Draw(9)
        let dy = draw.tensor(col2im.outputShape)
        try checkUnary(col2im.description, tolerance: 0, reference: {
            var dx = try Tensor(shape: col2im.inputShape)
            try ReferenceBackend().prepareBackward(col2im).run(outputGrad: dy, inputGrad: &dx)
            return dx.scalars
        }, c: { backend in
            let prepared = try backend.prepareBackward(col2im)
            var dx = try Tensor(shape: col2im.inputShape, repeating: .nan)
            try prepared.run(outputGrad: dy, inputGrad: &dx)
            return (prepared.algorithm, dx.scalars)
        })
        // MaxUnpool with the indices of a max pooling.
        let pool = try PoolingProblem(descriptor: PoolingDescriptor(kind: .max, kernelShape: [2, 2], strides: [2, 2]), inputShape: [2, 3, 6, 8])
        let px = draw.tensor(pool.inputShape)
        var py = try Tensor(shape: pool.outputShape)
        var ix: IndexTensor? = try IndexTensor(shape: pool.outputShape)
        try ReferenceBackend().prepare(pool).run(input: px, output: &py, indices: &ix)
        let unpool = try MaxUnpoolProblem(descriptor: MaxUnpoolDescriptor(kernelShape: [2, 2], strides: [2, 2]), inputShape: pool.outputShape)
        let udy = draw.tensor(unpool.outputShape)
        try checkUnary(unpool.description, tolerance: 0, reference: {
            var dx = try Tensor(shape: unpool.inputShape)
            try ReferenceBackend().prepareBackward(unpool).run(indices: ix!, outputGrad: udy, inputGrad: &dx)
            return dx.scalars
        }, c: { backend in
            let prepared = try backend.prepareBackward(unpool)
            var dx = try Tensor(shape: unpool.inputShape, repeating: .nan)
            try prepared.run(indices: ix!, outputGrad: udy, inputGrad: &dx)
            return (prepared.algorithm, dx.scalars)
        })
    }
}
