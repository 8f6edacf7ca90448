/// Whether a convolution slides the kernel as stored or flipped.
public enum ConvolutionMode: String, Sendable, Hashable, CaseIterable {
    /// `y[o] = Σ x[o·s + k·d − p] · w[k]`: what CNN layers compute (ONNX Conv, PyTorch `conv2d`, OpenCV `filter2D`).
    case crossCorrelation
    /// True convolution as signal processing defines it: the kernel is flipped along every spatial axis,
    /// `y[o] = Σ x[o·s + k·d − p] · w[K − 1 − k]` (SciPy `convolve`, MATLAB `conv2`).
    case convolution
}

/// An activation fused into a convolution: applied to every output element after the bias, in the kernel's
/// epilogue (no second pass over the output). ONNX expresses it as a separate Relu / Clip node; oneDNN and
/// XNNPACK fuse it the same way.
public enum ConvolutionActivation: Sendable, Hashable {
    /// The plain convolution.
    case none
    /// `max(y, 0)` (ONNX Relu; NaN stays NaN).
    case relu
    /// `min(max(y, min), max)` (ONNX Clip-13 with both bounds; ReLU6 is `.clamp(min: 0, max: 6)`).
    case clamp(min: Float, max: Float)

    /// The clamp interval: `(-inf, inf)` for none, `(0, inf)` for ReLU.
    public var bounds: (lower: Float, upper: Float) {
        switch self {
        case .none: return (-.infinity, .infinity)
        case .relu: return (0, .infinity)
        case .clamp(let lo, let hi): return (lo, hi)
        }
    }

    /// Applies the activation to one value (NaN passes through, as ONNX Relu and Clip do).
    @inline(__always)
    public func apply(_ y: Float) -> Float {
        let (lo, hi) = bounds
        return y < lo ? lo : y > hi ? hi : y
    }
}

/// Attributes of a convolution (ONNX Conv-11 … Conv-22), plus the CNNKit ``ConvolutionMode`` and an optional
/// fused ``ConvolutionActivation``.
///
/// Shapes: input `[N, C, spatial…]` (NCL, NCHW or NCDHW), weight `[M, C/group, k…]`, optional bias `[M]`,
/// output `[N, M, out…]` with `out` from ``WindowGeometry``. Lists left empty take the ONNX defaults.
public struct ConvolutionDescriptor: Sendable, Hashable {
    /// Kernel extent per spatial axis; `[]` takes it from the weight. If given it must match the weight.
    public var kernelShape: [Int]
    /// Stride per spatial axis (`[]` = all 1).
    public var strides: [Int]
    /// `[begin per axis…, end per axis…]` (`[]` = no padding); ignored unless `autoPad == .notSet`.
    public var pads: [Int]
    /// Automatic padding.
    public var autoPad: AutoPad
    /// Dilation per spatial axis (`[]` = all 1; 1 is a dense kernel).
    public var dilations: [Int]
    /// Number of channel groups; `group == C == M` is depthwise convolution.
    public var group: Int
    /// Cross-correlation (the ONNX and CNN default) or true convolution (kernel flipped).
    public var mode: ConvolutionMode
    /// Activation applied in the epilogue (default none).
    public var activation: ConvolutionActivation
    /// What the padding reads (PyTorch `padding_mode`, OpenCV `borderType`): ``BorderMode/constant`` = zeros (the
    /// ONNX Conv and CNN-layer semantics, the default), or the input's own values reflected, repeated or wrapped —
    /// the same as a ``PadDescriptor`` Pad of the input followed by this convolution without padding.
    public var border: BorderMode

    public init(
        kernelShape: [Int] = [], strides: [Int] = [], pads: [Int] = [], autoPad: AutoPad = .notSet,
        dilations: [Int] = [], group: Int = 1, mode: ConvolutionMode = .crossCorrelation,
        activation: ConvolutionActivation = .none, border: BorderMode = .constant
    ) {
        self.activation = activation
        self.border = border
        self.kernelShape = kernelShape
        self.strides = strides
        self.pads = pads
        self.autoPad = autoPad
        self.dilations = dilations
        self.group = group
        self.mode = mode
    }
}

/// A validated convolution: descriptor plus tensor shapes, with padding resolved and the output shape inferred.
public struct ConvolutionProblem: Sendable, Hashable, CustomStringConvertible {
    public let descriptor: ConvolutionDescriptor
    /// Batch size N.
    public let batch: Int
    /// Input channels C.
    public let inputChannels: Int
    /// Output channels M (feature maps).
    public let outputChannels: Int
    /// Channel groups.
    public let group: Int
    /// Spatial geometry (kernel, strides, dilations, resolved pads, output size).
    public let geometry: WindowGeometry
    /// Whether a bias `[M]` is added.
    public let hasBias: Bool

    /// `[N, C, spatial…]`.
    public var inputShape: [Int] { [batch, inputChannels] + geometry.inputSize }
    /// `[M, C/group, k…]`.
    public var weightShape: [Int] { [outputChannels, inputChannels / group] + geometry.kernel }
    /// `[N, M, out…]`.
    public var outputShape: [Int] { [batch, outputChannels] + geometry.outputSize }
    /// Multiply-accumulates of the direct algorithm: `N·M·Π(out)·(C/group)·Π(k)` (`Int.max` when it does not fit).
    public var multiplyAccumulates: Int {
        saturatingProduct(outputShape + [inputChannels / group] + geometry.kernel)
    }

    /// Validates `descriptor` against the tensor shapes.
    /// - Throws: ``CNNKitError`` naming the parameter: input rank not 3–5, weight rank ≠ input rank,
    ///   `group` < 1 or not dividing C and M, `weight.shape[1]` ≠ C/group, `kernel_shape` ≠ the weight's,
    ///   bias shape ≠ `[M]`, a clamp activation with min > max or a NaN bound, a pad beyond what ``ConvolutionDescriptor/border`` can read
    ///   (reflect: at most L − 1; symmetric and wrap: at most L; edge: any, with L ≥ 1), and every geometry error
    ///   of ``WindowGeometry/resolve(inputSize:kernel:strides:dilations:pads:autoPad:ceilMode:)``.
    public init(descriptor: ConvolutionDescriptor, inputShape: [Int], weightShape: [Int], biasShape: [Int]? = nil) throws {
        let problemText = provisionalWindowProblem(
            inputShape: inputShape, outputChannels: weightShape.first, kernel: Array(weightShape.dropFirst(2)),
            strides: descriptor.strides, pads: descriptor.pads, dilations: descriptor.dilations,
            suffix: "_g\(descriptor.group)")
        try quotingProblem(problemText) {
            try requireFeatureMap(inputShape, "input.shape")
            guard weightShape.count == inputShape.count else {
                throw CNNKitError.shapeMismatch(
                    "weight.shape", value: "\(weightShape)", expected: "rank \(inputShape.count) [M, C/group, k…] like the input")
            }
            _ = try Tensor.elementCount(of: weightShape, parameter: "weight.shape")
        }
        let channels = inputShape[1], outputs = weightShape[0], group = descriptor.group
        try quotingProblem(problemText) {
            guard group >= 1 else {
                throw CNNKitError.invalidArgument("group", value: "\(group)", expected: "group >= 1")
            }
            guard channels % group == 0 else {
                throw CNNKitError.invalidArgument("group", value: "\(group)", expected: "a divisor of input channels C = \(channels)")
            }
            guard outputs % group == 0 else {
                throw CNNKitError.invalidArgument("group", value: "\(group)", expected: "a divisor of output channels M = \(outputs)")
            }
            guard weightShape[1] == channels / group else {
                throw CNNKitError.shapeMismatch(
                    "weight.shape", value: "\(weightShape)", expected: "weight.shape[1] = C/group = \(channels / group)")
            }
            let kernel = Array(weightShape[2...])
            guard descriptor.kernelShape.isEmpty || descriptor.kernelShape == kernel else {
                throw CNNKitError.shapeMismatch(
                    "kernel_shape", value: "\(descriptor.kernelShape)", expected: "the weight's spatial extents \(kernel)")
            }
            if let biasShape, biasShape != [outputs] {
                throw CNNKitError.shapeMismatch("bias.shape", value: "\(biasShape)", expected: "[\(outputs)] (one per output channel)")
            }
            if case .clamp(let lo, let hi) = descriptor.activation, !(lo <= hi) {
                throw CNNKitError.invalidArgument(
                    "activation", value: "clamp(min: \(lo), max: \(hi))", expected: "min <= max, neither NaN")
            }
        }
        let geometry = try quotingProblem(problemText) {
            try WindowGeometry.resolve(
                inputSize: Array(inputShape[2...]), kernel: Array(weightShape[2...]), strides: descriptor.strides,
                dilations: descriptor.dilations, pads: descriptor.pads, autoPad: descriptor.autoPad, ceilMode: false)
        }
        if descriptor.border != .constant {
            try quotingProblem(problemText) { try requireBorderReach(descriptor.border, geometry) }
        }
        self.descriptor = descriptor
        self.batch = inputShape[0]
        self.inputChannels = channels
        self.outputChannels = outputs
        self.group = group
        self.geometry = geometry
        self.hasBias = biasShape != nil
        _ = try quotingProblem(description) { try Tensor.elementCount(of: outputShape, parameter: "output.shape") }
    }

    /// Canonical problem string, e.g. `mb1ic64ih56iw56_oc64oh56ow56kh3kw3_sh1sw1_ph1pw1_dh1dw1_g1`
    /// (`_flip` is appended for true convolution, `_bias` when a bias is added).
    public var description: String {
        let g = geometry
        return "mb\(batch)ic\(inputChannels)\(canonicalField("i", g.inputSize))"
            + "_oc\(outputChannels)\(canonicalField("o", g.outputSize))\(canonicalField("k", g.kernel))"
            + "_\(canonicalField("s", g.strides))_\(canonicalPads(g.padBegin, g.padEnd))"
            + "_\(canonicalField("d", g.dilations))_g\(group)"
            + (descriptor.mode == .convolution ? "_flip" : "") + (hasBias ? "_bias" : "") + activationField
            + (descriptor.border == .constant ? "" : "_border\(descriptor.border.rawValue)")
    }

    private var activationField: String {
        switch descriptor.activation {
        case .none: return ""
        case .relu: return "_relu"
        case .clamp(let lo, let hi): return "_clamp\(lo):\(hi)"
        }
    }
}

/// Attributes of a transposed convolution (ONNX ConvTranspose-11 … 22).
///
/// Shapes: input `[N, C, spatial…]`, weight `[C, M/group, k…]`, optional bias `[M]`, output `[N, M, out…]` with
/// `out = s·(L−1) + output_padding + (k−1)·d + 1 − pb − pe`. With `outputShape` the total padding is derived from it.
public struct ConvTransposeDescriptor: Sendable, Hashable {
    /// Kernel extent per spatial axis; `[]` takes it from the weight.
    public var kernelShape: [Int]
    /// Stride per spatial axis (`[]` = all 1).
    public var strides: [Int]
    /// `[begin per axis…, end per axis…]` (`[]` = 0); used only when `autoPad` is `.notSet` and `outputShape` is empty.
    public var pads: [Int]
    /// Extra output positions at the end of each axis (`[]` = 0).
    public var outputPadding: [Int]
    /// Requested output spatial extents (`[]` = none); `[N, M, spatial…]` is accepted too.
    public var outputShape: [Int]
    /// Automatic padding: SAME_* aim at output length `L·stride`.
    public var autoPad: AutoPad
    /// Dilation per spatial axis (`[]` = all 1).
    public var dilations: [Int]
    /// Channel groups.
    public var group: Int

    public init(
        kernelShape: [Int] = [], strides: [Int] = [], pads: [Int] = [], outputPadding: [Int] = [],
        outputShape: [Int] = [], autoPad: AutoPad = .notSet, dilations: [Int] = [], group: Int = 1
    ) {
        self.kernelShape = kernelShape
        self.strides = strides
        self.pads = pads
        self.outputPadding = outputPadding
        self.outputShape = outputShape
        self.autoPad = autoPad
        self.dilations = dilations
        self.group = group
    }
}

/// A validated transposed convolution.
///
/// Output position `o` receives `x[i]·w[k]` wherever `o = i·s + k·d − pb`. A negative `padBegin` (possible when
/// `outputShape` asks for more than the natural length) shifts the result right and leaves bias-only positions.
public struct ConvTransposeProblem: Sendable, Hashable, CustomStringConvertible {
    public let descriptor: ConvTransposeDescriptor
    public let batch: Int
    public let inputChannels: Int
    public let outputChannels: Int
    public let group: Int
    public let inputSize: [Int]
    public let kernel: [Int]
    public let strides: [Int]
    public let dilations: [Int]
    /// Resolved padding before the first output element (may be negative, see above).
    public let padBegin: [Int]
    public let padEnd: [Int]
    public let outputSize: [Int]
    public let hasBias: Bool

    public var inputShape: [Int] { [batch, inputChannels] + inputSize }
    /// `[C, M/group, k…]`.
    public var weightShape: [Int] { [inputChannels, outputChannels / group] + kernel }
    public var outputShape: [Int] { [batch, outputChannels] + outputSize }
    /// Multiply-accumulates: `N·C·Π(L)·(M/group)·Π(k)` (`Int.max` when it does not fit).
    public var multiplyAccumulates: Int {
        saturatingProduct(inputShape + [outputChannels / group] + kernel)
    }

    /// Validates `descriptor` against the tensor shapes (ONNX ConvTranspose-11 output-size and padding rules).
    /// - Throws: ``CNNKitError`` naming the parameter: input rank not 3–5, weight rank or `weight.shape[0]` ≠ C,
    ///   `group` not dividing C, non-positive strides/dilations, negative pads or output_padding, an
    ///   `output_shape` of the wrong length, a negative output length, bias shape ≠ `[M]`.
    public init(descriptor: ConvTransposeDescriptor, inputShape: [Int], weightShape: [Int], biasShape: [Int]? = nil) throws {
        let problemText = provisionalWindowProblem(
            inputShape: inputShape,
            outputChannels: weightShape.count > 1 ? weightShape[1].multipliedReportingOverflow(by: descriptor.group).partialValue : nil,
            kernel: Array(weightShape.dropFirst(2)), strides: descriptor.strides, pads: descriptor.pads,
            dilations: descriptor.dilations, suffix: "_g\(descriptor.group)_deconv")
        try quotingProblem(problemText) {
            try requireFeatureMap(inputShape, "input.shape")
            guard weightShape.count == inputShape.count else {
                throw CNNKitError.shapeMismatch(
                    "weight.shape", value: "\(weightShape)", expected: "rank \(inputShape.count) [C, M/group, k…] like the input")
            }
            _ = try Tensor.elementCount(of: weightShape, parameter: "weight.shape")
        }
        let rank = inputShape.count - 2
        let channels = inputShape[1], group = descriptor.group
        let inputSize = Array(inputShape[2...]), kernel = Array(weightShape[2...])
        var strides: [Int] = [], dilations: [Int] = [], padBegin: [Int] = [], padEnd: [Int] = [], outputSize: [Int] = []
        try quotingProblem(problemText) {
            guard group >= 1, channels % group == 0 else {
                throw CNNKitError.invalidArgument("group", value: "\(group)", expected: "a divisor of input channels C = \(channels), >= 1")
            }
            guard weightShape[0] == channels else {
                throw CNNKitError.shapeMismatch("weight.shape", value: "\(weightShape)", expected: "weight.shape[0] = C = \(channels)")
            }
            guard descriptor.kernelShape.isEmpty || descriptor.kernelShape == kernel else {
                throw CNNKitError.shapeMismatch(
                    "kernel_shape", value: "\(descriptor.kernelShape)", expected: "the weight's spatial extents \(kernel)")
            }
            _ = try WindowGeometry.spatialList(kernel, "weight.shape (kernel)", rank: rank, default: nil, minimum: 1)
            strides = try WindowGeometry.spatialList(descriptor.strides, "strides", rank: rank, default: 1, minimum: 1)
            dilations = try WindowGeometry.spatialList(descriptor.dilations, "dilations", rank: rank, default: 1, minimum: 1)
            let outputPadding = try WindowGeometry.spatialList(
                descriptor.outputPadding, "output_padding", rank: rank, default: 0, minimum: 0)
            let pads = try WindowGeometry.padList(descriptor.pads, rank: rank)
            var requested = descriptor.outputShape
            if requested.count == rank + 2 { requested = Array(requested[2...]) }
            guard requested.isEmpty || requested.count == rank else {
                throw CNNKitError.invalidArgument(
                    "output_shape", value: "\(descriptor.outputShape)", expected: "\(rank) spatial extents (or \(rank + 2) with N, M)")
            }
            guard requested.allSatisfy({ $0 >= 0 && $0 <= maximumPad }) else {
                throw CNNKitError.invalidArgument("output_shape", value: "\(descriptor.outputShape)", expected: "extents in 0…\(maximumPad)")
            }
            guard outputPadding.allSatisfy({ $0 <= maximumPad }) else {
                throw CNNKitError.invalidArgument("output_padding", value: "\(outputPadding)", expected: "values <= \(maximumPad)")
            }
            for axis in 0..<rank {
                let extent = try WindowGeometry.effectiveKernel(kernel[axis], dilation: dilations[axis], axis: axis)
                let (scaled, overflow) = strides[axis].multipliedReportingOverflow(by: max(inputSize[axis] - 1, 0))
                guard !overflow, scaled < Int.max / 4 else {
                    throw CNNKitError.invalidArgument("strides", value: "\(strides)", expected: "stride·(L−1) that fits in Int", kind: .overflow)
                }
                // Length before any padding is removed.
                // scaled and extent are below Int.max / 4 and outputPadding at most 2^40: the sum fits.
                let full = inputSize[axis] == 0 ? 0 : scaled + outputPadding[axis] + extent
                var begin = pads[axis], end = pads[rank + axis]
                if !requested.isEmpty {
                    let total = full - requested[axis]
                    let half = floorDivide(total, 2)
                    if descriptor.autoPad == .sameUpper { begin = half; end = total - half } else { begin = total - half; end = half }
                } else if descriptor.autoPad == .sameUpper || descriptor.autoPad == .sameLower {
                    let total = max(0, full - saturatingMultiply(inputSize[axis], strides[axis]))
                    let half = total / 2
                    if descriptor.autoPad == .sameUpper { begin = half; end = total - half } else { begin = total - half; end = half }
                } else if descriptor.autoPad == .valid {
                    begin = 0; end = 0
                }
                let length = full - begin - end
                guard length >= 0 else {
                    throw CNNKitError.invalidArgument(
                        "pads", value: "\(descriptor.pads)",
                        expected: "total padding <= \(full) on axis \(axis) (output length \(length) < 0)")
                }
                if inputSize[axis] == 0 && length != 0 {
                    throw CNNKitError.shapeMismatch(
                        "input.shape", value: "\(inputShape) (axis \(axis) has length 0)",
                        expected: "no output from a zero-length axis, but output_shape gives \(length)")
                }
                padBegin.append(begin); padEnd.append(end); outputSize.append(length)
            }
        }
        let outputs = try quotingProblem(problemText) {
            // C = 0 lets any group divide it: M = weight.shape[1]·group must still fit.
            try multiplied(weightShape[1], group, "group", "\(group) with weight.shape[1] = \(weightShape[1])")
        }
        if let biasShape, biasShape != [outputs] {
            throw CNNKitError.shapeMismatch("bias.shape", value: "\(biasShape)", expected: "[\(outputs)] (one per output channel)")
                .quoting(problemText)
        }
        self.descriptor = descriptor
        self.batch = inputShape[0]
        self.inputChannels = channels
        self.outputChannels = outputs
        self.group = group
        self.inputSize = inputSize
        self.kernel = kernel
        self.strides = strides
        self.dilations = dilations
        self.padBegin = padBegin
        self.padEnd = padEnd
        self.outputSize = outputSize
        self.hasBias = biasShape != nil
        _ = try quotingProblem(description) { try Tensor.elementCount(of: outputShape, parameter: "output.shape") }
    }

    /// Canonical problem string, e.g. `mb1ic64ih28iw28_oc32oh56ow56kh4kw4_sh2sw2_ph1pw1_dh1dw1_g1_deconv`.
    public var description: String {
        "mb\(batch)ic\(inputChannels)\(canonicalField("i", inputSize))"
            + "_oc\(outputChannels)\(canonicalField("o", outputSize))\(canonicalField("k", kernel))"
            + "_\(canonicalField("s", strides))_\(canonicalPads(padBegin, padEnd))"
            + "_\(canonicalField("d", dilations))_g\(group)_deconv" + (hasBias ? "_bias" : "")
    }
}

/// Attributes of Col2Im (ONNX Col2Im-18): rearranges column blocks back into an image, summing overlaps.
///
/// Shapes: input `[N, C·Π(block), B]` where `B` is the number of sliding blocks, output `[N, C, image…]`.
public struct Col2ImDescriptor: Sendable, Hashable {
    /// Spatial extents of the output image.
    public var imageShape: [Int]
    /// Spatial extents of one block (the kernel).
    public var blockShape: [Int]
    /// `[]` = all 1.
    public var strides: [Int]
    /// `[begin…, end…]`, `[]` = 0.
    public var pads: [Int]
    /// `[]` = all 1.
    public var dilations: [Int]

    public init(imageShape: [Int], blockShape: [Int], strides: [Int] = [], pads: [Int] = [], dilations: [Int] = []) {
        self.imageShape = imageShape
        self.blockShape = blockShape
        self.strides = strides
        self.pads = pads
        self.dilations = dilations
    }
}

/// A validated Col2Im.
public struct Col2ImProblem: Sendable, Hashable, CustomStringConvertible {
    public let descriptor: Col2ImDescriptor
    public let batch: Int
    /// Output channels C.
    public let channels: Int
    /// Geometry of the sliding blocks over the padded image (`outputSize` = blocks per axis).
    public let geometry: WindowGeometry

    public var inputShape: [Int] {
        [batch, saturatingProduct([channels] + geometry.kernel), saturatingProduct(geometry.outputSize)]
    }
    public var outputShape: [Int] { [batch, channels] + geometry.inputSize }

    /// - Throws: ``CNNKitError`` when the input is not rank 3, its second axis is not a multiple of Π(block),
    ///   its third axis is not the number of blocks, or the geometry is invalid.
    public init(descriptor: Col2ImDescriptor, inputShape: [Int]) throws {
        let problemText = "col2im\(inputShape)_image\(descriptor.imageShape)_block\(descriptor.blockShape)"
        let geometry = try quotingProblem(problemText) { () -> WindowGeometry in
            try requireFeatureMap(inputShape, "input.shape", ranks: 3...3)
            guard descriptor.imageShape.count == descriptor.blockShape.count, !descriptor.imageShape.isEmpty else {
                throw CNNKitError.invalidArgument(
                    "block_shape", value: "\(descriptor.blockShape)", expected: "one extent per image axis \(descriptor.imageShape)")
            }
            guard descriptor.imageShape.allSatisfy({ $0 >= 0 }) else {
                throw CNNKitError.invalidArgument("image_shape", value: "\(descriptor.imageShape)", expected: "non-negative extents")
            }
            return try WindowGeometry.resolve(
                inputSize: descriptor.imageShape, kernel: descriptor.blockShape, strides: descriptor.strides,
                dilations: descriptor.dilations, pads: descriptor.pads, autoPad: .notSet, ceilMode: false)
        }
        let blockSize = try quotingProblem(problemText) { try Tensor.elementCount(of: geometry.kernel, parameter: "block_shape") }
        let blocks = try quotingProblem(problemText) { try Tensor.elementCount(of: geometry.outputSize, parameter: "image_shape") }
        try quotingProblem(problemText) {
            guard inputShape[1] % blockSize == 0 else {
                throw CNNKitError.shapeMismatch(
                    "input.shape", value: "\(inputShape)", expected: "input.shape[1] a multiple of Π(block_shape) = \(blockSize)")
            }
            guard inputShape[2] == blocks else {
                throw CNNKitError.shapeMismatch(
                    "input.shape", value: "\(inputShape)", expected: "input.shape[2] = number of blocks \(blocks) (\(geometry.outputSize))")
            }
            _ = try Tensor.elementCount(of: [inputShape[0], inputShape[1] / blockSize] + geometry.inputSize, parameter: "image_shape")
        }
        self.descriptor = descriptor
        self.batch = inputShape[0]
        self.channels = inputShape[1] / blockSize
        self.geometry = geometry
    }

    public var description: String {
        let g = geometry
        return "mb\(batch)ic\(channels)\(canonicalField("i", g.inputSize))_\(canonicalField("k", g.kernel))"
            + "_\(canonicalField("s", g.strides))_\(canonicalPads(g.padBegin, g.padEnd))_\(canonicalField("d", g.dilations))_col2im"
    }
}

/// The pads a non-constant border can fill from the input (as PyTorch's `padding_mode` and ONNX Pad require).
func requireBorderReach(_ border: BorderMode, _ g: WindowGeometry) throws {
    for axis in 0..<g.spatialRank {
        let n = g.inputSize[axis], pad = max(g.padBegin[axis], g.padEnd[axis])
        guard pad > 0 else { continue }
        let limit = border == .reflect ? n - 1 : border == .edge ? Int.max : n
        guard n >= 1, pad <= limit else {
            throw CNNKitError.invalidArgument(
                "pads", value: "\(g.padBegin + g.padEnd)",
                expected: "pads of at most \(max(0, limit)) on spatial axis \(axis) of extent \(n) for border \(border.rawValue)"
                    + (border == .reflect ? " (reflect: below the extent)" : ""))
        }
    }
}
