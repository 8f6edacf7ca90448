import CNNKit
import CNNKitConformance
import Foundation
import Testing

// One seeded cross-check harness: for every operator family, random descriptors over the option matrix, each run
// on every variant of every registered backend but the reference (BackendVariant: each convolution algorithm ×
// instruction set of a ConfigurableBackend; 1, 2 and 3 threads; weights packed at plan time or given per run) vs the
// reference backend: bit-exact for max pooling (values and indices), unpool, nearest resize and pixel shuffle,
// within 1e-4 (abs + rel, 1e-3 for cubic) elsewhere, and bitwise equal across thread counts.
//
// The seed is fixed so CI is reproducible; CNNKIT_CROSSCHECK_SEED=<n> explores others. A failure prints the seed,
// the case number and the canonical problem string.

@Suite("Cross-check: every registered backend vs reference")
struct CrossCheckTests {
    /// Variants of the registered backends for the families without algorithm choices.
    static let variants = BackendVariant.all(convolution: false)

    // MARK: Convolution

    static func randomConvolution(_ draw: inout Draw) -> ConvolutionProblem? {
        let rank = draw.pick([1, 2, 2, 2, 3])
        let group: Int, cg: Int, mg: Int
        if draw.chance(0.2) {  // depthwise (channel multiplier 1 or 2)
            group = draw.int(1...6); cg = 1; mg = draw.int(1...2)
        } else {
            group = draw.pick([1, 1, 1, 2, 3]); cg = draw.int(1...5); mg = draw.int(1...12)
        }
        let batch = draw.chance(0.05) ? 0 : draw.int(1...2)
        let maxSize = rank == 3 ? 6 : rank == 2 ? 11 : 20
        var size = draw.list(rank, 1...maxSize)
        if draw.chance(0.04) { size[draw.int(0...rank - 1)] = 0 }
        var descriptor = ConvolutionDescriptor(group: group, mode: draw.chance(0.25) ? .convolution : .crossCorrelation)
        var kernel: [Int]
        if draw.chance(0.15) {  // pointwise: the gemm1x1 path
            kernel = Array(repeating: 1, count: rank)
            descriptor.dilations = draw.list(rank, 1...2)
        } else {
            kernel = draw.list(rank, 1...(rank == 3 ? 3 : 5))
            if draw.chance(0.1) { kernel = size.map { max($0, 1) } }  // kernel equal to the input
            descriptor.strides = draw.list(rank, 1...3)
            if draw.chance(0.1) { descriptor.strides = kernel.map { $0 + draw.int(1...2) } }  // stride > kernel
            descriptor.dilations = draw.chance(0.3) ? draw.list(rank, 1...3) : []
            switch draw.int(0...9) {
            case 0: descriptor.autoPad = .sameUpper
            case 1: descriptor.autoPad = .sameLower
            case 2: descriptor.autoPad = .valid
            default: descriptor.pads = draw.list(2 * rank, 0...3)
            }
        }
        let input = [batch, group * cg] + size
        let weight = [group * mg, cg] + kernel
        return try? ConvolutionProblem(
            descriptor: descriptor, inputShape: input, weightShape: weight, biasShape: draw.chance(0.5) ? [group * mg] : nil)
    }

    @Test func convolution() {
        var draw = Draw(1)
        let report = CrossCheck.Report("conv")
        let variants = BackendVariant.all(convolution: true)
        var prepared: [String: Int] = [:]
        var index = 0
        while report.compared < CrossCheck.problemsPerFamily {
            index += 1
            guard let problem = Self.randomConvolution(&draw) else { continue }
            let x = draw.tensor(problem.inputShape), w = draw.tensor(problem.weightShape)
            let b = problem.hasBias ? draw.tensor([problem.outputChannels]) : nil
            var expected = try! Tensor(shape: problem.outputShape)
            ReferenceBackend().convolution(problem, input: x, weight: w, bias: b, output: &expected)
            let packed = draw.chance(0.5)  // weights held by the plan (packed once) or given to each run
            for variant in variants {
                guard variant.make(1).supports(problem) else { continue }
                prepared[variant.description, default: 0] += 1
                report.check(index, problem.description, variant.description + (packed ? " packed" : ""),
                             expected: expected.scalars, .tolerance(1e-4)) { threads in
                    var y = try! Tensor(shape: problem.outputShape, repeating: .nan)
                    variant.make(threads).convolution(problem, input: x, weight: w, bias: b, output: &y, packed: packed)
                    return y.scalars
                }
            }
            report.compared += 1
        }
        report.finish()
        // Every variant that can run some problem must have run on a good share of them.
        for variant in variants where !variant.description.contains("gemm1x1") && !variant.description.contains("winograd") {
            #expect(prepared[variant.description, default: 0] >= CrossCheck.problemsPerFamily / 2,
                    "\(variant) prepared only \(prepared[variant.description, default: 0]) problems")
        }
        #expect(variants.filter { $0.description.contains("gemm1x1") }.allSatisfy { prepared[$0.description, default: 0] >= 20 })
    }

    @Test func convTranspose() {
        var draw = Draw(2)
        let report = CrossCheck.Report("convtranspose")
        var index = 0
        while report.compared < CrossCheck.problemsPerFamily {
            index += 1
            let rank = draw.pick([1, 2, 2, 3])
            let group = draw.pick([1, 1, 2, 3]), cg = draw.int(1...4), mg = draw.int(1...4)
            var size = draw.list(rank, 1...(rank == 3 ? 4 : 8))
            if draw.chance(0.04) { size[0] = 0 }
            let kernel = draw.list(rank, 1...4)
            var descriptor = ConvTransposeDescriptor(
                strides: draw.list(rank, 1...3), dilations: draw.chance(0.3) ? draw.list(rank, 1...2) : [], group: group)
            switch draw.int(0...7) {
            case 0: descriptor.autoPad = .sameUpper
            case 1: descriptor.autoPad = .sameLower
            case 2: descriptor.outputShape = zip(size, descriptor.strides).map { $0 * $1 + draw.int(0...2) }
            default:
                descriptor.pads = draw.list(2 * rank, 0...2)
                if draw.chance(0.3) { descriptor.outputPadding = descriptor.strides.map { draw.int(0...$0 - 1) } }
            }
            let inputShape = [draw.int(1...2), group * cg] + size
            guard let problem = try? ConvTransposeProblem(
                descriptor: descriptor, inputShape: inputShape, weightShape: [group * cg, mg] + kernel,
                biasShape: draw.chance(0.5) ? [group * mg] : nil)
            else { continue }
            let x = draw.tensor(problem.inputShape), w = draw.tensor(problem.weightShape)
            let b = problem.hasBias ? draw.tensor([problem.outputChannels]) : nil
            var expected = try! Tensor(shape: problem.outputShape)
            ReferenceBackend().convTranspose(problem, input: x, weight: w, bias: b, output: &expected)
            report.check(index, problem.description, expected: expected.scalars, .tolerance(1e-4)) { threads in
                var y = try! Tensor(shape: problem.outputShape, repeating: .nan)
                CBackend(threads: threads).convTranspose(problem, input: x, weight: w, bias: b, output: &y)
                return y.scalars
            }
            report.compared += 1
        }
        report.finish()
    }

    @Test func col2im() {
        var draw = Draw(3)
        let report = CrossCheck.Report("col2im")
        var index = 0
        while report.compared < CrossCheck.problemsPerFamily {
            index += 1
            let rank = draw.pick([1, 2, 2, 3])
            let image = draw.list(rank, 1...(rank == 3 ? 5 : 9))
            let descriptor = Col2ImDescriptor(
                imageShape: image, blockShape: draw.list(rank, 1...3), strides: draw.list(rank, 1...2),
                pads: draw.chance(0.5) ? draw.list(2 * rank, 0...2) : [], dilations: draw.chance(0.3) ? draw.list(rank, 1...2) : [])
            let channels = draw.int(1...3)
            guard let probe = try? WindowGeometry.resolve(
                inputSize: image, kernel: descriptor.blockShape, strides: descriptor.strides, dilations: descriptor.dilations,
                pads: descriptor.pads, autoPad: .notSet, ceilMode: false),
                let problem = try? Col2ImProblem(
                    descriptor: descriptor,
                    inputShape: [draw.int(1...2), channels * probe.kernel.reduce(1, *), probe.outputSize.reduce(1, *)])
            else { continue }
            let x = draw.tensor(problem.inputShape)
            var expected = try! Tensor(shape: problem.outputShape)
            ReferenceBackend().col2im(problem, input: x, output: &expected)
            report.check(index, problem.description, expected: expected.scalars, .tolerance(1e-4)) { threads in
                var y = try! Tensor(shape: problem.outputShape, repeating: .nan)
                CBackend(threads: threads).col2im(problem, input: x, output: &y)
                return y.scalars
            }
            report.compared += 1
        }
        report.finish()
    }

    // MARK: Pooling

    static func randomPooling(_ draw: inout Draw, kind: PoolingKind) -> PoolingProblem? {
        let rank = draw.pick([1, 2, 2, 2, 3])
        var size = draw.list(rank, 1...(rank == 3 ? 6 : 12))
        if draw.chance(0.03) { size[draw.int(0...rank - 1)] = 0 }
        let input = [draw.chance(0.04) ? 0 : draw.int(1...2), draw.int(1...4)] + size
        var descriptor: PoolingDescriptor
        if draw.chance(0.1) {
            descriptor = .global(kind)
        } else {
            var kernel = draw.list(rank, 1...4)
            if draw.chance(0.1) { kernel = size.map { max($0, 1) } }
            descriptor = PoolingDescriptor(kind: kind, kernelShape: kernel, strides: draw.list(rank, 1...3))
            if draw.chance(0.1) { descriptor.strides = kernel.map { $0 + draw.int(1...2) } }
            descriptor.dilations = draw.chance(0.25) ? draw.list(rank, 1...2) : []
            descriptor.ceilMode = draw.chance(0.3)
            switch draw.int(0...9) {
            case 0: descriptor.autoPad = .sameUpper
            case 1: descriptor.autoPad = .sameLower
            case 2: descriptor.autoPad = .valid
            default: descriptor.pads = kernel.map { draw.int(0...max(0, $0 - 1)) } + kernel.map { draw.int(0...max(0, $0 - 1)) }
            }
        }
        if rank == 2 && draw.chance(0.3) { descriptor.storageOrder = .columnMajor }
        return try? PoolingProblem(descriptor: descriptor, inputShape: input)
    }

    @Test(arguments: ["max", "avg", "avgpad", "lp", "stoch", "stochexp"])
    func pooling(_ family: String) {
        var draw = Draw(UInt64(10 + family.count) &* 31 &+ UInt64(family.utf8.first!))
        let report = CrossCheck.Report("pool \(family)")
        var index = 0
        while report.compared < CrossCheck.problemsPerFamily {
            index += 1
            let kind: PoolingKind
            switch family {
            case "max": kind = .max
            case "avg": kind = .average(countIncludePad: false)
            case "avgpad": kind = .average(countIncludePad: true)
            case "lp": kind = .lp(p: draw.pick([1, 2, 3, 0.5, 1.5]))
            case "stoch": kind = .stochastic(seed: UInt64(draw.int(0...1_000_000)))
            default: kind = .stochasticExpectation
            }
            guard let problem = Self.randomPooling(&draw, kind: kind) else { continue }
            let exact = family == "max" || family == "stoch"
            let x = exact ? draw.spikyTensor(problem.inputShape, specials: true) : draw.tensor(problem.inputShape)
            let withIndices = problem.descriptor.producesIndices && draw.chance(0.7)
            var expected = try! Tensor(shape: problem.outputShape)
            var expectedIndices: IndexTensor? = withIndices ? try! IndexTensor(shape: problem.outputShape) : nil
            ReferenceBackend().pooling(problem, input: x, output: &expected, indices: &expectedIndices)
            for variant in Self.variants {
                let name = variant.description
                let result = acrossThreads(report, index, problem.description, name) { threads -> (output: [Float], extra: [Int64]?) in
                    var y = try! Tensor(shape: problem.outputShape, repeating: .nan)
                    var ix: IndexTensor? = withIndices ? try! IndexTensor(shape: problem.outputShape, repeating: -7) : nil
                    variant.make(threads).pooling(problem, input: x, output: &y, indices: &ix)
                    return (y.scalars, ix?.scalars)
                }
                if let message = CrossCheck.mismatch(result.output, expected.scalars, exact ? .exact : .tolerance(1e-4)) {
                    report.fail(index, problem.description, name, message)
                }
                if let ix = result.extra, let message = CrossCheck.mismatch(ix, expectedIndices!.scalars) {
                    report.fail(index, problem.description, "\(name) indices", message)
                }
            }
            report.compared += 1
        }
        report.finish()
    }

    // MARK: Resampling

    static func randomResize(_ draw: inout Draw) -> ResizeProblem? {
        let rank = draw.pick([3, 4, 4, 4, 5])
        var shape = [draw.int(1...2), draw.int(1...3)] + draw.list(rank - 2, 1...(rank == 5 ? 5 : 9))
        if draw.chance(0.03) { shape[rank - 1] = 0 }
        let mode = draw.pick(ResizeMode.allCases)
        var descriptor = ResizeDescriptor(
            target: .scales([]), mode: mode, coordinateTransformation: draw.pick(CoordinateTransformation.allCases),
            nearestMode: draw.pick(NearestMode.allCases), cubicCoefficientA: draw.pick([-0.75, -0.5, -0.6]),
            excludeOutside: draw.chance(0.25), antialias: mode != .nearest && draw.chance(0.3),
            extrapolationValue: draw.pick([0, -1, 7.5]))
        // Resize the spatial axes; now and then the channel axis too, or only some axes via `axes`.
        var axes = Array(2..<rank)
        if draw.chance(0.1) { axes = [1] + axes }
        if draw.chance(0.15) { axes = [axes.last!]; descriptor.axes = [-1] }
        else if axes.first == 1 { descriptor.axes = axes }
        if draw.chance(0.5) {
            let scales = axes.map { _ in draw.pick([Float(0.5), 0.6, 0.75, 1, 1.25, 1.7, 2, 3, 0.3]) }
            descriptor.target = .scales(descriptor.axes.isEmpty ? [1, 1] + scales : scales)
        } else {
            let sizes = axes.map { shape[$0] == 0 ? 0 : draw.int(1...14) }
            descriptor.keepAspectRatioPolicy = draw.pick(KeepAspectRatioPolicy.allCases)
            if descriptor.keepAspectRatioPolicy != .stretch && descriptor.axes.isEmpty { descriptor.axes = axes }
            descriptor.target = .sizes(descriptor.axes.isEmpty ? [shape[0], shape[1]] + sizes : sizes)
        }
        if descriptor.coordinateTransformation == .tfCropAndResize {
            let count = descriptor.axes.isEmpty ? rank : descriptor.axes.count
            let starts = (0..<count).map { _ in Float(draw.int(-2...6)) / 10 }
            let ends = starts.map { $0 + Float(draw.int(2...9)) / 10 }
            descriptor.roi = starts + ends
        }
        return try? ResizeProblem(descriptor: descriptor, inputShape: shape)
    }

    @Test func resize() {
        var draw = Draw(5)
        let report = CrossCheck.Report("resize")
        var declined = 0, index = 0
        while report.compared < CrossCheck.problemsPerFamily {
            index += 1
            guard let problem = Self.randomResize(&draw) else { continue }
            guard Self.variants.allSatisfy({ $0.make(1).supports(problem) }) else { declined += 1; continue }
            let x = draw.tensor(problem.inputShape)
            var expected = try! Tensor(shape: problem.outputShape)
            ReferenceBackend().resize(problem, input: x, output: &expected)
            let rule: CrossCheck.Rule = switch problem.descriptor.mode {
            case .nearest: .exact
            case .linear: .tolerance(1e-4)
            case .cubic, .area, .box, .hamming, .lanczos3: .tolerance(1e-3)
            }
            for variant in Self.variants {
                report.check(index, problem.description, variant.description, expected: expected.scalars, rule) { threads in
                    var y = try! Tensor(shape: problem.outputShape, repeating: .nan)
                    variant.make(threads).resize(problem, input: x, output: &y)
                    return y.scalars
                }
            }
            report.compared += 1
        }
        report.finish()
        #expect(declined <= report.compared / 10, "a backend declined \(declined) resize problems")
    }

    @Test func pixelShuffle() {
        var draw = Draw(6)
        let report = CrossCheck.Report("pixelshuffle")
        var index = 0
        while report.compared < CrossCheck.problemsPerFamily {
            index += 1
            let b = draw.int(1...4)
            let toSpace = draw.chance(0.5)
            let shape = toSpace
                ? [draw.int(0...2), draw.int(1...3) * b * b, draw.int(0...6), draw.int(1...6)]
                : [draw.int(1...2), draw.int(1...4), draw.int(0...4) * b, draw.int(1...4) * b]
            let descriptor = PixelShuffleDescriptor(toSpace ? .depthToSpace : .spaceToDepth, blockSize: b, mode: draw.pick([.dcr, .crd]))
            guard let problem = try? PixelShuffleProblem(descriptor: descriptor, inputShape: shape) else { continue }
            let x = draw.spikyTensor(shape, specials: true)
            var expected = try! Tensor(shape: problem.outputShape)
            ReferenceBackend().pixelShuffle(problem, input: x, output: &expected)
            report.check(index, problem.description, expected: expected.scalars, .exact) { threads in
                var y = try! Tensor(shape: problem.outputShape, repeating: 99)
                CBackend(threads: threads).pixelShuffle(problem, input: x, output: &y)
                return y.scalars
            }
            report.compared += 1
        }
        report.finish()
    }

    @Test func maxUnpool() {
        var draw = Draw(7)
        let report = CrossCheck.Report("maxunpool")
        var index = 0
        while report.compared < CrossCheck.problemsPerFamily {
            index += 1
            let rank = draw.pick([1, 2, 2, 3])
            let kernel = draw.list(rank, 1...3), strides = draw.list(rank, 1...3)
            let pads = draw.chance(0.3) ? kernel.map { draw.int(0...max(0, $0 - 1)) } + kernel.map { draw.int(0...max(0, $0 - 1)) } : []
            let inputShape = [draw.int(1...2), draw.int(1...3)] + draw.list(rank, 1...5)
            var descriptor = MaxUnpoolDescriptor(kernelShape: kernel, strides: strides, pads: pads)
            guard let base = try? MaxUnpoolProblem(descriptor: descriptor, inputShape: inputShape) else { continue }
            if draw.chance(0.3) { descriptor.outputShape = base.indexSpaceShape.dropFirst(2).map { $0 + draw.int(0...2) } }
            guard let problem = try? MaxUnpoolProblem(descriptor: descriptor, inputShape: inputShape) else { continue }
            let limit = problem.indexSpaceShape.reduce(1, *)
            guard limit > 0 else { continue }
            let x = draw.spikyTensor(inputShape, specials: false)
            // Indices inside each value's own plane (as MaxPool makes them), or anywhere (collisions across planes).
            let plane = problem.indexSpaceShape.dropFirst(2).reduce(1, *), perPlane = inputShape.dropFirst(2).reduce(1, *)
            let anywhere = draw.chance(0.3)
            let indices = try! IndexTensor(shape: inputShape, scalars: (0..<x.count).map { i in
                Int64(anywhere ? draw.int(0...limit - 1) : (i / perPlane) * plane + draw.int(0...plane - 1))
            })
            var expected = try! Tensor(shape: problem.outputShape)
            ReferenceBackend().maxUnpool(problem, input: x, indices: indices, output: &expected)
            report.check(index, problem.description, expected: expected.scalars, .exact) { threads in
                var y = try! Tensor(shape: problem.outputShape)
                CBackend(threads: threads).maxUnpool(problem, input: x, indices: indices, output: &y)
                return y.scalars
            }
            report.compared += 1
        }
        report.finish()
    }
}
