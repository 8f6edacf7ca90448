import Foundation
import Testing
import CNNKit

/// Hand-computed cases straight from the textbook definitions, run on every registered backend.
@Suite struct DefinitionTests {
    /// 1-D convolution `y[n] = Σ_k x[k]·h[n−k]` ("full" output of length N + K − 1).
    @Test(arguments: allBackends) func oneDimensionalConvolutionMatchesTextbookSum(backend: String) throws {
        let x: [Float] = [3, -1, 4, 1, -5, 9, 2, -6]
        let h: [Float] = [2, 7, -1]
        var expected = [Float](repeating: 0, count: x.count + h.count - 1)
        for n in expected.indices {
            for k in x.indices where n - k >= 0 && n - k < h.count { expected[n] += x[k] * h[n - k] }
        }
        let y = try convolution(
            Tensor(shape: [1, 1, x.count], scalars: x), weight: Tensor(shape: [1, 1, h.count], scalars: h),
            ConvolutionDescriptor(pads: [h.count - 1, h.count - 1], mode: .convolution), backend: .named(backend))
        #expect(y.shape == [1, 1, 10])
        #expect(y.scalars == expected)
    }

    /// True convolution equals cross-correlation with the kernel flipped along both axes, and differs from it otherwise.
    @Test(arguments: allBackends) func trueConvolutionIsCrossCorrelationWithFlippedKernel(backend: String) throws {
        let x = try integerTensor([1, 1, 6, 7], seed: 1)
        let w = try Tensor(shape: [1, 1, 3, 3], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 10])
        let flipped = try Tensor(shape: [1, 1, 3, 3], scalars: w.scalars.reversed())
        let convolved = try convolution(x, weight: w, ConvolutionDescriptor(pads: [1, 1, 1, 1], mode: .convolution), backend: .named(backend))
        let correlated = try convolution(x, weight: w, ConvolutionDescriptor(pads: [1, 1, 1, 1]), backend: .named(backend))
        let correlatedFlipped = try convolution(x, weight: flipped, ConvolutionDescriptor(pads: [1, 1, 1, 1]), backend: .named(backend))
        #expect(convolved == correlatedFlipped)
        #expect(convolved != correlated)
        // One output by hand: y[0, 0] = Σ x[i, j]·w[1 − i, 1 − j] over the 2×2 corner inside the input (pad 1).
        let byHand = (0..<2).flatMap { i in (0..<2).map { j in x[0, 0, i, j] * w[0, 0, 1 - i, 1 - j] } }.reduce(0, +)
        #expect(convolved[0, 0, 0, 0] == byHand)
    }

    /// A 96×96 image convolved "valid" with 100 kernels of 8×8 gives 100 feature maps of 89×89.
    @Test(arguments: allBackends) func validConvolutionFeatureMapShape(backend: String) throws {
        let x = try integerTensor([1, 1, 96, 96], range: 3, seed: 2)
        let w = try integerTensor([100, 1, 8, 8], range: 2, seed: 3)
        let y = try convolution(x, weight: w, ConvolutionDescriptor(autoPad: .valid), backend: .named(backend))
        #expect(y.shape == [1, 100, 89, 89])
        for (m, r, c) in [(0, 0, 0), (57, 88, 88), (99, 40, 3)] {
            var sum: Float = 0
            for i in 0..<8 { for j in 0..<8 { sum += x[0, 0, r + i, c + j] * w[m, 0, i, j] } }
            #expect(y[0, m, r, c] == sum)
        }
    }

    /// 2×2 max pooling of a 2N×2N map gives the N×N block maxima.
    @Test(arguments: allBackends) func maxPoolingHalvesTheMap(backend: String) throws {
        let n = 5
        let x = try integerTensor([1, 2, 2 * n, 2 * n], range: 50, seed: 4)
        let y = try pooling(x, PoolingDescriptor(kind: .max, kernelShape: [2, 2], strides: [2, 2]), backend: .named(backend))
        #expect(y.shape == [1, 2, n, n])
        for c in 0..<2 { for i in 0..<n { for j in 0..<n {
            let block = [x[0, c, 2 * i, 2 * j], x[0, c, 2 * i, 2 * j + 1], x[0, c, 2 * i + 1, 2 * j], x[0, c, 2 * i + 1, 2 * j + 1]]
            #expect(y[0, c, i, j] == block.max()!)
        } } }
    }

    /// 10×10 average pooling of a 20×20 map gives the 2×2 block means.
    @Test(arguments: allBackends) func averagePoolingGivesBlockMeans(backend: String) throws {
        let x = try integerTensor([1, 1, 20, 20], range: 9, seed: 5)
        let y = try pooling(x, PoolingDescriptor(kind: .average(countIncludePad: false), kernelShape: [10, 10], strides: [10, 10]), backend: .named(backend))
        #expect(y.shape == [1, 1, 2, 2])
        for bi in 0..<2 { for bj in 0..<2 {
            var sum: Float = 0
            for i in 0..<10 { for j in 0..<10 { sum += x[0, 0, 10 * bi + i, 10 * bj + j] } }
            #expect(abs(y[0, 0, bi, bj] - sum / 100) <= 1e-6 * max(1, abs(sum / 100)))
        } }
    }

    /// Sobel-x on a vertical step edge (0 left, 1 right) responds 4 on the two columns around the edge, 0 elsewhere.
    @Test(arguments: allBackends) func sobelOnVerticalStepEdge(backend: String) throws {
        let (height, width, edge) = (6, 8, 4)
        let x = try Tensor(shape: [1, 1, height, width], scalars: (0..<height * width).map { $0 % width >= edge ? 1 : 0 })
        let sobelX = try Tensor(shape: [1, 1, 3, 3], scalars: [-1, 0, 1, -2, 0, 2, -1, 0, 1])
        let y = try convolution(x, weight: sobelX, ConvolutionDescriptor(autoPad: .valid), backend: .named(backend))
        #expect(y.shape == [1, 1, height - 2, width - 2])
        for r in 0..<height - 2 { for c in 0..<width - 2 {
            // Output column c covers input columns c…c+2; the step lies inside when c + 1 == edge − 1 or edge.
            let expected: Float = (c + 1 == edge - 1 || c + 1 == edge) ? 4 : 0
            #expect(y[0, 0, r, c] == expected)
        } }
    }

    /// An RGB convolution equals the sum of its three per-channel convolutions plus bias.
    @Test(arguments: allBackends) func rgbConvolutionIsSumOfChannelConvolutionsPlusBias(backend: String) throws {
        let x = try integerTensor([1, 3, 9, 11], seed: 6)
        let w = try integerTensor([2, 3, 3, 3], range: 3, seed: 7)
        let bias = try Tensor(shape: [2], scalars: [0.5, -2])
        let descriptor = ConvolutionDescriptor(pads: [1, 0, 1, 2], dilations: [1, 2])
        let full = try convolution(x, weight: w, bias: bias, descriptor, backend: .named(backend))
        var sum = try Tensor(shape: full.shape)
        for c in 0..<3 {
            let xc = try Tensor(shape: [1, 1, 9, 11], scalars: Array(x.scalars[c * 99..<(c + 1) * 99]))
            let wc = try Tensor(shape: [2, 1, 3, 3], scalars: (0..<2).flatMap { m in w.scalars[(m * 3 + c) * 9..<(m * 3 + c + 1) * 9] })
            let yc = try convolution(xc, weight: wc, descriptor, backend: .named(backend))
            for i in sum.scalars.indices { sum.scalars[i] += yc.scalars[i] }
        }
        let plane = full.shape[2] * full.shape[3]
        for i in sum.scalars.indices { sum.scalars[i] += bias.scalars[i / plane] }
        #expect(full == sum)
    }

    /// Stochastic pooling draws each element with frequency a_i / Σa: over 20 000 identical windows the observed
    /// frequencies lie within 5 standard deviations (`5·sqrt(p(1−p)/n)`, < 0.015) of the probabilities.
    @Test(arguments: allBackends) func stochasticPoolingFrequenciesMatchProbabilities(backend: String) throws {
        let window: [Float] = [1, 0, 3, 4]   // probabilities 0.125, 0, 0.375, 0.5
        let planes = 20_000
        let x = try Tensor(shape: [1, planes, 2, 2], scalars: Array((0..<planes).map { _ in window }.joined()))
        let (y, indices) = try poolingWithIndices(x, PoolingDescriptor(kind: .stochastic(seed: 2013), kernelShape: [2, 2]), backend: .named(backend))
        var counts = [Int](repeating: 0, count: 4)
        for (plane, index) in indices.scalars.enumerated() {
            let tap = Int(index) - plane * 4
            counts[tap] += 1
            #expect(y.scalars[plane] == window[tap])
        }
        let total = window.reduce(0, +)
        for tap in 0..<4 {
            let p = Double(window[tap] / total)
            let bound = 5 * (p * (1 - p) / Double(planes)).squareRoot()
            #expect(abs(Double(counts[tap]) / Double(planes) - p) <= bound, "tap \(tap): \(counts[tap]) of \(planes), p = \(p)")
        }
        #expect(counts[1] == 0)
        // The same seed draws the same samples; another seed draws others.
        let again = try poolingWithIndices(x, PoolingDescriptor(kind: .stochastic(seed: 2013), kernelShape: [2, 2]), backend: .named(backend))
        let other = try poolingWithIndices(x, PoolingDescriptor(kind: .stochastic(seed: 7), kernelShape: [2, 2]), backend: .named(backend))
        #expect(again.indices == indices)
        #expect(other.indices != indices)
    }

    /// Stochastic pooling at inference returns `Σ p_i·a_i`; a window whose weights sum to 0 returns its mean.
    @Test(arguments: allBackends) func stochasticPoolingInferenceIsProbabilityWeightedAverage(backend: String) throws {
        let x = try Tensor(shape: [1, 1, 2, 4], scalars: [1, 2, -5, 0, 3, 4, 0, -3])
        let y = try pooling(x, PoolingDescriptor(kind: .stochasticExpectation, kernelShape: [2, 2], strides: [2, 2]), backend: .named(backend))
        // Window 1: weights 1, 2, 3, 4 → (1 + 4 + 9 + 16) / 10 = 3. Window 2: weights all 0 → mean (−5 + 0 + 0 − 3) / 4 = −2.
        #expect(y.scalars == [3, -2])
    }
}
