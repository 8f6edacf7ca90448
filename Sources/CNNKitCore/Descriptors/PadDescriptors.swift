/// How values beyond the edge of an axis are defined: ONNX Pad-19 `mode` (plus `symmetric`, which ONNX lacks), the
/// padding of a convolution's border (PyTorch `padding_mode`), OpenCV `BorderTypes`.
///
/// For an axis `a b c d` (extent n) padded by 3 on each side:
///
/// | case | values | ONNX Pad | PyTorch | OpenCV | NumPy `pad` |
/// | --- | --- | --- | --- | --- | --- |
/// | ``constant`` | `v v v a b c d v v v` | `constant` | `zeros` (v = 0) | `BORDER_CONSTANT` | `constant` |
/// | ``reflect`` | `d c b a b c d c b a` | `reflect` | `reflect` | `BORDER_REFLECT_101` (default) | `reflect` |
/// | ``symmetric`` | `c b a a b c d d c b` | — | — | `BORDER_REFLECT` | `symmetric` |
/// | ``edge`` | `a a a a b c d d d d` | `edge` | `replicate` | `BORDER_REPLICATE` | `edge` |
/// | ``wrap`` | `b c d a b c d a b c` | `wrap` | `circular` | `BORDER_WRAP` | `wrap` |
///
/// Positions further out continue the same pattern (``sourceIndex(_:extent:)`` is periodic), as NumPy does;
/// ``PadProblem`` applies ONNX's and PyTorch's limit for `reflect` (each pad at most n − 1).
public enum BorderMode: String, Sendable, Hashable, CaseIterable {
    /// A constant value outside (0 for a convolution's border).
    case constant
    /// Mirrored about the edge element, which is not repeated.
    case reflect
    /// Mirrored about the edge itself: the edge element is repeated.
    case symmetric
    /// The edge element repeated.
    case edge
    /// Periodic: the axis repeats.
    case wrap

    /// The position of the axis (extent `n` ≥ 1) whose value position `i` (any integer) takes, or nil for
    /// ``constant`` when `i` lies outside `[0, n)`. The one definition the reference backend uses and the C
    /// kernels' `ck_border_index` mirrors.
    @inline(__always)
    public func sourceIndex(_ i: Int, extent n: Int) -> Int? {
        if i >= 0 && i < n { return i }
        switch self {
        case .constant: return nil
        case .edge: return i < 0 ? 0 : n - 1
        case .wrap: return ((i % n) + n) % n
        case .reflect:
            if n == 1 { return 0 }
            let period = 2 * (n - 1), r = ((i % period) + period) % period
            return r < n ? r : period - r
        case .symmetric:
            let period = 2 * n, r = ((i % period) + period) % period
            return r < n ? r : period - 1 - r
        }
    }
}

/// Attributes of Pad (ONNX Pad-19): each padded axis grows by `begin + end` positions whose values ``mode`` defines;
/// a negative pad removes that many positions (crops).
///
/// Shapes: any rank; input `[d₀, d₁, …]`, output `[d₀ + b₀ + e₀, …]`. `pads` lists all begins, then all ends, one pair
/// per axis of `axes` (ONNX's `pads` input), or of every axis when `axes` is nil. Negative axes count from the end.
public struct PadDescriptor: Sendable, Hashable {
    public var mode: BorderMode
    /// `[begin…, end…]`, one pair per axis of ``axes`` (or of every axis).
    public var pads: [Int]
    /// The value outside the input for ``BorderMode/constant`` (ONNX `constant_value`, default 0).
    public var constantValue: Float
    /// The axes `pads` refers to (ONNX `axes`, Pad-18+), or nil for all axes in order.
    public var axes: [Int]?

    public init(mode: BorderMode = .constant, pads: [Int], constantValue: Float = 0, axes: [Int]? = nil) {
        self.mode = mode
        self.pads = pads
        self.constantValue = constantValue
        self.axes = axes
    }
}

/// A validated Pad: per axis the kept input range (after cropping by negative pads) and the positive begin pad.
///
/// Semantics (as onnxruntime): negative pads crop first, then positive pads extend the cropped axis — output
/// position `o` reads input position `start + m(o − begin)`, where `m` is ``BorderMode/sourceIndex(_:extent:)``
/// over the cropped extent (so a reflection or wrap never reaches cropped-away positions).
public struct PadProblem: Sendable, Hashable, CustomStringConvertible {
    public let descriptor: PadDescriptor
    public let inputShape: [Int]
    public let outputShape: [Int]
    /// Per axis: the first input position kept (the begin crop, ≥ 0).
    public let start: [Int]
    /// Per axis: the input positions kept (the extent after both crops).
    public let extent: [Int]
    /// Per axis: the positive begin pad (0 for axes not padded or cropped at the beginning).
    public let begin: [Int]

    /// - Throws: ``CNNKitError`` when an axis is out of range or repeated, `pads` does not hold two entries per
    ///   axis, an output extent would be negative or overflow, a `reflect` pad is not below the (cropped) axis
    ///   extent (ONNX Pad-19, as onnxruntime and PyTorch require), or a non-constant mode pads an empty axis.
    public init(descriptor: PadDescriptor, inputShape: [Int]) throws {
        let rank = inputShape.count
        let text = "pad_\(descriptor.mode.rawValue)_\(inputShape.map(String.init).joined(separator: "x"))_p\(descriptor.pads)"
            + (descriptor.axes.map { "_axes\($0)" } ?? "")
        (start, extent, begin, outputShape) = try quotingProblem(text) {
            _ = try Tensor.elementCount(of: inputShape, parameter: "input.shape")
            let axes: [Int]
            if let given = descriptor.axes {
                axes = try given.map { axis in
                    guard axis >= -rank && axis < rank else {
                        throw CNNKitError.invalidArgument("axes", value: "\(given)", expected: "every axis in [-\(rank), \(rank)) for rank \(rank)")
                    }
                    return axis < 0 ? axis + rank : axis
                }
                guard Set(axes).count == axes.count else {
                    throw CNNKitError.invalidArgument("axes", value: "\(given)", expected: "no axis named twice")
                }
            } else {
                axes = Array(0..<rank)
            }
            let pads = descriptor.pads
            guard pads.count == 2 * axes.count else {
                throw CNNKitError.shapeMismatch(
                    "pads", value: "\(pads) (\(pads.count) values)",
                    expected: "2·\(axes.count) = \(2 * axes.count) values: the begins, then the ends, of \(descriptor.axes == nil ? "every axis of the rank-\(rank) input" : "axes \(axes)")")
            }
            // Far beyond any extent (so that position arithmetic never nears Int's range).
            if let wild = pads.first(where: { $0 < -(1 << 60) || $0 > 1 << 60 }) {
                throw CNNKitError.invalidArgument("pads", value: "\(wild)", expected: "pads within ±2^60")
            }
            var start = Array(repeating: 0, count: rank), extent = inputShape
            var begin = Array(repeating: 0, count: rank), shape = inputShape
            for (k, axis) in axes.enumerated() {
                let (b, e, n) = (pads[k], pads[k + axes.count], inputShape[axis])
                let kept = n + min(b, 0) + min(e, 0)
                guard kept >= 0 else {
                    throw CNNKitError.invalidArgument(
                        "pads", value: "\(pads)", expected: "crops no larger than the axis: axis \(axis) of extent \(n) would keep \(kept)")
                }
                if descriptor.mode != .constant && kept == 0 && (b > 0 || e > 0) {
                    throw CNNKitError.invalidArgument(
                        "pads", value: "\(pads)", expected: "no \(descriptor.mode.rawValue) padding of an empty axis (axis \(axis))")
                }
                if descriptor.mode == .reflect && (b >= kept && b > 0 || e >= kept && e > 0) {
                    throw CNNKitError.invalidArgument(
                        "pads", value: "\(pads)", expected: "reflect pads below the extent \(kept) of axis \(axis) (at most \(max(0, kept - 1)))")
                }
                start[axis] = max(-b, 0)
                extent[axis] = kept
                begin[axis] = max(b, 0)
                shape[axis] = try added(try added(kept, max(b, 0), "pads", "\(pads)"), max(e, 0), "pads", "\(pads)")
            }
            _ = try Tensor.elementCount(of: shape, parameter: "output.shape")
            return (start, extent, begin, shape)
        }
        self.descriptor = descriptor
        self.inputShape = inputShape
    }

    public var description: String {
        // Signed begin / end pads per axis (negative = crop).
        let begins = zip(begin, start).map { $0 - $1 }
        let ends = (0..<inputShape.count).map { outputShape[$0] - inputShape[$0] - begins[$0] }
        var text = "pad_\(descriptor.mode.rawValue)_\(inputShape.map(String.init).joined(separator: "x"))"
        text += "_b\(begins.map(String.init).joined(separator: "x"))_e\(ends.map(String.init).joined(separator: "x"))"
        if descriptor.mode == .constant && descriptor.constantValue != 0 { text += "_v\(descriptor.constantValue)" }
        return text
    }
}
