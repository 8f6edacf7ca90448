import CNNKit
import CNNKitTestSupport
import Foundation
import Testing

/// The FFT convolution (`CBackend.ConvolutionAlgorithm.fft`, `ck_conv_ncx_fft_f32`): every forward feature against
/// the reference, the documented error bound, non-finite inputs, declines and the cost model's choices.
@Suite("C backend FFT convolution")
struct FFTConvolutionTests {
    /// Groups, strides, dilation, true convolution, bias, ReLU / clamp, batch 2, 1-D, outputs spanning several
    /// tiles (and an odd tile count, so the last pair has an empty half), non-square kernels.
    static let layers: [(input: [Int], weight: [Int], descriptor: ConvolutionDescriptor)] = [
        ([2, 3, 70, 90], [3, 1, 25, 25], .init(pads: [12, 12, 12, 12], group: 3)),
        ([1, 4, 41, 37], [6, 2, 9, 7], .init(strides: [2, 3], pads: [4, 1, 0, 3], group: 2, mode: .convolution)),
        ([1, 2, 33, 29], [5, 2, 5, 6], .init(pads: [3, 3, 3, 3], dilations: [3, 2], activation: .relu)),
        ([2, 3, 20, 150], [4, 3, 3, 11], .init(pads: [1, 5, 1, 5], activation: .clamp(min: -0.5, max: 0.75))),
        ([1, 2, 300], [3, 2, 31], .init(strides: [2], pads: [15, 3], mode: .convolution)),
        ([1, 1, 200, 17], [1, 1, 61, 1], .init(pads: [30, 0, 30, 0])),
    ]

    @Test("fft agrees with the reference for every ISA, thread count and weight packing", arguments: 0..<6)
    func agreesWithReference(layer: Int) throws {
        let (inputShape, weightShape, descriptor) = Self.layers[layer]
        let problem = try ConvolutionProblem(
            descriptor: descriptor, inputShape: inputShape, weightShape: weightShape, biasShape: [weightShape[0]])
        let x = try normalTensor(inputShape, seed: 21), w = try normalTensor(weightShape, seed: 22)
        let b = try normalTensor([weightShape[0]], seed: 23)
        var expected = try Tensor(shape: problem.outputShape)
        ReferenceBackend().convolution(problem, input: x, weight: w, bias: b, output: &expected)
        // The error scale is the largest output before the activation (a clamp hides the magnitudes rounded).
        var linear = descriptor
        linear.activation = .none
        var raw = try Tensor(shape: problem.outputShape)
        ReferenceBackend().convolution(
            try ConvolutionProblem(descriptor: linear, inputShape: inputShape, weightShape: weightShape,
                                   biasShape: [weightShape[0]]),
            input: x, weight: w, bias: b, output: &raw)
        let scale = raw.scalars.map { abs(Double($0)) }.max()!
        for isa in CBackend().instructionSets {
            let backend = CBackend(threads: 1, algorithm: .fft, isa: isa)
            #expect(try backend.prepare(problem, constants: .none).algorithm == "fft/\(isa)")
            var first: [Float] = []
            for threads in [1, 2, 3] {
                for packed in [false, true] {
                    var y = try Tensor(shape: problem.outputShape, repeating: .nan)
                    CBackend(threads: threads, algorithm: .fft, isa: isa)
                        .convolution(problem, input: x, weight: w, bias: b, output: &y, packed: packed)
                    let error = zip(y.scalars, expected.scalars).map { abs(Double($0) - Double($1)) }.max()! / scale
                    #expect(error < 2e-6, "\(problem) fft/\(isa) threads \(threads): error \(error)")
                    if first.isEmpty { first = y.scalars }
                    #expect(y.scalars.map(\.bitPattern) == first.map(\.bitPattern),
                            "\(problem) fft/\(isa): threads \(threads) packed \(packed) differ bitwise")
                }
            }
        }
    }

    /// A sampled Gaussian outer(g, g), normalised to sum 1 (what `cnnkit filter gaussian:SIGMA` builds).
    static func gaussian(_ size: Int, sigma: Double) -> [Double] {
        let r = size / 2
        let g = (0..<size).map { exp(-Double(($0 - r) * ($0 - r)) / (2 * sigma * sigma)) }
        let total = g.reduce(0, +)
        return g.map { $0 / total }
    }

    /// Separable convolution in double (exact enough to judge float32 at 1e-7): rows, then columns; zero pads k/2.
    static func separableReference(_ x: [Float], height: Int, width: Int, _ g: [Double]) -> [Double] {
        let r = g.count / 2
        var rows = [Double](repeating: 0, count: height * width)
        for i in 0..<height {
            for j in 0..<width {
                var s = 0.0
                for k in 0..<g.count where j + k - r >= 0 && j + k - r < width { s += g[k] * Double(x[i * width + j + k - r]) }
                rows[i * width + j] = s
            }
        }
        var out = [Double](repeating: 0, count: height * width)
        for i in 0..<height {
            for j in 0..<width {
                var s = 0.0
                for k in 0..<g.count where i + k - r >= 0 && i + k - r < height { s += g[k] * rows[(i + k - r) * width + j] }
                out[i * width + j] = s
            }
        }
        return out
    }

    /// The documented bound (Convolution article, CKernels/README.md): Gaussian blurs of normal data, 49×49
    /// (128×128 transforms) and 301×301 (512×1024), stay within 2e-6 of the largest output on every ISA; the
    /// measured errors are 2.9–3.4e-7.
    @Test(arguments: [(49, 8.0, 300, 420), (301, 50.0, 360, 500)])
    func gaussianErrorBound(size: Int, sigma: Double, height: Int, width: Int) throws {
        let g = Self.gaussian(size, sigma: sigma)
        let weight = try Tensor(shape: [1, 1, size, size], scalars: g.flatMap { a in g.map { Float(a * $0) } })
        let x = try normalTensor([1, 1, height, width], seed: 31)
        let problem = try ConvolutionProblem(
            descriptor: .init(pads: Array(repeating: size / 2, count: 4)), inputShape: x.shape, weightShape: weight.shape)
        // The reference of the float32 weights (rounded taps), in double: outer products of float taps differ
        // from outer(g, g) by 1 ulp per tap, far below the bound.
        let exact = Self.separableReference(x.scalars, height: height, width: width, g)
        let scale = exact.map(abs).max()!
        for isa in CBackend().instructionSets {
            var y = try Tensor(shape: problem.outputShape)
            CBackend(algorithm: .fft, isa: isa).convolution(problem, input: x, weight: weight, bias: nil, output: &y)
            let worst = zip(y.scalars, exact).map { abs(Double($0) - $1) }.max()!
            #expect(worst / scale < 2e-6, "\(size)×\(size) fft/\(isa): max error / max |y| = \(worst / scale)")
        }
    }

    /// ±inf and NaN inputs: the tiles they reach are summed directly, so the output has the reference's
    /// non-finite values exactly where the reference has them (a transform would spread them over whole tiles).
    @Test func nonFiniteInputsStayLocal() throws {
        let problem = try ConvolutionProblem(
            descriptor: .init(pads: [7, 7, 7, 7]), inputShape: [1, 2, 120, 130], weightShape: [2, 2, 15, 15],
            biasShape: [2])
        var x = try normalTensor(problem.inputShape, seed: 41)
        x.scalars[5 * 130 + 9] = .nan
        x.scalars[120 * 130 + 60 * 130 + 100] = .infinity
        let w = try normalTensor(problem.weightShape, seed: 42), b = try normalTensor([2], seed: 43)
        var expected = try Tensor(shape: problem.outputShape)
        ReferenceBackend().convolution(problem, input: x, weight: w, bias: b, output: &expected)
        for packed in [false, true] {
            var y = try Tensor(shape: problem.outputShape)
            CBackend(algorithm: .fft).convolution(problem, input: x, weight: w, bias: b, output: &y, packed: packed)
            #expect(CrossCheck.mismatch(y.scalars, expected.scalars, .tolerance(1e-4)) == nil)
            #expect(y.scalars.contains { $0.isNaN } && y.scalars.contains { $0.isFinite })
        }
    }

    @Test func declinesThreeDimensionsAndHugeKernels() throws {
        let volume = try ConvolutionProblem(descriptor: .init(), inputShape: [1, 1, 6, 6, 6], weightShape: [1, 1, 3, 3, 3])
        #expect(!CBackend(algorithm: .fft).supports(volume))
        do {
            _ = try CBackend(algorithm: .fft).prepare(volume, constants: .none)
            Issue.record("a 3-D problem prepared on fft")
        } catch let error as CNNKitError {
            #expect(error.kind == .unsupported)
        }
        // A dilated extent beyond the largest transform (1024).
        let wide = try ConvolutionProblem(
            descriptor: .init(pads: [0, 600, 0, 600], dilations: [1, 300]), inputShape: [1, 1, 4, 1100],
            weightShape: [1, 1, 1, 5])
        #expect(!CBackend(algorithm: .fft).supports(wide))
        // The registry still runs them (on the reference backend).
        let x = try normalTensor(volume.inputShape, seed: 1), w = try normalTensor(volume.weightShape, seed: 2)
        let registry = BackendRegistry([CBackend(algorithm: .fft), ReferenceBackend()])
        let plan = try ConvolutionPlan(volume.descriptor, inputShape: volume.inputShape, weightShape: volume.weightShape,
                                       registry: registry)
        #expect(plan.backend == "reference")
        _ = try plan.run(input: x, weight: w)
    }

    /// The cost model (``CBackend/chooseAlgorithm(for:)``): large kernels go to FFT, small ones stay direct,
    /// 3×3 layers keep Winograd / implicit GEMM.
    @Test func costModelChoices() throws {
        let backend = CBackend(algorithm: .automatic)
        guard backend.isa != "portable" else { return }
        func problem(_ input: [Int], _ weight: [Int], pad: Int, group: Int = 1) throws -> ConvolutionProblem {
            try ConvolutionProblem(descriptor: .init(pads: Array(repeating: pad, count: 4), group: group),
                                   inputShape: input, weightShape: weight)
        }
        let rgb = [1, 3, 1080, 1920]
        #expect(backend.chooseAlgorithm(for: try problem(rgb, [3, 1, 49, 49], pad: 24, group: 3)) == .fft)
        #expect(backend.chooseAlgorithm(for: try problem([1, 3, 540, 960], [3, 1, 301, 301], pad: 150, group: 3)) == .fft)
        #expect(backend.chooseAlgorithm(for: try problem(rgb, [3, 1, 15, 15], pad: 7, group: 3)) == .fft)
        #expect(backend.chooseAlgorithm(for: try problem(rgb, [3, 1, 5, 5], pad: 2, group: 3)) == .direct)
        #expect(backend.chooseAlgorithm(for: try problem(rgb, [3, 1, 7, 7], pad: 3, group: 3)) == .direct)
        #expect(backend.chooseAlgorithm(for: try problem([1, 16, 270, 480], [16, 16, 15, 15], pad: 7)) == .fft)
        #expect(backend.chooseAlgorithm(for: try problem([1, 64, 56, 56], [64, 64, 3, 3], pad: 1)) == .winograd)
        #expect(backend.chooseAlgorithm(for: try problem([1, 64, 56, 56], [64, 64, 5, 5], pad: 2)) == .implicitGEMM)
        #expect(try backend.prepare(try problem([1, 3, 200, 300], [3, 1, 49, 49], pad: 24, group: 3), constants: .none)
            .algorithm.hasPrefix("fft/"))
    }
}
