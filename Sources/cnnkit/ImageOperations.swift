import CNNKit
import Foundation

/// `--padding` of `filter`.
enum FilterPadding: String, CaseIterable {
    /// Zero padding so that the output has `ceil(L / stride)` samples (ONNX `SAME_UPPER`).
    case same
    /// No padding.
    case valid
}

/// `--mode` of `filter`.
enum FilterMode: String, CaseIterable {
    /// Cross-correlation, what CNN layers compute.
    case correlate
    /// True convolution (kernel flipped).
    case convolve

    var convolutionMode: ConvolutionMode { self == .correlate ? .crossCorrelation : .convolution }
}

/// The image operations of the tool, each a call into CNNKit on one `[N, C, H, W]` tensor. Each returns the result
/// and the name of the backend that ran it.
enum ImageOperations {
    /// Runs a fixed filter through CNNKit's convolution: a 2-D kernel per channel (group = C), the Sobel magnitude
    /// (one depthwise convolution with the x and y kernels, then `sqrt(gx² + gy²)`), or a full layer `[M, C, kH, kW]`.
    static func filter(
        _ input: Tensor, _ spec: FilterSpec, mode: FilterMode, padding: FilterPadding, stride: Int,
        backend: BackendSelection
    ) throws -> (Tensor, backend: String) {
        let channels = input.shape[1]
        var descriptor = ConvolutionDescriptor(
            strides: [stride, stride], autoPad: padding == .same ? .sameUpper : .valid, mode: mode.convolutionMode)
        switch spec {
        case .perChannel(let kernel):
            descriptor.group = channels
            let weight = try Tensor(
                shape: [channels, 1, kernel.height, kernel.width],
                scalars: Array((0..<channels).map { _ in kernel.values }.joined()))
            let plan = try ConvolutionPlan(descriptor, inputShape: input.shape, weightShape: weight.shape, backend: backend)
            return (try plan.run(input: input, weight: weight), plan.backend)
        case .sobelMagnitude:
            // Output channel 2c is gx of input channel c, 2c + 1 is gy.
            descriptor.group = channels
            let pair = Kernels.sobelX.values + Kernels.sobelY.values
            let weight = try Tensor(shape: [2 * channels, 1, 3, 3], scalars: Array(repeatElement(pair, count: channels).joined()))
            let plan = try ConvolutionPlan(descriptor, inputShape: input.shape, weightShape: weight.shape, backend: backend)
            let gradients = try plan.run(input: input, weight: weight)
            let (n, h, w) = (gradients.shape[0], gradients.shape[2], gradients.shape[3])
            let plane = h * w
            var magnitude = [Float](repeating: 0, count: n * channels * plane)
            gradients.scalars.withUnsafeBufferPointer { g in
                for image in 0..<n * channels {
                    let gx = 2 * image * plane, gy = gx + plane
                    for p in 0..<plane { magnitude[image * plane + p] = (g[gx + p] * g[gx + p] + g[gy + p] * g[gy + p]).squareRoot() }
                }
            }
            return (try Tensor(shape: [n, channels, h, w], scalars: magnitude), plan.backend)
        case .layer(let weight, let path):
            guard weight.shape[1] == channels else {
                throw CLIError(
                    "\(path): kernel shape \(weight.shape) needs \(weight.shape[1]) input channels, but the image has \(channels); expected [M, \(channels), kH, kW] or [kH, kW]")
            }
            let plan = try ConvolutionPlan(descriptor, inputShape: input.shape, weightShape: weight.shape, backend: backend)
            return (try plan.run(input: input, weight: weight), plan.backend)
        }
    }

    /// Pooling with a square window.
    static func pool(
        _ input: Tensor, kind: PoolingKind, kernel: Int, stride: Int, padding: Int, ceil: Bool, backend: BackendSelection
    ) throws -> (Tensor, backend: String) {
        let descriptor = PoolingDescriptor(
            kind: kind, kernelShape: [kernel, kernel], strides: [stride, stride],
            pads: [padding, padding, padding, padding], ceilMode: ceil)
        let plan = try PoolingPlan(descriptor, inputShape: input.shape, backend: backend)
        return (try plan.run(input: input), plan.backend)
    }

    /// CNNKit resize of the two spatial axes.
    static func resize(
        _ input: Tensor, target: ResizeTarget, mode: ResizeMode, coordinates: CoordinateTransformation,
        antialias: Bool, backend: BackendSelection
    ) throws -> (Tensor, backend: String) {
        let descriptor = ResizeDescriptor(
            target: target, mode: mode, coordinateTransformation: coordinates, antialias: antialias, axes: [2, 3])
        let plan = try ResizePlan(descriptor, inputShape: input.shape, backend: backend)
        return (try plan.run(input: input), plan.backend)
    }

    /// Exact area resampling for integer factors: box averaging (average pooling with kernel = stride = factor) on
    /// axes that shrink, pixel replication (nearest, asymmetric, floor) on axes that grow.
    /// - Parameters:
    ///   - factors: per spatial axis (H, W): a positive integer `k` shrinks by `k`, a negative `-u` grows by `u`.
    static func area(_ input: Tensor, factors: [Int], backend: BackendSelection) throws -> (Tensor, backend: String) {
        var result = input
        var used: [String] = []
        let shrink = factors.map { $0 > 0 ? $0 : 1 }
        if shrink.contains(where: { $0 > 1 }) {
            let descriptor = PoolingDescriptor(kind: .average(countIncludePad: false), kernelShape: shrink, strides: shrink)
            let plan = try PoolingPlan(descriptor, inputShape: result.shape, backend: backend)
            result = try plan.run(input: result)
            used.append(plan.backend)
        }
        let grow = factors.map { $0 < 0 ? -$0 : 1 }
        if grow.contains(where: { $0 > 1 }) {
            let descriptor = ResizeDescriptor(
                target: .sizes([result.shape[2] * grow[0], result.shape[3] * grow[1]]), mode: .nearest,
                coordinateTransformation: .asymmetric, nearestMode: .floor, axes: [2, 3])
            let plan = try ResizePlan(descriptor, inputShape: result.shape, backend: backend)
            result = try plan.run(input: result)
            used.append(plan.backend)
        }
        let names = Set(used).sorted().joined(separator: "+")
        return (result, names.isEmpty ? "none (factor 1)" : names)
    }

    /// The integer area factors taking `input` (H, W) exactly to `output` (H, W), or nil if some axis is not an
    /// integer ratio.
    static func areaFactors(from input: [Int], to output: [Int]) -> [Int]? {
        var factors: [Int] = []
        for (source, target) in zip(input, output) {
            guard source > 0, target > 0 else { return nil }
            if target <= source {
                guard source % target == 0 else { return nil }
                factors.append(source / target)
            } else {
                guard target % source == 0 else { return nil }
                factors.append(-(target / source))
            }
        }
        return factors
    }
}
