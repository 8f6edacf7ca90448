import CNNKit
import Foundation
import Testing

// Finite-difference checks of every backward pass on the reference backend, plus the conventions finite
// differences cannot see (ties, NaN, the stochastic sample) and the dispatch rules (declines, fallback).
//
// The check: for the loss L(X) = Σ dY·f(X), evaluated in Double from the reference forward pass (which accumulates
// in Double and rounds each output once), the central difference (L(x + a) − L(x − b)) / (a + b) with the steps a,
// b actually taken in float32 is compared with the backward pass's dL/dx for every element x of every
// differentiable input. For operators linear in the perturbed input (Conv and ConvTranspose in X and in W, average
// pooling, Resize, DepthToSpace, Col2Im, MaxUnpool) the central difference is exact for any step, so the step is 1
// and only the outputs' float32 rounding remains (about 1e-7 relative); for max and stochastic pooling (piecewise
// linear: exact as long as no window's selection changes) the step is 1e-3, and for the smooth Lp and
// stochastic-expectation pools 1e-2 (truncation error O(h²)). A wrong gradient is off by O(1), far above the
// tolerances, and ``finiteDifferencesCatchAWrongGradient`` shows that the harness notices one.

private let reference = ReferenceBackend()

/// Normal(0, 1) float32 values from a seeded SplitMix64 stream; `minimumMagnitude` pushes values away from 0
/// (for the kinks of |x| and max(x, 0)).
private func randomTensor(_ shape: [Int], seed: UInt64, minimumMagnitude: Float = 0, positive: Bool = false) -> Tensor {
    var state = seed
    func uniform() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Double(StochasticSampling.mix(state) >> 11) * 0x1.0p-53
    }
    let count = shape.reduce(1, *)
    let values = (0..<count).map { _ -> Float in
        let u = max(uniform(), 1e-300), v = uniform()
        var x = Float((-2 * log(u)).squareRoot() * cos(2 * Double.pi * v))
        if positive { x = abs(x) }
        if abs(x) < minimumMagnitude { x = x < 0 ? -minimumMagnitude - abs(x) : minimumMagnitude + abs(x) }
        return x
    }
    return try! Tensor(shape: shape, scalars: values)
}

/// `Σ dY·Y` in Double.
private func dot(_ a: Tensor, _ b: Tensor) -> Double {
    zip(a.scalars, b.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
}

/// The central difference of `loss` with respect to every element of `x`, with the float32 steps actually taken.
private func numericGradient(_ x: Tensor, step: Float, _ loss: (Tensor) throws -> Double) rethrows -> [Double] {
    var probe = x
    return try x.scalars.indices.map { i in
        let x0 = x.scalars[i], up = x0 + step, down = x0 - step
        probe.scalars[i] = up
        let above = try loss(probe)
        probe.scalars[i] = down
        let below = try loss(probe)
        probe.scalars[i] = x0
        return (above - below) / (Double(up) - Double(down))
    }
}

/// Whether `analytic` matches `numeric` within `tolerance · max(1, max|numeric|)` everywhere; records the worst
/// element when not.
@discardableResult
private func expectClose(
    _ analytic: Tensor?, _ numeric: [Double], tolerance: Double, _ what: String, record: Bool = true,
    sourceLocation: SourceLocation = #_sourceLocation
) -> Bool {
    guard let analytic else {
        if record { Issue.record("\(what): gradient not computed", sourceLocation: sourceLocation) }
        return false
    }
    guard analytic.count == numeric.count else {
        if record { Issue.record("\(what): \(analytic.count) elements, expected \(numeric.count)", sourceLocation: sourceLocation) }
        return false
    }
    let scale = max(1, numeric.map(abs).max() ?? 0)
    var worst = 0.0, worstIndex = 0
    for (i, (a, n)) in zip(analytic.scalars, numeric).enumerated() {
        let error = abs(Double(a) - n)
        if !(error <= worst) { worst = error; worstIndex = i }
    }
    let ok = worst <= tolerance * scale
    if !ok && record {
        let text = "\(what): element \(worstIndex) analytic \(analytic.scalars[worstIndex]) vs central difference "
            + "\(numeric[worstIndex]) (error \(worst), bound \(tolerance * scale))"
        Issue.record(Comment(rawValue: text), sourceLocation: sourceLocation)
    }
    return ok
}

/// Linear operators: the central difference with step 1 is exact up to the outputs' float32 rounding.
private let linearTolerance = 2e-5
/// Piecewise-linear pools with step 1e-3 (exact while no selection changes; float32 rounding of the input steps).
private let piecewiseTolerance = 1e-4
/// Smooth nonlinear pools with step 1e-2 (O(h²) truncation).
private let smoothTolerance = 2e-3

// MARK: - Conv and ConvTranspose

struct ConvolutionGradientCase: Sendable, CustomTestStringConvertible {
    let label: String
    let descriptor: ConvolutionDescriptor
    let inputShape: [Int]
    let weightShape: [Int]
    var testDescription: String { label }
}

struct ConvTransposeGradientCase: Sendable, CustomTestStringConvertible {
    let label: String
    let descriptor: ConvTransposeDescriptor
    let inputShape: [Int]
    let weightShape: [Int]
    var testDescription: String { label }
}

@Suite("Gradients by finite differences")
struct FiniteDifferenceTests {
    static let convolutions: [ConvolutionGradientCase] = [
        .init(label: "1-D stride 2 asymmetric pads dilation 2", descriptor: ConvolutionDescriptor(strides: [2], pads: [1, 2], dilations: [2]),
              inputShape: [2, 3, 9], weightShape: [4, 3, 3]),
        .init(label: "2-D groups 2, strides, dilations, asymmetric pads",
              descriptor: ConvolutionDescriptor(strides: [2, 1], pads: [1, 0, 1, 1], dilations: [1, 2], group: 2),
              inputShape: [1, 4, 6, 5], weightShape: [6, 2, 3, 2]),
        .init(label: "2-D depthwise SAME_UPPER stride 2", descriptor: ConvolutionDescriptor(strides: [2, 2], autoPad: .sameUpper, group: 3),
              inputShape: [2, 3, 5, 6], weightShape: [3, 1, 3, 3]),
        .init(label: "2-D true convolution SAME_LOWER", descriptor: ConvolutionDescriptor(autoPad: .sameLower, mode: .convolution),
              inputShape: [1, 2, 5, 4], weightShape: [3, 2, 2, 3]),
        .init(label: "2-D true convolution, groups, dilation", descriptor: ConvolutionDescriptor(pads: [2, 1, 0, 1], dilations: [2, 1], group: 2, mode: .convolution),
              inputShape: [1, 4, 6, 5], weightShape: [4, 2, 2, 3]),
        .init(label: "3-D strides pads", descriptor: ConvolutionDescriptor(strides: [1, 2, 1], pads: [1, 0, 1, 0, 1, 1]),
              inputShape: [1, 2, 4, 4, 3], weightShape: [2, 2, 2, 3, 2]),
        .init(label: "3-D VALID dilation", descriptor: ConvolutionDescriptor(autoPad: .valid, dilations: [1, 1, 2]),
              inputShape: [1, 2, 3, 3, 5], weightShape: [3, 2, 2, 2, 2]),
    ]

    @Test("Conv dX, dW, dB", arguments: convolutions)
    func convolution(_ c: ConvolutionGradientCase) throws {
        let x = randomTensor(c.inputShape, seed: 11), w = randomTensor(c.weightShape, seed: 12)
        let b = randomTensor([c.weightShape[0]], seed: 13)
        let forward = try ConvolutionPlan(c.descriptor, inputShape: x.shape, weightShape: w.shape, biasShape: b.shape, on: reference)
        let dy = randomTensor(forward.problem.outputShape, seed: 14)
        let plan = try ConvolutionBackwardPlan(c.descriptor, inputShape: x.shape, weightShape: w.shape, biasShape: b.shape, on: reference)
        #expect(plan.backend == "reference")
        let g = try plan.run(input: x, weight: w, outputGrad: dy)
        expectClose(g.input, try numericGradient(x, step: 1) { try dot(dy, forward.run(input: $0, weight: w, bias: b)) },
                    tolerance: linearTolerance, "dX")
        expectClose(g.weight, try numericGradient(w, step: 1) { try dot(dy, forward.run(input: x, weight: $0, bias: b)) },
                    tolerance: linearTolerance, "dW")
        expectClose(g.bias, try numericGradient(b, step: 1) { try dot(dy, forward.run(input: x, weight: w, bias: $0)) },
                    tolerance: linearTolerance, "dB")
    }

    static let transposed: [ConvTransposeGradientCase] = [
        .init(label: "1-D stride 3 output_padding dilation", descriptor: ConvTransposeDescriptor(strides: [3], pads: [1, 0], outputPadding: [2], dilations: [2]),
              inputShape: [2, 2, 4], weightShape: [2, 3, 3]),
        .init(label: "2-D groups 2 strides pads", descriptor: ConvTransposeDescriptor(strides: [2, 1], pads: [1, 0, 0, 1], group: 2),
              inputShape: [1, 4, 3, 4], weightShape: [4, 2, 3, 2]),
        .init(label: "2-D output_shape larger than natural (bias-only positions)",
              descriptor: ConvTransposeDescriptor(strides: [2, 2], outputShape: [9, 8]),
              inputShape: [1, 2, 3, 3], weightShape: [2, 2, 2, 2]),
        .init(label: "2-D SAME_LOWER", descriptor: ConvTransposeDescriptor(strides: [2, 2], autoPad: .sameLower),
              inputShape: [1, 2, 3, 3], weightShape: [2, 1, 3, 3]),
        .init(label: "3-D", descriptor: ConvTransposeDescriptor(strides: [1, 2, 2], pads: [0, 1, 0, 0, 0, 1]),
              inputShape: [1, 2, 2, 3, 2], weightShape: [2, 2, 2, 2, 3]),
    ]

    @Test("ConvTranspose dX, dW, dB", arguments: transposed)
    func convTranspose(_ c: ConvTransposeGradientCase) throws {
        let x = randomTensor(c.inputShape, seed: 21), w = randomTensor(c.weightShape, seed: 22)
        let m = c.weightShape[1] * c.descriptor.group
        let b = randomTensor([m], seed: 23)
        let forward = try ConvTransposePlan(c.descriptor, inputShape: x.shape, weightShape: w.shape, biasShape: b.shape, on: reference)
        let dy = randomTensor(forward.problem.outputShape, seed: 24)
        let g = try ConvTransposeBackwardPlan(c.descriptor, inputShape: x.shape, weightShape: w.shape, biasShape: b.shape, on: reference)
            .run(input: x, weight: w, outputGrad: dy)
        expectClose(g.input, try numericGradient(x, step: 1) { try dot(dy, forward.run(input: $0, weight: w, bias: b)) },
                    tolerance: linearTolerance, "dX")
        expectClose(g.weight, try numericGradient(w, step: 1) { try dot(dy, forward.run(input: x, weight: $0, bias: b)) },
                    tolerance: linearTolerance, "dW")
        expectClose(g.bias, try numericGradient(b, step: 1) { try dot(dy, forward.run(input: x, weight: w, bias: $0)) },
                    tolerance: linearTolerance, "dB")
    }

    /// The harness is able to fail: the true-convolution gradient is not the cross-correlation one.
    @Test func finiteDifferencesCatchAWrongGradient() throws {
        let x = randomTensor([1, 2, 5, 5], seed: 31), w = randomTensor([2, 2, 3, 3], seed: 32)
        let flipped = ConvolutionDescriptor(pads: [1, 1, 1, 1], mode: .convolution)
        var plain = flipped
        plain.mode = .crossCorrelation
        let forward = try ConvolutionPlan(flipped, inputShape: x.shape, weightShape: w.shape, on: reference)
        let dy = randomTensor(forward.problem.outputShape, seed: 33)
        let wrong = try ConvolutionBackwardPlan(plain, inputShape: x.shape, weightShape: w.shape, on: reference)
            .run(input: x, weight: w, outputGrad: dy)
        let numeric = try numericGradient(w, step: 1) { try dot(dy, forward.run(input: x, weight: $0)) }
        #expect(!expectClose(wrong.weight, numeric, tolerance: linearTolerance, "dW", record: false))
        let right = try ConvolutionBackwardPlan(flipped, inputShape: x.shape, weightShape: w.shape, on: reference)
            .run(input: x, weight: w, outputGrad: dy)
        #expect(expectClose(right.weight, numeric, tolerance: linearTolerance, "dW"))
    }

    // MARK: - Pooling

    struct PoolingGradientCase: Sendable, CustomTestStringConvertible {
        let label: String
        let descriptor: PoolingDescriptor
        let inputShape: [Int]
        /// Step of the central difference.
        var step: Float = 1
        var tolerance: Double = linearTolerance
        var minimumMagnitude: Float = 0
        var testDescription: String { label }
    }

    static let pools: [PoolingGradientCase] = [
        .init(label: "max 2-D overlapping, pads, ceil", descriptor: PoolingDescriptor(kind: .max, kernelShape: [3, 3], strides: [2, 1], pads: [1, 1, 1, 0], ceilMode: true),
              inputShape: [2, 2, 6, 5], step: 1e-3, tolerance: piecewiseTolerance),
        .init(label: "max 2-D dilated, column-major indices", descriptor: PoolingDescriptor(kind: .max, kernelShape: [2, 2], strides: [1, 1], dilations: [2, 1], storageOrder: .columnMajor),
              inputShape: [1, 2, 5, 5], step: 1e-3, tolerance: piecewiseTolerance),
        .init(label: "max 1-D SAME_UPPER", descriptor: PoolingDescriptor(kind: .max, kernelShape: [4], strides: [2], autoPad: .sameUpper),
              inputShape: [1, 3, 11], step: 1e-3, tolerance: piecewiseTolerance),
        .init(label: "max 3-D", descriptor: PoolingDescriptor(kind: .max, kernelShape: [2, 2, 2], strides: [1, 2, 1]),
              inputShape: [1, 1, 4, 4, 3], step: 1e-3, tolerance: piecewiseTolerance),
        .init(label: "global max", descriptor: .global(.max), inputShape: [2, 3, 4, 3], step: 1e-3, tolerance: piecewiseTolerance),
        .init(label: "average excluding pad, ceil", descriptor: PoolingDescriptor(kind: .average(countIncludePad: false), kernelShape: [3, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true),
              inputShape: [1, 2, 6, 5]),
        .init(label: "average including pad, ceil past the end pad", descriptor: PoolingDescriptor(kind: .average(countIncludePad: true), kernelShape: [3, 3], strides: [2, 2], pads: [1, 0, 1, 1], ceilMode: true),
              inputShape: [1, 2, 6, 6]),
        .init(label: "average 1-D dilated SAME_LOWER", descriptor: PoolingDescriptor(kind: .average(countIncludePad: true), kernelShape: [3], strides: [2], autoPad: .sameLower, dilations: [2]),
              inputShape: [2, 1, 9]),
        .init(label: "average 3-D", descriptor: PoolingDescriptor(kind: .average(countIncludePad: false), kernelShape: [2, 2, 2], pads: [1, 0, 0, 0, 1, 1]),
              inputShape: [1, 1, 3, 3, 3]),
        .init(label: "global average", descriptor: .global(.average(countIncludePad: false)), inputShape: [2, 2, 3, 4]),
        .init(label: "Lp p=2 overlapping pads", descriptor: PoolingDescriptor(kind: .lp(p: 2), kernelShape: [3, 3], strides: [1, 2], pads: [1, 1, 1, 1]),
              inputShape: [1, 2, 5, 5], step: 1e-2, tolerance: smoothTolerance, minimumMagnitude: 0.1),
        .init(label: "Lp p=3 1-D", descriptor: PoolingDescriptor(kind: .lp(p: 3), kernelShape: [3], strides: [2]),
              inputShape: [1, 2, 9], step: 1e-2, tolerance: smoothTolerance, minimumMagnitude: 0.1),
        .init(label: "Lp p=1", descriptor: PoolingDescriptor(kind: .lp(p: 1), kernelShape: [2, 2]),
              inputShape: [1, 1, 4, 4], step: 1e-2, tolerance: piecewiseTolerance, minimumMagnitude: 0.1),
        .init(label: "Lp p=1.5 3-D", descriptor: PoolingDescriptor(kind: .lp(p: 1.5), kernelShape: [2, 2, 2]),
              inputShape: [1, 1, 3, 3, 3], step: 1e-2, tolerance: smoothTolerance, minimumMagnitude: 0.1),
        .init(label: "global Lp p=3", descriptor: .global(.lp(p: 3)), inputShape: [1, 2, 3, 3], step: 1e-2, tolerance: smoothTolerance, minimumMagnitude: 0.1),
        .init(label: "stochastic training, overlapping", descriptor: PoolingDescriptor(kind: .stochastic(seed: 7), kernelShape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1]),
              inputShape: [1, 2, 5, 5], step: 1e-3, tolerance: piecewiseTolerance, minimumMagnitude: 0.1),
        .init(label: "stochastic expectation, overlapping", descriptor: PoolingDescriptor(kind: .stochasticExpectation, kernelShape: [2, 3], strides: [1, 2], pads: [0, 1, 1, 1]),
              inputShape: [1, 2, 5, 6], step: 1e-2, tolerance: smoothTolerance, minimumMagnitude: 0.1),
        .init(label: "global stochastic expectation", descriptor: .global(.stochasticExpectation), inputShape: [2, 2, 3, 3],
              step: 1e-2, tolerance: smoothTolerance, minimumMagnitude: 0.1),
    ]

    @Test("Pooling dX", arguments: pools)
    func pooling(_ c: PoolingGradientCase) throws {
        let x = randomTensor(c.inputShape, seed: 41, minimumMagnitude: c.minimumMagnitude)
        let forward = try PoolingPlan(c.descriptor, inputShape: x.shape, on: reference)
        let dy = randomTensor(forward.problem.outputShape, seed: 42)
        let dx = try PoolingBackwardPlan(c.descriptor, inputShape: x.shape, on: reference).run(input: x, outputGrad: dy)
        expectClose(dx, try numericGradient(x, step: c.step) { try dot(dy, forward.run(input: $0)) }, tolerance: c.tolerance, "dX")
    }

    /// Stochastic expectation with windows of only negative values (the plain-mean branch) and mixed windows.
    @Test func stochasticExpectationMeanBranch() throws {
        var x = randomTensor([1, 1, 4, 4], seed: 43, minimumMagnitude: 0.1)
        for i in [0, 1, 4, 5] { x.scalars[i] = -abs(x.scalars[i]) }  // the first 2×2 window is all negative
        let descriptor = PoolingDescriptor(kind: .stochasticExpectation, kernelShape: [2, 2], strides: [2, 2])
        let forward = try PoolingPlan(descriptor, inputShape: x.shape, on: reference)
        let dy = randomTensor(forward.problem.outputShape, seed: 44)
        let dx = try PoolingBackwardPlan(descriptor, inputShape: x.shape, on: reference).run(input: x, outputGrad: dy)
        #expect(dx.scalars[0] == dy.scalars[0] / 4)
        expectClose(dx, try numericGradient(x, step: 1e-2) { try dot(dy, forward.run(input: $0)) }, tolerance: smoothTolerance, "dX")
    }

    // MARK: - Resampling

    struct ResizeGradientCase: Sendable, CustomTestStringConvertible {
        let label: String
        let descriptor: ResizeDescriptor
        let inputShape: [Int]
        var testDescription: String { label }
    }

    static let resizes: [ResizeGradientCase] = {
        var cases: [ResizeGradientCase] = []
        for coordinates in CoordinateTransformation.allCases where coordinates != .tfCropAndResize {
            for mode in ResizeMode.allCases {
                cases.append(.init(label: "\(mode.rawValue) \(coordinates.rawValue) up",
                                   descriptor: ResizeDescriptor(target: .scales([1, 1, 1.7, 2.5]), mode: mode, coordinateTransformation: coordinates),
                                   inputShape: [1, 2, 4, 3]))
                cases.append(.init(label: "\(mode.rawValue) \(coordinates.rawValue) down",
                                   descriptor: ResizeDescriptor(target: .sizes([1, 1, 3, 2]), mode: mode, coordinateTransformation: coordinates),
                                   inputShape: [1, 2, 7, 5]))
            }
        }
        for rounding in NearestMode.allCases {
            cases.append(.init(label: "nearest \(rounding.rawValue) asymmetric",
                               descriptor: ResizeDescriptor(target: .scales([1, 1, 2.5, 1.5]), coordinateTransformation: .asymmetric, nearestMode: rounding),
                               inputShape: [1, 1, 4, 4]))
        }
        cases += [
            .init(label: "linear antialias down", descriptor: ResizeDescriptor(target: .scales([1, 1, 0.4, 0.6]), mode: .linear, antialias: true),
                  inputShape: [1, 2, 10, 8]),
            .init(label: "cubic antialias down, exclude_outside", descriptor: ResizeDescriptor(target: .sizes([3, 4]), mode: .cubic, excludeOutside: true, antialias: true, axes: [2, 3]),
                  inputShape: [1, 1, 8, 9]),
            .init(label: "cubic a=-0.5 exclude_outside up", descriptor: ResizeDescriptor(target: .scales([1.8, 2.2]), mode: .cubic, cubicCoefficientA: -0.5, excludeOutside: true, axes: [-2, -1]),
                  inputShape: [1, 2, 4, 4]),
            .init(label: "linear tf_crop_and_resize with extrapolation", descriptor: ResizeDescriptor(target: .sizes([5, 6]), mode: .linear, coordinateTransformation: .tfCropAndResize, extrapolationValue: 3, axes: [2, 3], roi: [-0.2, 0.1, 0.9, 1.3]),
                  inputShape: [1, 2, 5, 4]),
            .init(label: "cubic tf_crop_and_resize", descriptor: ResizeDescriptor(target: .sizes([4, 5]), mode: .cubic, coordinateTransformation: .tfCropAndResize, axes: [2, 3], roi: [0.1, 0.2, 0.8, 0.9]),
                  inputShape: [1, 1, 6, 6]),
            .init(label: "trilinear 5-D not_larger", descriptor: ResizeDescriptor(target: .sizes([3, 5, 4]), mode: .linear, keepAspectRatioPolicy: .notLarger, axes: [2, 3, 4]),
                  inputShape: [1, 1, 2, 3, 3]),
            .init(label: "linear 1-D rank 1", descriptor: ResizeDescriptor(target: .scales([2.3]), mode: .linear), inputShape: [6]),
        ]
        return cases
    }()

    @Test("Resize dX", arguments: resizes)
    func resize(_ c: ResizeGradientCase) throws {
        let x = randomTensor(c.inputShape, seed: 51)
        let forward = try ResizePlan(c.descriptor, inputShape: x.shape, on: reference)
        let dy = randomTensor(forward.problem.outputShape, seed: 52)
        let dx = try ResizeBackwardPlan(c.descriptor, inputShape: x.shape, on: reference).run(outputGrad: dy)
        expectClose(dx, try numericGradient(x, step: 1) { try dot(dy, forward.run(input: $0)) }, tolerance: linearTolerance, "dX")
    }

    @Test(arguments: [
        PixelShuffleDescriptor(.depthToSpace, blockSize: 2, mode: .dcr), PixelShuffleDescriptor(.depthToSpace, blockSize: 2, mode: .crd),
        PixelShuffleDescriptor(.spaceToDepth, blockSize: 2, mode: .dcr), PixelShuffleDescriptor(.spaceToDepth, blockSize: 3, mode: .crd),
    ])
    func pixelShuffle(_ descriptor: PixelShuffleDescriptor) throws {
        let shape = descriptor.direction == .depthToSpace ? [2, 8, 2, 3] : [1, 2, 6, 6]
        let x = randomTensor(shape, seed: 61)
        let forward = try PixelShufflePlan(descriptor, inputShape: x.shape, on: reference)
        let dy = randomTensor(forward.problem.outputShape, seed: 62)
        let dx = try PixelShuffleBackwardPlan(descriptor, inputShape: x.shape, on: reference).run(outputGrad: dy)
        expectClose(dx, try numericGradient(x, step: 1) { try dot(dy, forward.run(input: $0)) }, tolerance: linearTolerance, "dX")
        // A permutation: the gradient holds exactly the elements of dY.
        #expect(dx.scalars.sorted() == dy.scalars.sorted())
    }

    @Test(arguments: [
        Col2ImDescriptor(imageShape: [5, 6], blockShape: [2, 3], strides: [1, 2], pads: [1, 0, 0, 1], dilations: [2, 1]),
        Col2ImDescriptor(imageShape: [4, 4], blockShape: [2, 2]),
        Col2ImDescriptor(imageShape: [7], blockShape: [3], strides: [2], pads: [1, 2]),
    ])
    func col2im(_ descriptor: Col2ImDescriptor) throws {
        let blockSize = descriptor.blockShape.reduce(1, *)
        let geometry = try WindowGeometry.resolve(
            inputSize: descriptor.imageShape, kernel: descriptor.blockShape, strides: descriptor.strides,
            dilations: descriptor.dilations, pads: descriptor.pads, autoPad: .notSet, ceilMode: false)
        let x = randomTensor([2, 2 * blockSize, geometry.outputSize.reduce(1, *)], seed: 71)
        let forward = try Col2ImPlan(descriptor, inputShape: x.shape, on: reference)
        let dy = randomTensor(forward.problem.outputShape, seed: 72)
        let dx = try Col2ImBackwardPlan(descriptor, inputShape: x.shape, on: reference).run(outputGrad: dy)
        expectClose(dx, try numericGradient(x, step: 1) { try dot(dy, forward.run(input: $0)) }, tolerance: linearTolerance, "dX")
    }

    @Test(arguments: [[Int](), [1, 2, 7, 6]])
    func maxUnpool(outputShape: [Int]) throws {
        let pooled = randomTensor([1, 2, 6, 6], seed: 81)
        let (x, indices) = try PoolingPlan(PoolingDescriptor(kind: .max, kernelShape: [2, 2], strides: [2, 2]), inputShape: pooled.shape, on: reference)
            .runWithIndices(input: pooled)
        let descriptor = MaxUnpoolDescriptor(kernelShape: [2, 2], strides: [2, 2], outputShape: outputShape)
        let forward = try MaxUnpoolPlan(descriptor, inputShape: x.shape, on: reference)
        let dy = randomTensor(forward.problem.outputShape, seed: 82)
        let dx = try MaxUnpoolBackwardPlan(descriptor, inputShape: x.shape, on: reference).run(indices: indices, outputGrad: dy)
        expectClose(dx, try numericGradient(x, step: 1) { try dot(dy, forward.run(input: $0, indices: indices)) },
                    tolerance: linearTolerance, "dX")
    }
}

// MARK: - Conventions and dispatch

@Suite("Gradient conventions")
struct GradientConventionTests {
    func row(_ values: [Float]) -> Tensor { try! Tensor(shape: [1, 1, values.count], scalars: values) }

    /// Ties go to the first maximum in window order (the forward `Indices`); overlapping windows add up.
    @Test func maxPoolTiesAndOverlap() throws {
        let descriptor = PoolingDescriptor(kind: .max, kernelShape: [2], strides: [1])
        let dx = try poolingBackward(row([1, 3, 3, 2]), outputGrad: row([1, 10, 100]), descriptor, backend: "reference")
        #expect(dx.scalars == [0, 11, 100, 0])
    }

    /// A window holding NaN sends its gradient to the first NaN (the element its `Indices` names).
    @Test func maxPoolNaN() throws {
        let descriptor = PoolingDescriptor(kind: .max, kernelShape: [2], strides: [1])
        let x = row([1, .nan, 5, .nan])
        let dx = try poolingBackward(x, outputGrad: row([1, 2, 4]), descriptor, backend: "reference")
        #expect(dx.scalars == [0, 3, 0, 4])
        let (_, indices) = try poolingWithIndices(x, descriptor, backend: "reference")
        #expect(indices.scalars == [1, 1, 3])
    }

    /// Padding never receives gradient, and an element no window reads gets 0; −∞ windows still pick their first tap.
    @Test func maxPoolPaddingAndInfinity() throws {
        let descriptor = PoolingDescriptor(kind: .max, kernelShape: [2], strides: [3], pads: [1, 0])
        let dx = try poolingBackward(row([-.infinity, -.infinity, 2, 7, 1]), outputGrad: row([5, 6]), descriptor, backend: "reference")
        #expect(dx.scalars == [5, 0, 0, 6, 0])
    }

    /// Training-mode stochastic pooling: dY goes exactly where the forward's sampled indices point.
    @Test func stochasticGradientFollowsTheSample() throws {
        let x = randomTensor([2, 3, 6, 6], seed: 91, positive: true)
        let descriptor = PoolingDescriptor(kind: .stochastic(seed: 1234), kernelShape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1])
        let (_, indices) = try poolingWithIndices(x, descriptor, backend: "reference")
        let dy = randomTensor(indices.shape, seed: 92)
        var expected = [Double](repeating: 0, count: x.count)
        for (w, i) in indices.scalars.enumerated() { expected[Int(i)] += Double(dy.scalars[w]) }
        let dx = try poolingBackward(x, outputGrad: dy, descriptor, backend: "reference")
        #expect(dx.scalars == expected.map { Float($0) })
        // Another seed samples differently.
        var other = descriptor
        other.kind = .stochastic(seed: 99)
        #expect(try poolingBackward(x, outputGrad: dy, other, backend: "reference") != dx)
    }

    /// The storage order changes the indices, never the gradient.
    @Test func storageOrderDoesNotChangeTheGradient() throws {
        let x = randomTensor([1, 2, 5, 4], seed: 93)
        var descriptor = PoolingDescriptor(kind: .max, kernelShape: [2, 2], strides: [1, 1])
        let dy = randomTensor([1, 2, 4, 3], seed: 94)
        let rowMajor = try poolingBackward(x, outputGrad: dy, descriptor, backend: "reference")
        descriptor.storageOrder = .columnMajor
        #expect(try poolingBackward(x, outputGrad: dy, descriptor, backend: "reference") == rowMajor)
    }

    /// A convolution with a fused activation is declined with the remedy in the message.
    @Test(arguments: [ConvolutionActivation.relu, .clamp(min: 0, max: 6)])
    func fusedActivationIsDeclined(_ activation: ConvolutionActivation) throws {
        let descriptor = ConvolutionDescriptor(activation: activation)
        do {
            _ = try ConvolutionBackwardPlan(descriptor, inputShape: [1, 1, 4, 4], weightShape: [1, 1, 3, 3], backend: "reference")
            Issue.record("a fused activation was not declined")
        } catch let error as CNNKitError {
            #expect(error.kind == .unsupported)
            #expect(error.description.contains("activation's gradient"), "\(error)")
        }
        // Automatic dispatch declines on every built-in backend.
        #expect(throws: CNNKitError.self) {
            try ConvolutionBackwardPlan(descriptor, inputShape: [1, 1, 4, 4], weightShape: [1, 1, 3, 3])
        }
    }

    @Test func requestedGradientsOnly() throws {
        let x = randomTensor([1, 2, 4, 4], seed: 95), w = randomTensor([3, 2, 3, 3], seed: 96)
        let dy = randomTensor([1, 3, 2, 2], seed: 97)
        let onlyWeight = try ConvolutionBackwardPlan(
            ConvolutionDescriptor(), inputShape: x.shape, weightShape: w.shape, gradients: .weight, on: reference)
            .run(input: x, weight: w, outputGrad: dy)
        #expect(onlyWeight.input == nil && onlyWeight.bias == nil && onlyWeight.weight != nil)
        let all = try convolutionBackward(x, weight: w, outputGrad: dy, backend: "reference")
        #expect(all.weight == onlyWeight.weight)
        #expect(all.bias?.scalars == [0, 1, 2].map { m in Float(dy.scalars[(m * 4)..<(m * 4 + 4)].reduce(0.0) { $0 + Double($1) }) })
        // Without a planned bias, its gradient cannot be requested; an empty request is refused too.
        expectError(parameter: "gradients") {
            _ = try ConvolutionBackwardPlan(ConvolutionDescriptor(), inputShape: x.shape, weightShape: w.shape, gradients: .all, on: reference)
        }
        expectError(parameter: "gradients") {
            _ = try ConvolutionBackwardPlan(ConvolutionDescriptor(), inputShape: x.shape, weightShape: w.shape, gradients: [], on: reference)
        }
        // The output gradient must have the forward output's shape.
        expectError(parameter: "outputGrad.shape") {
            _ = try convolutionBackward(x, weight: w, outputGrad: randomTensor([1, 3, 3, 3], seed: 1), backend: "reference")
        }
        expectError(parameter: "indices") {
            _ = try maxUnpoolBackward(
                indices: IndexTensor(shape: [1, 1, 1, 2], scalars: [0, 99]), outputGrad: randomTensor([1, 1, 2, 4], seed: 2),
                MaxUnpoolDescriptor(kernelShape: [2, 2], strides: [2, 2]), backend: "reference")
        }
    }
}

/// A backend with forward operators only (it prepares nothing itself but answers to a name).
private struct ForwardOnlyBackend: Backend {
    let name = "forward-only"
    let base = ReferenceBackend()
    func prepare(_ problem: ConvolutionProblem, constants: ConvolutionConstants) throws -> any PreparedWeightedOperator {
        try base.prepare(problem, constants: constants)
    }
    func prepare(_ problem: PoolingProblem) throws -> any PreparedPooling { try base.prepare(problem) }
}

@Suite("Backward dispatch")
struct BackwardDispatchTests {
    let registry = BackendRegistry([ForwardOnlyBackend(), ReferenceBackend()])

    /// A backend without backward passes declines them ("not implemented") and automatic dispatch falls back.
    @Test func backendWithoutBackwardDeclinesAndFallsBack() throws {
        let forward = try ConvolutionPlan(ConvolutionDescriptor(), inputShape: [1, 1, 4, 4], weightShape: [1, 1, 3, 3], registry: registry)
        #expect(forward.backend == "forward-only")
        let conv = try ConvolutionBackwardPlan(ConvolutionDescriptor(), inputShape: [1, 1, 4, 4], weightShape: [1, 1, 3, 3], registry: registry)
        #expect(conv.backend == "reference")
        #expect(try ConvTransposeBackwardPlan(ConvTransposeDescriptor(), inputShape: [1, 1, 2, 2], weightShape: [1, 1, 2, 2], registry: registry).backend == "reference")
        #expect(try PoolingBackwardPlan(PoolingDescriptor(kind: .max, kernelShape: [2, 2]), inputShape: [1, 1, 4, 4], registry: registry).backend == "reference")
        #expect(try ResizeBackwardPlan(ResizeDescriptor(target: .scales([2])), inputShape: [3], registry: registry).backend == "reference")
        #expect(try PixelShuffleBackwardPlan(PixelShuffleDescriptor(.depthToSpace, blockSize: 2), inputShape: [1, 4, 2, 2], registry: registry).backend == "reference")
        #expect(try Col2ImBackwardPlan(Col2ImDescriptor(imageShape: [3, 3], blockShape: [2, 2]), inputShape: [1, 4, 4], registry: registry).backend == "reference")
        #expect(try MaxUnpoolBackwardPlan(MaxUnpoolDescriptor(kernelShape: [2, 2], strides: [2, 2]), inputShape: [1, 1, 2, 2], registry: registry).backend == "reference")
        do {
            _ = try PoolingBackwardPlan(PoolingDescriptor(kind: .max, kernelShape: [2, 2]), inputShape: [1, 1, 4, 4], backend: "forward-only", registry: registry)
            Issue.record("the forward-only backend accepted a backward pass")
        } catch let error as CNNKitError {
            #expect(error.kind == .unsupported)
            #expect(error.description.contains("Pool backward (not implemented)"), "\(error)")
        }
    }

    /// Every built-in backend either runs a backward pass or declines it; automatic dispatch always finds one, and
    /// its result matches the reference's.
    @Test func sharedRegistryRunsEveryBackwardPass() throws {
        let x = randomTensor([1, 2, 5, 5], seed: 101), w = randomTensor([2, 2, 3, 3], seed: 102)
        let dy = randomTensor([1, 2, 3, 3], seed: 103)
        let automatic = try convolutionBackward(x, weight: w, outputGrad: dy)
        let referenceResult = try convolutionBackward(x, weight: w, outputGrad: dy, backend: "reference")
        for (a, r) in [(automatic.input, referenceResult.input), (automatic.weight, referenceResult.weight), (automatic.bias, referenceResult.bias)] {
            guard let a, let r else { Issue.record("missing gradient"); continue }
            let scale = max(1, r.scalars.map { abs($0) }.max() ?? 0)
            #expect(zip(a.scalars, r.scalars).allSatisfy { abs($0 - $1) <= 1e-4 * scale })
        }
    }
}
