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
    /// Area (box) averaging at any scale, not in ONNX: output `x` covers the interval of width `1/s` centred at
    /// `x_in + 0.5` in pixel-edge units, and each input pixel weighs by the fraction of it that it overlaps
    /// (TensorFlow `ResizeArea`; OpenCV `INTER_AREA`, which drops slivers under 10⁻³ pixel when shrinking).
    /// Ignores `antialias` (it is already a low-pass filter) and `cubicCoefficientA`.
    case area
    /// Pillow `Image.BOX`: 1 on `(−0.5, 0.5]`, support 0.5, not in ONNX. With `antialias` widened by `1/s` when
    /// shrinking; weights always normalised to sum 1.
    case box
    /// Pillow `Image.HAMMING`: `sinc(t)·(0.54 + 0.46·cos(πt))` for `|t| < 1`, support 1, not in ONNX; weights
    /// always normalised.
    case hamming
    /// Lanczos-3 (Pillow `Image.LANCZOS`, TensorFlow `lanczos3`): `sinc(t)·sinc(t/3)` for `−3 ≤ t < 3`, support 3,
    /// not in ONNX; weights always normalised.
    case lanczos3
}

extension ResizeMode {
    /// Half-width of the filter at scale 1, in input pixels (area: 0.5, then `0.5/s` at scale `s`).
    package var support: Double {
        switch self {
        case .nearest, .area, .box: return 0.5
        case .linear, .hamming: return 1
        case .cubic: return 2
        case .lanczos3: return 3
        }
    }

    /// Whether this mode is one of ONNX Resize's (`nearest`, `linear`, `cubic`).
    public var isONNX: Bool { self == .nearest || self == .linear || self == .cubic }
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
    /// When downscaling with a filter mode, widen the filter by `1/scale` and normalise (ONNX `antialias`; with
    /// `excludeOutside` this is Pillow's and PyTorch `antialias=True`'s filter).
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

/// Descriptors that reproduce other libraries' resize functions on float32 data (the Resampling article lists the
/// measured differences and the tests that check them). `target` holds one scale or size per resized axis; the
/// resized axes are the trailing ones (`axes` = the last `target.count`, e.g. H and W of NCHW).
extension ResizeDescriptor {
    /// `cv2.resize` interpolation flags.
    public enum OpenCVInterpolation: String, Sendable, Hashable, CaseIterable {
        case nearest, nearestExact = "nearest-exact", linear, cubic, area
    }

    /// `PIL.Image.resize` filters (float images, mode "F").
    public enum PillowFilter: String, Sendable, Hashable, CaseIterable {
        case nearest, box, bilinear, hamming, bicubic, lanczos
    }

    /// `torch.nn.functional.interpolate` modes (`linear` also stands for `bilinear` and `trilinear`).
    public enum PyTorchMode: String, Sendable, Hashable, CaseIterable {
        case nearest, nearestExact = "nearest-exact", linear, bicubic
    }

    /// `tf.image.resize` methods.
    public enum TensorFlowMethod: String, Sendable, Hashable, CaseIterable {
        case bilinear, bicubic, nearest, area
    }

    /// `cv2.resize(src, dsize, interpolation=…)` with `target` = `.sizes` (OpenCV's `fx`/`fy` round the size
    /// instead of flooring it; give the sizes). Nearest is `floor(x·L_in/L_out)`; nearest-exact
    /// `floor((x + 0.5)·L_in/L_out)` (OpenCV rounds `L_in/L_out` to a double first, so where the exact product is a
    /// whole number it may take the pixel before); linear and cubic (a = −0.75) half-pixel with edge clamping; area
    /// exact box coverage (``ResizeMode/area``).
    public static func opencv(_ interpolation: OpenCVInterpolation, target: ResizeTarget) -> ResizeDescriptor {
        let axes = trailingAxes(target)
        switch interpolation {
        case .nearest:
            return ResizeDescriptor(target: target, mode: .nearest, coordinateTransformation: .asymmetric, nearestMode: .floor, axes: axes)
        case .nearestExact:
            return ResizeDescriptor(target: target, mode: .nearest, nearestMode: .roundPreferCeil, axes: axes)
        case .linear:
            return ResizeDescriptor(target: target, mode: .linear, axes: axes)
        case .cubic:
            return ResizeDescriptor(target: target, mode: .cubic, cubicCoefficientA: -0.75, axes: axes)
        case .area:
            return ResizeDescriptor(target: target, mode: .area, axes: axes)
        }
    }

    /// `image.resize(size, resample=…)` of Pillow on mode "F" images: half-pixel centres, the filter widened by
    /// `1/s` when shrinking, taps outside the image dropped and the rest normalised (`antialias` +
    /// `excludeOutside`); bicubic has a = −0.5. Nearest is `floor((x + 0.5)·L_in/L_out)`, as OpenCV's nearest-exact
    /// (with the same double-rounding caveat).
    public static func pillow(_ filter: PillowFilter, target: ResizeTarget) -> ResizeDescriptor {
        let axes = trailingAxes(target)
        let mode: ResizeMode
        switch filter {
        case .nearest:
            return ResizeDescriptor(target: target, mode: .nearest, nearestMode: .roundPreferCeil, axes: axes)
        case .box: mode = .box
        case .bilinear: mode = .linear
        case .hamming: mode = .hamming
        case .bicubic: mode = .cubic
        case .lanczos: mode = .lanczos3
        }
        return ResizeDescriptor(target: target, mode: mode, cubicCoefficientA: -0.5, excludeOutside: true, antialias: true, axes: axes)
    }

    /// `F.interpolate(x, size= / scale_factor=, mode=…, align_corners=…, antialias=…)` (`.sizes` = `size`,
    /// `.scales` = `scale_factor` without `recompute_scale_factor`). Nearest: `floor(x·L_in/L_out)`; nearest-exact:
    /// `floor((x + 0.5)·L_in/L_out)`; linear and bicubic (a = −0.75, edge clamping) half-pixel, or
    /// `alignCorners`; `antialias` (linear, bicubic) is Pillow's filter: widened when shrinking, taps outside
    /// dropped, normalised, bicubic a = −0.5.
    /// - Throws: ``CNNKitError`` naming `align_corners` for nearest modes or together with `antialias`, and
    ///   `antialias` for nearest modes (PyTorch refuses the first two; the third it would silently ignore).
    public static func pytorch(
        _ mode: PyTorchMode, target: ResizeTarget, alignCorners: Bool = false, antialias: Bool = false
    ) throws -> ResizeDescriptor {
        let axes = trailingAxes(target)
        let nearest = mode == .nearest || mode == .nearestExact
        if alignCorners && (nearest || antialias) {
            throw CNNKitError.invalidArgument(
                "align_corners", value: "true with mode \(mode.rawValue)\(antialias ? " and antialias" : "")",
                expected: "align_corners only with linear or bicubic and without antialias")
        }
        if antialias && nearest {
            throw CNNKitError.invalidArgument("antialias", value: "true with mode \(mode.rawValue)", expected: "antialias only with linear or bicubic")
        }
        let coordinates: CoordinateTransformation = alignCorners ? .alignCorners : .halfPixel
        switch mode {
        case .nearest:
            return ResizeDescriptor(target: target, mode: .nearest, coordinateTransformation: .asymmetric, nearestMode: .floor, axes: axes)
        case .nearestExact:
            return ResizeDescriptor(target: target, mode: .nearest, nearestMode: .roundPreferCeil, axes: axes)
        case .linear:
            return ResizeDescriptor(target: target, mode: .linear, coordinateTransformation: coordinates,
                                    excludeOutside: antialias, antialias: antialias, axes: axes)
        case .bicubic:
            return ResizeDescriptor(target: target, mode: .cubic, coordinateTransformation: coordinates,
                                    cubicCoefficientA: antialias ? -0.5 : -0.75, excludeOutside: antialias, antialias: antialias, axes: axes)
        }
    }

    /// `tf.image.resize(images, size, method=…, antialias=…)` (TensorFlow 2). Bilinear: half-pixel, edge clamping;
    /// bicubic: Keys a = −0.5, taps outside dropped and normalised (TensorFlow quantises the fraction to 1/1024;
    /// CNNKit does not); nearest: `floor((x + 0.5)·L_in/L_out)`; area: exact box coverage. `antialias` (bilinear,
    /// bicubic) widens the filter when shrinking as Pillow does; nearest and area ignore it, as TensorFlow does.
    public static func tensorflow(_ method: TensorFlowMethod, target: ResizeTarget, antialias: Bool = false) -> ResizeDescriptor {
        let axes = trailingAxes(target)
        switch method {
        case .bilinear:
            return ResizeDescriptor(target: target, mode: .linear, excludeOutside: antialias, antialias: antialias, axes: axes)
        case .bicubic:
            return ResizeDescriptor(target: target, mode: .cubic, cubicCoefficientA: -0.5, excludeOutside: true, antialias: antialias, axes: axes)
        case .nearest:
            return ResizeDescriptor(target: target, mode: .nearest, nearestMode: .roundPreferCeil, axes: axes)
        case .area:
            return ResizeDescriptor(target: target, mode: .area, axes: axes)
        }
    }

    private static func trailingAxes(_ target: ResizeTarget) -> [Int] {
        let count: Int
        switch target {
        case .scales(let values): count = values.count
        case .sizes(let values): count = values.count
        }
        return Array(-count..<0)
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
    /// Nearest: one tap, ``NearestMode/round(_:)`` of the source coordinate. Area: every `i` whose pixel `[i, i+1)`
    /// overlaps `[x_in + 0.5 − 0.5/s, x_in + 0.5 + 0.5/s)`, weighted by the overlap times `s`. Filter modes (linear,
    /// cubic with ``ResizeDescriptor/cubicCoefficientA``, box, hamming, lanczos3): the filter evaluated at
    /// `(i − x)·s'`, `s' = scale` when antialiasing a downscale and 1 otherwise, over every `i` it reaches. Zero
    /// weights are dropped; `excludeOutside` drops taps outside `[0, L)` (if that leaves none, the one tap is the
    /// input element nearest `x_in`); antialias, `excludeOutside`, area and the non-ONNX filters renormalise the
    /// weights to sum 1; indices are then clamped to the edge.
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
        let filterScale = self.filterScale(axis: axis)
        let radius = d.mode.support / filterScale
        // Far outside the input every tap clamps to an edge: keep the loop bounds representable.
        let far = Double(length) + radius + 2
        var taps: [(index: Int, weight: Double)] = []
        if d.mode == .area {
            // Pixel i covers [i, i + 1); the output pixel covers [lo, hi) (half_pixel: [x/s, (x + 1)/s)).
            let lo = max(-far, coordinate + 0.5 - radius), hi = min(far, coordinate + 0.5 + radius)
            let first = Int(lo.rounded(.down)), last = Int(hi.rounded(.up)) - 1
            if first <= last {
                for i in first...last {
                    let overlap = min(hi, Double(i + 1)) - max(lo, Double(i))
                    guard overlap > 0 else { continue }
                    if d.excludeOutside && (i < 0 || i >= length) { continue }
                    taps.append((i, overlap))
                }
            }
        } else {
            let first = Int(max(-far, (coordinate - radius).rounded(.down)))
            let last = Int(min(far, (coordinate + radius).rounded(.up)))
            if first <= last {
                for i in first...last {
                    let weight = filterWeight((Double(i) - coordinate) * filterScale)
                    guard weight != 0 else { continue }
                    if d.excludeOutside && (i < 0 || i >= length) { continue }
                    taps.append((i, weight))
                }
            }
        }
        // `excludeOutside` can leave none (box or area reaching only past the edge, e.g. asymmetric ×2): the
        // nearest input element then stands in, as clamping would give.
        if taps.isEmpty { return [(clamp(Int(max(-far, min(far, coordinate)).rounded())), 1)] }
        if d.antialias || d.excludeOutside || !d.mode.isONNX {
            let total = taps.reduce(0) { $0 + $1.weight }
            if total != 0 { taps = taps.map { ($0.index, $0.weight / total) } }
        }
        return taps.map { (clamp($0.index), $0.weight) }
    }

    /// `σ` of the filter on `axis`: the scale when shrinking with antialias, else 1; area: always the scale (its
    /// box is `1/s` wide when enlarging too).
    package func filterScale(axis: Int) -> Double {
        if descriptor.mode == .area { return scales[axis] }
        return descriptor.antialias ? min(scales[axis], 1) : 1
    }

    /// The filter of a filter mode at offset `u` (in units of the filter, after `σ`). Pillow's definitions for
    /// box (half-open), hamming (its float32 constants 0.54f, 0.46f) and Lanczos-3.
    private func filterWeight(_ u: Double) -> Double {
        let t = abs(u)
        switch descriptor.mode {
        case .linear:
            return max(0, 1 - t)
        case .cubic:
            let a = Double(descriptor.cubicCoefficientA)
            if t <= 1 { return ((a + 2) * t - (a + 3)) * t * t + 1 }
            if t < 2 { return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a }
            return 0
        case .box:
            return u > -0.5 && u <= 0.5 ? 1 : 0
        case .hamming:
            if t == 0 { return 1 }
            if t >= 1 { return 0 }
            let p = t * Double.pi
            return sin(p) / p * (Double(Float(0.54)) + Double(Float(0.46)) * cos(p))
        case .lanczos3:
            guard u >= -3 && u < 3 else { return 0 }
            // Exactly 0 at the other integers (sin(kπ) is 1e-16, not 0): an axis at scale 1 stays one tap per output.
            func sinc(_ v: Double) -> Double { v == 0 ? 1 : v == v.rounded() ? 0 : sin(v * Double.pi) / (v * Double.pi) }
            return sinc(u) * sinc(u / 3)
        case .nearest, .area:
            return 0
        }
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
/// output shape — the default one, or `outputShape` when given (onnxruntime's and PyTorch's reading, so that the
/// indices of a MaxPool of an odd-sized input unpool back into that size; see the DocC article for the ONNX
/// reference evaluator's other reading). Positions no index names are 0; when two inputs name one position the
/// later one in C order wins.
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
    /// The shape in which indices are read: ``outputShape`` (the default unpooled shape when none is requested).
    public let indexSpaceShape: [Int]
    public let outputShape: [Int]
    /// Stride per spatial axis, defaults resolved.
    public let strides: [Int]

    /// - Throws: ``CNNKitError`` when the input is not rank 3–5, the kernel/stride/pad lists are invalid, the
    ///   default output length is negative, or `output_shape` has the wrong length or N, C.
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
            // Any extents: the indices, checked at run time, must lie in the requested shape.
            _ = try Tensor.elementCount(of: requested, parameter: "output_shape")
            return (requested, requested)
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
