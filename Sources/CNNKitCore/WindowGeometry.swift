/// ONNX `auto_pad`: how the padding of a sliding-window operator is chosen.
public enum AutoPad: String, Sendable, Hashable, CaseIterable {
    /// Use the explicit `pads`.
    case notSet = "NOTSET"
    /// Output length `ceil(L / stride)`; an odd total padding puts the extra unit at the end.
    case sameUpper = "SAME_UPPER"
    /// Output length `ceil(L / stride)`; an odd total padding puts the extra unit at the beginning.
    case sameLower = "SAME_LOWER"
    /// No padding.
    case valid = "VALID"
}

/// The resolved geometry of a sliding-window operator (convolution, pooling) along its spatial axes.
///
/// Output length per axis, with effective kernel `ek = (k - 1)·d + 1` (ONNX Conv-11 / MaxPool-12 / AveragePool-19):
/// - explicit pads: `floor((L + pb + pe - ek) / s) + 1`; with `ceilMode` use `ceil`, then drop the last window if it
///   would start at or after `L + pb` (a window may not start in the end padding; PyTorch's rule);
/// - `SAME_UPPER` / `SAME_LOWER`: `ceil(L / s)`, total padding `max(0, (out - 1)·s + ek - L)` split as ``AutoPad``
///   says; `ceilMode` does not change it;
/// - `VALID`: pads 0, then as for explicit pads (so `ceilMode` applies, as in onnxruntime and PyTorch).
public struct WindowGeometry: Sendable, Hashable {
    /// Input extent per spatial axis.
    public let inputSize: [Int]
    /// Kernel (window) extent per spatial axis.
    public let kernel: [Int]
    /// Step between windows per spatial axis.
    public let strides: [Int]
    /// Spacing between kernel taps per spatial axis; 1 is dense.
    public let dilations: [Int]
    /// Padding before the first element per spatial axis.
    public let padBegin: [Int]
    /// Padding after the last element per spatial axis.
    public let padEnd: [Int]
    /// Output extent per spatial axis.
    public let outputSize: [Int]

    /// The number of spatial axes.
    public var spatialRank: Int { inputSize.count }

    /// Resolves window geometry from ONNX-style attributes.
    ///
    /// - Parameters:
    ///   - inputSize: spatial extents of the input.
    ///   - kernel: window extent per axis (every value ≥ 1).
    ///   - strides: `[]` for all 1, else one value ≥ 1 per axis.
    ///   - dilations: `[]` for all 1, else one value ≥ 1 per axis.
    ///   - pads: `[]` for all 0, else `[b1, …, bn, e1, …, en]` with every value ≥ 0 (ignored unless `autoPad` is `.notSet`).
    ///   - autoPad: how padding is chosen.
    ///   - ceilMode: round output lengths up (pooling only; convolution passes `false`).
    /// - Throws: ``CNNKitError`` naming the parameter when a list has the wrong length or a value is out of range,
    ///   when `dilation·(kernel−1)` overflows, when an output length would be negative, or when a zero-length
    ///   input axis would give a non-zero output length.
    public static func resolve(
        inputSize: [Int], kernel: [Int], strides: [Int], dilations: [Int], pads: [Int],
        autoPad: AutoPad, ceilMode: Bool
    ) throws -> WindowGeometry {
        let rank = inputSize.count
        let kernel = try spatialList(kernel, "kernel_shape", rank: rank, default: nil, minimum: 1)
        let strides = try spatialList(strides, "strides", rank: rank, default: 1, minimum: 1)
        let dilations = try spatialList(dilations, "dilations", rank: rank, default: 1, minimum: 1)
        let pads = try padList(pads, rank: rank)
        var padBegin = Array(pads[0..<rank])
        var padEnd = Array(pads[rank...])
        var output = [Int](repeating: 0, count: rank)
        for axis in 0..<rank {
            let extent = try effectiveKernel(kernel[axis], dilation: dilations[axis], axis: axis)
            let length = inputSize[axis]
            let stride = strides[axis]
            guard length >= 0 else {
                throw CNNKitError.invalidArgument("input.shape", value: "spatial \(inputSize)", expected: "non-negative extents")
            }
            // Every sum below is checked: the length of an empty tensor's axis may be near Int.max, the dilated
            // extent is below Int.max / 4, pads are at most 2^40, strides are unbounded.
            let overflowValue = { "length \(length), dilated kernel \(extent), stride \(stride), pads \(padBegin[axis])+\(padEnd[axis]) on axis \(axis)" }
            switch autoPad {
            case .sameUpper, .sameLower:
                output[axis] = ceilDivide(length, stride)
                // (out − 1)·s < L, so (out − 1)·s + ek − L ≤ ek: only the intermediate sum needs a check.
                let reach = try added((output[axis] - 1) * stride, extent, "kernel_shape", overflowValue())
                let total = max(0, reach - length)
                let small = total / 2
                padBegin[axis] = autoPad == .sameUpper ? small : total - small
                padEnd[axis] = total - padBegin[axis]
            case .notSet, .valid:
                if autoPad == .valid { padBegin[axis] = 0; padEnd[axis] = 0 }
                let padded = try added(length, padBegin[axis] + padEnd[axis], "input.shape", overflowValue())
                let span = padded - extent
                var count = (ceilMode ? ceilDivide(span, stride) : floorDivide(span, stride)) + 1
                if ceilMode, count > 0, saturatingMultiply(count - 1, stride) >= length + padBegin[axis] { count -= 1 }
                guard count >= 0 else {
                    throw CNNKitError.invalidArgument(
                        "kernel_shape", value: "\(kernel) (dilated extent \(extent) on axis \(axis))",
                        expected: "a window that fits the padded input of length \(padded) (output length \(count) < 0)")
                }
                output[axis] = count
            }
            if length == 0 && output[axis] != 0 {
                throw CNNKitError.shapeMismatch(
                    "input.shape", value: "spatial \(inputSize) (axis \(axis) has length 0)",
                    expected: "no output from a zero-length axis, but the padding gives output length \(output[axis])")
            }
        }
        return WindowGeometry(
            inputSize: inputSize, kernel: kernel, strides: strides, dilations: dilations,
            padBegin: padBegin, padEnd: padEnd, outputSize: output)
    }

    /// `(kernel − 1)·dilation + 1`, checked for overflow.
    static func effectiveKernel(_ kernel: Int, dilation: Int, axis: Int) throws -> Int {
        let (scaled, overflow) = (kernel - 1).multipliedReportingOverflow(by: dilation)
        // Bounded well below Int.max so that later sums with lengths and pads cannot overflow.
        guard !overflow, scaled < Int.max / 4 else {
            // Blame the attribute that is actually out of range: the kernel alone when the dilation is 1.
            if dilation == 1 || kernel - 1 >= Int.max / 4 {
                throw CNNKitError.invalidArgument(
                    "kernel_shape", value: "\(kernel) on axis \(axis)" + (dilation == 1 ? "" : " (dilation \(dilation))"),
                    expected: "a kernel extent below \(Int.max / 4)", kind: .overflow)
            }
            throw CNNKitError.invalidArgument(
                "dilations", value: "\(dilation) with kernel \(kernel) on axis \(axis)",
                expected: "dilation·(kernel−1) below \(Int.max / 4)", kind: .overflow)
        }
        return scaled + 1
    }

    /// Expands an ONNX per-axis list: `[]` takes `default`, else it needs `rank` values ≥ `minimum`.
    static func spatialList(_ values: [Int], _ name: String, rank: Int, default fallback: Int?, minimum: Int) throws -> [Int] {
        if values.isEmpty, let fallback { return Array(repeating: fallback, count: rank) }
        guard values.count == rank else {
            throw CNNKitError.invalidArgument(name, value: "\(values)", expected: "\(rank) values, one per spatial axis")
        }
        guard values.allSatisfy({ $0 >= minimum }) else {
            throw CNNKitError.invalidArgument(name, value: "\(values)", expected: "every value >= \(minimum)")
        }
        return values
    }

    /// Expands ONNX `pads` (`[b1…bn, e1…en]`, `[]` for zeros); every value must be ≥ 0.
    static func padList(_ pads: [Int], rank: Int) throws -> [Int] {
        if pads.isEmpty { return Array(repeating: 0, count: 2 * rank) }
        guard pads.count == 2 * rank else {
            throw CNNKitError.invalidArgument(
                "pads", value: "\(pads)", expected: "\(2 * rank) values [begin per axis…, end per axis…]")
        }
        guard pads.allSatisfy({ $0 >= 0 }) else {
            throw CNNKitError.invalidArgument("pads", value: "\(pads)", expected: "every value >= 0")
        }
        guard pads.allSatisfy({ $0 <= maximumPad }) else {
            throw CNNKitError.invalidArgument("pads", value: "\(pads)", expected: "every value <= \(maximumPad)", kind: .overflow)
        }
        return pads
    }
}

/// Largest accepted padding (2^40), so that padded lengths cannot overflow `Int`.
let maximumPad = 1 << 40

/// Floor division for a positive divisor.
@inline(__always) func floorDivide(_ a: Int, _ b: Int) -> Int {
    let (quotient, remainder) = a.quotientAndRemainder(dividingBy: b)
    return remainder < 0 ? quotient - 1 : quotient
}

/// Ceiling division for a positive divisor.
@inline(__always) func ceilDivide(_ a: Int, _ b: Int) -> Int {
    let (quotient, remainder) = a.quotientAndRemainder(dividingBy: b)
    return remainder > 0 ? quotient + 1 : quotient
}

/// Canonical letters of the spatial axes: `w` (1-D), `h w` (2-D), `d h w` (3-D), oneDNN benchdnn style.
func axisLetters(_ rank: Int) -> [String] {
    switch rank {
    case 1: return ["w"]
    case 2: return ["h", "w"]
    case 3: return ["d", "h", "w"]
    default: return (0..<rank).map { "x\($0)" }
    }
}

/// `prefix` + letter + value per axis, e.g. `ih56iw56`.
func canonicalField(_ prefix: String, _ values: [Int]) -> String {
    zip(axisLetters(values.count), values).map { "\(prefix)\($0)\($1)" }.joined()
}

/// Pads as `ph1pw1`, or `ph1_2pw0_1` (begin_end) on any asymmetric axis.
func canonicalPads(_ begin: [Int], _ end: [Int]) -> String {
    zip(axisLetters(begin.count), zip(begin, end)).map { letter, pad in
        pad.0 == pad.1 ? "p\(letter)\(pad.0)" : "p\(letter)\(pad.0)_\(pad.1)"
    }.joined()
}

/// Validates that `shape` is an N, C, spatial… feature-map shape of rank 3, 4 or 5.
func requireFeatureMap(_ shape: [Int], _ name: String, ranks: ClosedRange<Int> = 3...5) throws {
    guard ranks.contains(shape.count) else {
        throw CNNKitError.shapeMismatch(
            name, value: "\(shape) (rank \(shape.count))",
            expected: "rank \(ranks.lowerBound)…\(ranks.upperBound) (NCL, NCHW or NCDHW)")
    }
    _ = try Tensor.elementCount(of: shape, parameter: name)
}

/// Like ``canonicalField(_:_:)`` for attributes not yet validated: `[]` shows `fallback` per axis, a list of the
/// wrong length is shown as it is (`s[0, 1, 1]`).
func provisionalField(_ prefix: String, _ values: [Int], rank: Int, fallback: Int) -> String {
    if values.isEmpty { return canonicalField(prefix, Array(repeating: fallback, count: rank)) }
    return values.count == rank ? canonicalField(prefix, values) : "\(prefix)\(values)"
}

/// Provisional canonical string of a sliding-window problem, for errors raised before validation succeeds.
func provisionalWindowProblem(
    inputShape: [Int], outputChannels: Int?, kernel: [Int], strides: [Int], pads: [Int], dilations: [Int],
    suffix: String
) -> String {
    guard inputShape.count >= 3 else { return "input\(inputShape)\(suffix)" }
    let rank = inputShape.count - 2
    let padText: String
    if pads.isEmpty {
        padText = canonicalPads(Array(repeating: 0, count: rank), Array(repeating: 0, count: rank))
    } else if pads.count == 2 * rank {
        padText = canonicalPads(Array(pads[..<rank]), Array(pads[rank...]))
    } else {
        padText = "p\(pads)"
    }
    return "mb\(inputShape[0])ic\(inputShape[1])\(canonicalField("i", Array(inputShape[2...])))"
        + "_" + (outputChannels.map { "oc\($0)" } ?? "") + provisionalField("k", kernel, rank: rank, fallback: 1)
        + "_\(provisionalField("s", strides, rank: rank, fallback: 1))_\(padText)"
        + "_\(provisionalField("d", dilations, rank: rank, fallback: 1))\(suffix)"
}
