import CNNKit
import CNNKitImageIO
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
    /// - Parameters:
    ///   - pads: explicit `[top, left, bottom, right]` pads, overriding `padding`.
    ///   - groups: channel groups of a `.layer` kernel bank (image filters are always per channel).
    static func filter(
        _ input: Tensor, _ spec: FilterSpec, mode: FilterMode, padding: FilterPadding, stride: Int,
        border: BorderMode = .constant, dilation: Int = 1, pads: [Int]? = nil, groups: Int = 1, bias: Tensor? = nil,
        backend: BackendSelection
    ) throws -> (Tensor, backend: String) {
        let channels = input.shape[1]
        var descriptor = ConvolutionDescriptor(
            strides: [stride, stride], autoPad: padding == .same ? .sameUpper : .valid, dilations: [dilation, dilation],
            mode: mode.convolutionMode, border: border)
        if let pads { (descriptor.pads, descriptor.autoPad) = (pads, .notSet) }
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
            guard weight.shape[1] * groups == channels else {
                throw CLIError(
                    "\(path): kernel shape \(weight.shape) with --groups \(groups) needs \(weight.shape[1] * groups) input channels, but the image has \(channels); expected [M, \(channels)/groups, kH, kW] or [kH, kW]")
            }
            descriptor.group = groups
            let plan = try ConvolutionPlan(descriptor, inputShape: input.shape, weightShape: weight.shape, biasShape: bias?.shape, backend: backend)
            return (try plan.run(input: input, weight: weight, bias: bias), plan.backend)
        }
    }

    /// Pooling with a square window; with `indices`, max pooling's argmax is written there (int64 .npy).
    static func pool(
        _ input: Tensor, kind: PoolingKind, kernel: Int, stride: Int, padding: Int, ceil: Bool, indices: String? = nil,
        backend: BackendSelection
    ) throws -> (Tensor, backend: String) {
        let descriptor = PoolingDescriptor(
            kind: kind, kernelShape: [kernel, kernel], strides: [stride, stride],
            pads: [padding, padding, padding, padding], ceilMode: ceil)
        return try run(PoolingPlan(descriptor, inputShape: input.shape, backend: backend), input, indices: indices)
    }

    /// Global pooling (`adaptive` nil) or adaptive max / average pooling to `adaptive` = [H, W].
    static func pool(
        _ input: Tensor, kind: PoolingKind, adaptive: [Int]?, indices: String?, backend: BackendSelection
    ) throws -> (Tensor, backend: String) {
        guard let adaptive else { return try run(PoolingPlan(.global(kind), inputShape: input.shape, backend: backend), input, indices: indices) }
        let descriptor = AdaptivePoolingDescriptor(kind: kind == .max ? .max : .average, outputSize: adaptive)
        return try run(AdaptivePoolingPlan(descriptor, inputShape: input.shape, backend: backend), input, indices: indices)
    }

    /// Runs a pooling plan; with `indices`, also writes its argmax indices there (int64 .npy).
    private static func run<P>(_ plan: PoolingFamilyPlan<P>, _ input: Tensor, indices: String?) throws -> (Tensor, backend: String) {
        guard let indices else { return (try plan.run(input: input), plan.backend) }
        let (output, argmax) = try plan.runWithIndices(input: input)
        let data = argmax.npyData()
        try OutputGate.shared.write { try ImageIO.writeAtomically(data, to: indices) }
        return (output, plan.backend)
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
}
