import Foundation

/// Interpolation of ONNX Resize-19 (`mode`).
public enum ResizeMode: String, Sendable, Hashable, CaseIterable {
    /// Nearest neighbour, rounding as ``NearestMode`` says; with `asymmetric` and `floor` it is PyTorch `nearest` and
    /// OpenCV `INTER_NEAREST`.
    case nearest
    /// Linear per resized axis: bilinear in 2-D, trilinear in 3-D (PyTorch `bilinear`, OpenCV `INTER_LINEAR`).
    case linear
    /// Cubic convolution (Keys) with coefficient `a` (PyTorch `bicubic` uses a = −0.75, OpenCV `INTER_CUBIC` too).
    case cubic
}

/// How an output coordinate maps to an input coordinate (ONNX `coordinate_transformation_mode`).
///
/// With output index `x`, scale `s`, input length `L_in`, output length `L_out`:
/// - `halfPixel`: `(x + 0.5)/s − 0.5` (PyTorch `align_corners=False`, OpenCV `resize`).
/// - `halfPixelSymmetric`: as `halfPixel` plus a shift `(L_in/2)·(1 − L_out/(s·L_in))` that keeps the image centred.
/// - `pytorchHalfPixel`: `halfPixel`, but 0 when `L_out = 1` (the mode PyTorch's ONNX exporter emits for
///   `align_corners=False`; they differ only at `L_out = 1`).
/// - `alignCorners`: `x·(L_in − 1)/(L_out − 1)`, 0 when `L_out = 1` (PyTorch `align_corners=True`).
/// - `asymmetric`: `x/s` (TensorFlow 1 `resize_*` default, PyTorch `nearest`).
/// - `tfCropAndResize`: `start·(L_in−1) + x·(end − start)·(L_in−1)/(L_out−1)` with `roi`; outside the input the
///   output is `extrapolationValue`; `0.5·(start + end)·(L_in − 1)` when `L_out = 1` (TensorFlow `crop_and_resize`).
public enum CoordinateTransformation: String, Sendable, Hashable, CaseIterable {
    case halfPixel = "half_pixel"
    case halfPixelSymmetric = "half_pixel_symmetric"
    case pytorchHalfPixel = "pytorch_half_pixel"
    case alignCorners = "align_corners"
    case asymmetric = "asymmetric"
    case tfCropAndResize = "tf_crop_and_resize"
}

/// Rounding of the source coordinate in nearest mode (ONNX `nearest_mode`); the index is then clamped to the input.
public enum NearestMode: String, Sendable, Hashable, CaseIterable {
    /// The rounded coordinate (not yet clamped to the input); the one definition every backend uses.
    public func round(_ coordinate: Double) -> Double {
        let below = coordinate.rounded(.down), fraction = coordinate - below
        switch self {
        case .roundPreferFloor: return fraction <= 0.5 ? below : below + 1
        case .roundPreferCeil: return fraction < 0.5 ? below : below + 1
        case .floor: return below
        case .ceil: return coordinate.rounded(.up)
        }
    }

    /// Round half down: 2.5 → 2 (the ONNX default).
    case roundPreferFloor = "round_prefer_floor"
    /// Round half up: 2.5 → 3.
    case roundPreferCeil = "round_prefer_ceil"
    /// `floor` (PyTorch `nearest`, with `asymmetric`).
    case floor
    /// `ceil`.
    case ceil
}

/// How `sizes` are honoured (ONNX `keep_aspect_ratio_policy`).
public enum KeepAspectRatioPolicy: String, Sendable, Hashable, CaseIterable {
    /// Each axis gets its requested size.
    case stretch
    /// One common scale, the largest that fits inside the requested sizes.
    case notLarger = "not_larger"
    /// One common scale, the smallest that covers the requested sizes.
    case notSmaller = "not_smaller"
}

/// Output size request of a resize.
public enum ResizeTarget: Sendable, Hashable {
    /// One scale factor per resized axis: output length `floor(L·scale)` with the float32 scale, and the coordinate
    /// mapping uses that scale.
    case scales([Float])
    /// One output length per resized axis; the scale is `size/L`.
    case sizes([Int])
}

/// Attributes and size request of a resize (ONNX Resize-19; Upsample-9 maps onto it).
///
/// Shapes: any rank ≥ 1 (NCHW typically, with scale 1 on N and C); the output keeps the rank.
public struct ResizeDescriptor: Sendable, Hashable {
    public var target: ResizeTarget
    public var mode: ResizeMode
    public var coordinateTransformation: CoordinateTransformation
    public var nearestMode: NearestMode
    /// Keys coefficient `a` of cubic mode (−0.75 default; −0.5 is TensorFlow's).
    public var cubicCoefficientA: Float
    /// Cubic/linear taps outside the input get weight 0 and the rest are renormalised (instead of edge clamping).
    public var excludeOutside: Bool
    /// When downscaling with linear or cubic, widen the filter by `1/scale` and normalise (PIL / PyTorch `antialias=True`).
    public var antialias: Bool
    /// Output value outside the input for `tfCropAndResize`.
    public var extrapolationValue: Float
    public var keepAspectRatioPolicy: KeepAspectRatioPolicy
    /// Axes that `target` (and `roi`) refer to; `[]` = every axis. Negative values count from the end.
    public var axes: [Int]
    /// `[start per axis…, end per axis…]` in normalised coordinates, used by `tfCropAndResize`; `[]` = whole input.
    public var roi: [Float]

    public init(
        target: ResizeTarget, mode: ResizeMode = .nearest,
        coordinateTransformation: CoordinateTransformation = .halfPixel, nearestMode: NearestMode = .roundPreferFloor,
        cubicCoefficientA: Float = -0.75, excludeOutside: Bool = false, antialias: Bool = false,
        extrapolationValue: Float = 0, keepAspectRatioPolicy: KeepAspectRatioPolicy = .stretch, axes: [Int] = [],
        roi: [Float] = []
    ) {
        self.target = target
        self.mode = mode
        self.coordinateTransformation = coordinateTransformation
        self.nearestMode = nearestMode
        self.cubicCoefficientA = cubicCoefficientA
        self.excludeOutside = excludeOutside
        self.antialias = antialias
        self.extrapolationValue = extrapolationValue
        self.keepAspectRatioPolicy = keepAspectRatioPolicy
        self.axes = axes
        self.roi = roi
    }
}

extension ResizeDescriptor {
    /// ONNX Upsample-7/9 (deprecated, replaced by Resize-10): one scale per axis, `asymmetric` coordinates and,
    /// for `nearest`, `floor` rounding (`linear` interpolates with the same mapping).
    public static func upsample(scales: [Float], mode: ResizeMode) -> ResizeDescriptor {
        ResizeDescriptor(target: .scales(scales), mode: mode, coordinateTransformation: .asymmetric, nearestMode: .floor)
    }
}

/// A validated resize: every axis has its scale, roi and output length.
public struct ResizeProblem: Sendable, Hashable, CustomStringConvertible {
    public let descriptor: ResizeDescriptor
    public let inputShape: [Int]
    public let outputShape: [Int]
    /// Scale per axis (1 on axes not resized), as used by the coordinate mapping.
    public let scales: [Double]
    /// Region of interest start per axis (0 on axes not listed).
    public let roiStart: [Double]
    /// Region of interest end per axis (1 on axes not listed).
    public let roiEnd: [Double]

    /// - Throws: ``CNNKitError`` naming the parameter: rank 0, axes out of range or repeated, scales/sizes/roi
    ///   of the wrong length, a scale ≤ 0 or not finite, a negative size, a non-zero length from a zero-length
    ///   axis, a non-finite or ≤ 0 result of `keep_aspect_ratio_policy`, an output size that overflows.
    public init(descriptor: ResizeDescriptor, inputShape: [Int]) throws {
        let d = descriptor
        let problemText = "resize\(inputShape)_\(d.mode.rawValue)_\(d.coordinateTransformation.rawValue)"
        let rank = inputShape.count
        var scales = [Double](repeating: 1, count: rank)
        var output = inputShape
        var roiStart = [Double](repeating: 0, count: rank)
        var roiEnd = [Double](repeating: 1, count: rank)
        try quotingProblem(problemText) {
            guard rank >= 1 else {
                throw CNNKitError.shapeMismatch("input.shape", value: "\(inputShape)", expected: "rank >= 1")
            }
            _ = try Tensor.elementCount(of: inputShape, parameter: "input.shape")
            guard d.cubicCoefficientA.isFinite else {
                throw CNNKitError.invalidArgument("cubic_coeff_a", value: "\(d.cubicCoefficientA)", expected: "a finite value (−0.75 or −0.5 usually)")
            }
            var axes: [Int] = []
            for axis in d.axes.isEmpty ? Array(0..<rank) : d.axes {
                let resolved = axis < 0 ? axis + rank : axis
                guard (0..<rank).contains(resolved), !axes.contains(resolved) else {
                    throw CNNKitError.invalidArgument("axes", value: "\(d.axes)", expected: "distinct axes in -\(rank)…\(rank - 1)")
                }
                axes.append(resolved)
            }
            if !d.roi.isEmpty {
                guard d.roi.count == 2 * axes.count, d.roi.allSatisfy(\.isFinite) else {
                    throw CNNKitError.invalidArgument("roi", value: "\(d.roi)", expected: "\(2 * axes.count) finite values [starts…, ends…]")
                }
                for (i, axis) in axes.enumerated() {
                    roiStart[axis] = Double(d.roi[i])
                    roiEnd[axis] = Double(d.roi[axes.count + i])
                }
            }
            switch d.target {
            case .scales(let values):
                guard values.count == axes.count else {
                    throw CNNKitError.invalidArgument("scales", value: "\(values)", expected: "\(axes.count) values, one per resized axis")
                }
                guard values.allSatisfy({ $0.isFinite && $0 > 0 }) else {
                    throw CNNKitError.invalidArgument("scales", value: "\(values)", expected: "every scale finite and > 0")
                }
                for (axis, scale) in zip(axes, values) {
                    scales[axis] = Double(scale)
                    output[axis] = try Self.length(Double(inputShape[axis]) * Double(scale), rounding: .down, axis: axis)
                }
            case .sizes(let values):
                guard values.count == axes.count else {
                    throw CNNKitError.invalidArgument("sizes", value: "\(values)", expected: "\(axes.count) values, one per resized axis")
                }
                guard values.allSatisfy({ $0 >= 0 }) else {
                    throw CNNKitError.invalidArgument("sizes", value: "\(values)", expected: "every size >= 0")
                }
                let ratios = zip(axes, values).map { axis, size in
                    inputShape[axis] == 0 ? 1 : Double(size) / Double(inputShape[axis])
                }
                switch d.keepAspectRatioPolicy {
                case .stretch:
                    for (axis, (size, ratio)) in zip(axes, zip(values, ratios)) {
                        scales[axis] = ratio
                        output[axis] = size
                    }
                case .notLarger, .notSmaller:
                    let common = d.keepAspectRatioPolicy == .notLarger ? ratios.min() ?? 1 : ratios.max() ?? 1
                    guard common > 0 else {
                        throw CNNKitError.invalidArgument(
                            "sizes", value: "\(values)", expected: "sizes giving a positive common scale for keep_aspect_ratio_policy \(d.keepAspectRatioPolicy.rawValue)")
                    }
                    for axis in axes {
                        scales[axis] = common
                        output[axis] = try Self.length(Double(inputShape[axis]) * common, rounding: .toNearestOrAwayFromZero, axis: axis)
                    }
                }
            }
            for axis in axes where inputShape[axis] == 0 && output[axis] != 0 {
                throw CNNKitError.shapeMismatch(
                    "input.shape", value: "\(inputShape) (axis \(axis) has length 0)",
                    expected: "output length 0 on a zero-length axis, not \(output[axis])")
            }
            _ = try Tensor.elementCount(of: output, parameter: "output.shape")
        }
        self.descriptor = descriptor
        self.inputShape = inputShape
        self.outputShape = output
        self.scales = scales
        self.roiStart = roiStart
        self.roiEnd = roiEnd
    }

    /// The input taps `(index, weight)` that output index `x` of `axis` reads, or `nil` where
    /// `tf_crop_and_resize` maps it outside the input (it then takes ``ResizeDescriptor/extrapolationValue``); the
    /// one definition of the filters that every backend uses.
    ///
    /// Nearest: one tap, ``NearestMode/round(_:)`` of the source coordinate. Linear (triangle) and cubic (Keys,
    /// ``ResizeDescriptor/cubicCoefficientA``): the filter evaluated at `(i − x)·s'`, `s' = scale` when antialiasing
    /// a downscale and 1 otherwise, over every `i` it reaches; zero weights dropped; `excludeOutside` drops taps
    /// outside `[0, L)`; antialias and `excludeOutside` renormalise the weights to sum 1; indices clamped to the edge.
    public func taps(axis: Int, outputIndex x: Int) -> [(index: Int, weight: Double)]? {
        let d = descriptor
        let length = inputShape[axis]
        let coordinate = sourceCoordinate(axis: axis, outputIndex: x)
        if d.coordinateTransformation == .tfCropAndResize && (coordinate < 0 || coordinate > Double(length - 1)) {
            return nil
        }
        let clamp = { (i: Int) in min(max(i, 0), length - 1) }
        if d.mode == .nearest {
            return [(clamp(Int(d.nearestMode.round(coordinate))), 1)]
        }
        let support = d.mode == .linear ? 1.0 : 2.0
        let filterScale = d.antialias ? min(scales[axis], 1) : 1
        let radius = support / filterScale
        // Far outside the input every tap clamps to an edge: keep the loop bounds representable.
        let far = Double(length) + radius + 2
        let first = Int(max(-far, (coordinate - radius).rounded(.down)))
        let last = Int(min(far, (coordinate + radius).rounded(.up)))
        var taps: [(index: Int, weight: Double)] = []
        if first <= last {
            for i in first...last {
                let weight = filterWeight((Double(i) - coordinate) * filterScale)
                guard weight != 0 else { continue }
                if d.excludeOutside && (i < 0 || i >= length) { continue }
                taps.append((i, weight))
            }
        }
        if d.antialias || d.excludeOutside {
            let total = taps.reduce(0) { $0 + $1.weight }
            if total != 0 { taps = taps.map { ($0.index, $0.weight / total) } }
        }
        return taps.map { (clamp($0.index), $0.weight) }
    }

    /// Triangle filter (linear) or Keys cubic convolution kernel with coefficient `a`.
    private func filterWeight(_ u: Double) -> Double {
        let t = abs(u)
        if descriptor.mode == .linear { return max(0, 1 - t) }
        let a = Double(descriptor.cubicCoefficientA)
        if t <= 1 { return ((a + 2) * t - (a + 3)) * t * t + 1 }
        if t < 2 { return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a }
        return 0
    }

    /// The input coordinate that output index `x` of `axis` maps to (``CoordinateTransformation``); the one
    /// definition every backend uses.
    public func sourceCoordinate(axis: Int, outputIndex x: Int) -> Double {
        let inLength = Double(inputShape[axis]), outLength = Double(outputShape[axis])
        let scale = scales[axis], x = Double(x)
        switch descriptor.coordinateTransformation {
        case .halfPixel:
            return (x + 0.5) / scale - 0.5
        case .halfPixelSymmetric:
            let adjustment = outLength / (scale * inLength)
            return inLength / 2 * (1 - adjustment) + (x + 0.5) / scale - 0.5
        case .pytorchHalfPixel:
            return outLength > 1 ? (x + 0.5) / scale - 0.5 : 0
        case .alignCorners:
            return outLength > 1 ? x * (inLength - 1) / (outLength - 1) : 0
        case .asymmetric:
            return x / scale
        case .tfCropAndResize:
            let start = roiStart[axis], end = roiEnd[axis]
            return outLength > 1
                ? start * (inLength - 1) + x * (end - start) * (inLength - 1) / (outLength - 1)
                : 0.5 * (start + end) * (inLength - 1)
        }
    }

    private static func length(_ value: Double, rounding: FloatingPointRoundingRule, axis: Int) throws -> Int {
        let rounded = value.rounded(rounding)
        guard rounded.isFinite, rounded < Double(1 << 52) else {
            throw CNNKitError.invalidArgument(
                "scales", value: "output length \(value) on axis \(axis)", expected: "an output length that fits in Int", kind: .overflow)
        }
        return Int(rounded)
    }

    /// Canonical problem string, e.g. `resize_1x3x224x224_to_1x3x448x448_linear_half_pixel_aa`.
    public var description: String {
        let d = descriptor
        var text = "resize_\(inputShape.map(String.init).joined(separator: "x"))_to_\(outputShape.map(String.init).joined(separator: "x"))"
        text += "_\(d.mode.rawValue)_\(d.coordinateTransformation.rawValue)"
        if d.mode == .nearest { text += "_\(d.nearestMode.rawValue)" }
        if d.mode == .cubic { text += "_a\(d.cubicCoefficientA)" }
        if d.excludeOutside { text += "_exclude" }
        if d.antialias { text += "_aa" }
        return text
    }
}

/// Channel order of pixel shuffle (ONNX DepthToSpace-13 / SpaceToDepth-28 `mode`).
public enum PixelShuffleMode: String, Sendable, Hashable, CaseIterable {
    /// depth-column-row: input channel `(by·b + bx)·C_out + c` (ONNX default, TensorFlow `depth_to_space`).
    case dcr = "DCR"
    /// column-row-depth: input channel `c·b² + by·b + bx` (PyTorch `pixel_shuffle`).
    case crd = "CRD"
}

/// DepthToSpace (`[N, C·b², H, W]` → `[N, C, H·b, W·b]`) or SpaceToDepth (the inverse), ONNX DepthToSpace-13 /
/// SpaceToDepth-13 (DCR order) and -28 (`mode`).
public struct PixelShuffleDescriptor: Sendable, Hashable {
    public enum Direction: String, Sendable, Hashable { case depthToSpace, spaceToDepth }
    public var direction: Direction
    /// Block size b ≥ 1.
    public var blockSize: Int
    public var mode: PixelShuffleMode

    public init(_ direction: Direction, blockSize: Int, mode: PixelShuffleMode = .dcr) {
        self.direction = direction
        self.blockSize = blockSize
        self.mode = mode
    }
}

/// A validated DepthToSpace / SpaceToDepth.
public struct PixelShuffleProblem: Sendable, Hashable, CustomStringConvertible {
    public let descriptor: PixelShuffleDescriptor
    public let inputShape: [Int]
    public let outputShape: [Int]

    /// - Throws: ``CNNKitError`` when the input is not rank 4, `blocksize` < 1, C is not a multiple of b²
    ///   (DepthToSpace), or H or W is not a multiple of b (SpaceToDepth).
    public init(descriptor: PixelShuffleDescriptor, inputShape: [Int]) throws {
        let b = descriptor.blockSize
        let problemText = "\(descriptor.direction.rawValue)\(inputShape)_b\(b)_\(descriptor.mode.rawValue)"
        self.outputShape = try quotingProblem(problemText) {
            try requireFeatureMap(inputShape, "input.shape", ranks: 4...4)
            guard b >= 1, b <= 1 << 20 else {
                throw CNNKitError.invalidArgument("blocksize", value: "\(b)", expected: "1 <= blocksize <= \(1 << 20)")
            }
            let (n, c, h, w) = (inputShape[0], inputShape[1], inputShape[2], inputShape[3])
            let shape: [Int]
            switch descriptor.direction {
            case .depthToSpace:
                guard c % (b * b) == 0 else {
                    throw CNNKitError.shapeMismatch("input.shape", value: "\(inputShape)", expected: "channels a multiple of blocksize² = \(b * b)")
                }
                let (height, o1) = h.multipliedReportingOverflow(by: b)
                let (width, o2) = w.multipliedReportingOverflow(by: b)
                guard !o1, !o2 else {
                    throw CNNKitError.invalidArgument("blocksize", value: "\(b)", expected: "H·b and W·b that fit in Int", kind: .overflow)
                }
                shape = [n, c / (b * b), height, width]
            case .spaceToDepth:
                guard h % b == 0, w % b == 0 else {
                    throw CNNKitError.shapeMismatch("input.shape", value: "\(inputShape)", expected: "H and W multiples of blocksize \(b)")
                }
                // C may be near Int.max in an empty tensor (H or W = 0): C·b² must still fit.
                let depth = try multiplied(c, b * b, "blocksize", "\(b) with C = \(c) (C·blocksize²)")
                shape = [n, depth, h / b, w / b]
            }
            _ = try Tensor.elementCount(of: shape, parameter: "output.shape")
            return shape
        }
        self.descriptor = descriptor
        self.inputShape = inputShape
    }

    public var description: String {
        "\(descriptor.direction.rawValue)_\(inputShape.map(String.init).joined(separator: "x"))_b\(descriptor.blockSize)_\(descriptor.mode.rawValue)"
    }
}

/// Attributes of MaxUnpool (ONNX MaxUnpool-22): scatters pooled values back to the positions their indices name.
///
/// Shapes: input X and indices I `[N, C, spatial…]`, output `[N, C, out…]` with default
/// `out = (L − 1)·stride + kernel − pad_begin − pad_end`, or `outputShape`. Indices are flat positions in the
/// default output shape (as MaxPool reports them: `((n·C + c)·H + h)·W + w`). With a larger `outputShape` each value
/// is placed at the same (n, c, h, w) in the requested shape — the ONNX reference reading (see the DocC article
/// for onnxruntime's). Positions no index names are 0; when two inputs name one position the later one in C order wins.
public struct MaxUnpoolDescriptor: Sendable, Hashable {
    public var kernelShape: [Int]
    /// `[]` = all 1.
    public var strides: [Int]
    /// `[begin…, end…]`, `[]` = 0.
    public var pads: [Int]
    /// Requested output shape: `[]`, the spatial extents, or the full `[N, C, spatial…]`.
    public var outputShape: [Int]

    public init(kernelShape: [Int], strides: [Int] = [], pads: [Int] = [], outputShape: [Int] = []) {
        self.kernelShape = kernelShape
        self.strides = strides
        self.pads = pads
        self.outputShape = outputShape
    }
}

/// A validated MaxUnpool.
public struct MaxUnpoolProblem: Sendable, Hashable, CustomStringConvertible {
    public let descriptor: MaxUnpoolDescriptor
    public let inputShape: [Int]
    /// The default unpooled shape, in which indices are read.
    public let indexSpaceShape: [Int]
    public let outputShape: [Int]
    /// Stride per spatial axis, defaults resolved.
    public let strides: [Int]

    /// - Throws: ``CNNKitError`` when the input is not rank 3–5, the kernel/stride/pad lists are invalid, the
    ///   default output length is negative, or `output_shape` has the wrong length or is smaller than the default.
    public init(descriptor: MaxUnpoolDescriptor, inputShape: [Int]) throws {
        let problemText = provisionalWindowProblem(
            inputShape: inputShape, outputChannels: nil, kernel: descriptor.kernelShape, strides: descriptor.strides,
            pads: descriptor.pads, dilations: [], suffix: "_unpool")
        var resolvedStrides: [Int] = []
        let (space, output) = try quotingProblem(problemText) { () -> ([Int], [Int]) in
            try requireFeatureMap(inputShape, "input.shape")
            let rank = inputShape.count - 2
            let kernel = try WindowGeometry.spatialList(descriptor.kernelShape, "kernel_shape", rank: rank, default: nil, minimum: 1)
            let strides = try WindowGeometry.spatialList(descriptor.strides, "strides", rank: rank, default: 1, minimum: 1)
            resolvedStrides = strides
            let pads = try WindowGeometry.padList(descriptor.pads, rank: rank)
            guard kernel.allSatisfy({ $0 <= maximumPad }), strides.allSatisfy({ $0 <= maximumPad }) else {
                throw CNNKitError.invalidArgument("kernel_shape", value: "\(kernel), strides \(strides)", expected: "values <= \(maximumPad)", kind: .overflow)
            }
            var space = Array(inputShape[0..<2])
            for axis in 0..<rank {
                let length = inputShape[2 + axis]
                // The length of an empty tensor's axis may be near Int.max: (L − 1)·s + k is checked.
                let reach = length == 0 ? 0 : try added(
                    try multiplied(length - 1, strides[axis], "strides", "\(strides) with input length \(length) on axis \(axis)"),
                    kernel[axis], "kernel_shape", "\(kernel) with input length \(length) on axis \(axis)")
                let extent = length == 0 ? 0 : reach - pads[axis] - pads[rank + axis]
                guard extent >= 0 else {
                    throw CNNKitError.invalidArgument("pads", value: "\(pads)", expected: "default output length >= 0 on axis \(axis) (got \(extent))")
                }
                space.append(extent)
            }
            _ = try Tensor.elementCount(of: space, parameter: "output.shape")
            var requested = descriptor.outputShape
            if requested.isEmpty { return (space, space) }
            if requested.count == rank { requested = Array(inputShape[0..<2]) + requested }
            guard requested.count == rank + 2, Array(requested[0..<2]) == Array(inputShape[0..<2]) else {
                throw CNNKitError.invalidArgument(
                    "output_shape", value: "\(descriptor.outputShape)", expected: "\(rank) spatial extents or [N, C, …] = \(Array(inputShape[0..<2])) + spatial")
            }
            guard zip(requested, space).allSatisfy({ $0 >= $1 }) else {
                throw CNNKitError.invalidArgument(
                    "output_shape", value: "\(descriptor.outputShape)", expected: "at least the default unpooled shape \(space)")
            }
            _ = try Tensor.elementCount(of: requested, parameter: "output_shape")
            return (space, requested)
        }
        self.descriptor = descriptor
        self.inputShape = inputShape
        self.indexSpaceShape = space
        self.outputShape = output
        self.strides = resolvedStrides
    }

    public var description: String {
        "maxunpool_\(inputShape.map(String.init).joined(separator: "x"))_to_\(outputShape.map(String.init).joined(separator: "x"))"
            + "_\(canonicalField("k", descriptor.kernelShape))_\(canonicalField("s", strides))"
    }
}
