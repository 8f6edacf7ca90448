import CNNKit

/// The comparison of one actual output with its expected tensor, by the conformance rule.
///
/// Rule (conformance README, "Comparing results"): shapes must match exactly. float32, element by element:
/// pass when `|actual − expected| <= atol + rtol·|expected|`; NaN matches NaN; an infinity must be matched by the
/// same infinity. int64: exact equality.
///
/// Error measures, for reporting: the absolute error of an element is `|actual − expected|`, 0 when both are the
/// same non-finite value (NaN and NaN, +inf and +inf) and `+inf` when exactly one is non-finite or they are
/// different non-finite values. ``maxRelError`` is the largest `absolute error / |expected|` over elements whose
/// expected value is finite and non-zero. Both are 0 for an empty tensor and `nil`-free once shapes match.
public struct OutputComparison: Sendable, Hashable {
    /// The ONNX output slot compared.
    public var slot: Int
    /// Whether every element is within tolerance (and shape and dtype match).
    public var passed: Bool
    /// Largest absolute error (see above); `nil` when shapes or dtypes differ.
    public var maxAbsError: Double?
    /// Largest relative error over finite non-zero expected elements; `nil` when shapes or dtypes differ.
    public var maxRelError: Double?
    /// Number of elements outside tolerance.
    public var mismatchCount: Int
    /// Number of elements compared.
    public var elementCount: Int
    /// Why the output failed (shape, dtype, or the first element outside tolerance); `nil` when it passed.
    public var message: String?

    /// Creates a comparison record.
    public init(
        slot: Int, passed: Bool, maxAbsError: Double?, maxRelError: Double?, mismatchCount: Int, elementCount: Int,
        message: String?
    ) {
        self.slot = slot
        self.passed = passed
        self.maxAbsError = maxAbsError
        self.maxRelError = maxRelError
        self.mismatchCount = mismatchCount
        self.elementCount = elementCount
        self.message = message
    }

    /// Whether one float32 element passes: `|a − e| <= atol + rtol·|e|` (evaluated in `Double`), NaN matches NaN,
    /// an infinity only the same infinity.
    public static func matches(_ actual: Float, _ expected: Float, tolerance: ConformanceCase.Tolerance) -> Bool {
        if expected.isNaN || actual.isNaN { return expected.isNaN && actual.isNaN }
        if expected.isInfinite || actual.isInfinite { return expected == actual }
        let e = Double(expected)
        return abs(Double(actual) - e) <= tolerance.atol + tolerance.rtol * abs(e)
    }

    /// The absolute error of one float32 element as defined on ``OutputComparison``.
    public static func absoluteError(_ actual: Float, _ expected: Float) -> Double {
        if actual.isNaN || expected.isNaN { return actual.isNaN && expected.isNaN ? 0 : .infinity }
        if actual.isInfinite || expected.isInfinite { return actual == expected ? 0 : .infinity }
        return abs(Double(actual) - Double(expected))
    }

    /// Compares float32 tensors with `tolerance`. `label` names the tensor in the message (default `output <slot>`;
    /// backward cases use `input_grad <slot>`).
    public static func compare(
        _ actual: Tensor, _ expected: Tensor, tolerance: ConformanceCase.Tolerance, slot: Int = 0, label: String? = nil
    ) -> OutputComparison {
        compareElements(actual, expected, slot: slot, label: label ?? "output \(slot)",
                        matches: { matches($0, $1, tolerance: tolerance) },
                        error: absoluteError,
                        bound: { "bound \(tolerance.atol + tolerance.rtol * abs(Double($0)))" })
    }

    /// Compares int64 tensors exactly.
    public static func compare(_ actual: IndexTensor, _ expected: IndexTensor, slot: Int = 0) -> OutputComparison {
        compareElements(actual, expected, slot: slot, label: "output \(slot)",
                        matches: { $0 == $1 },
                        error: { a, e in abs(Double(a) - Double(e)) },
                        bound: { _ in "exact match required" })
    }

    /// Compares tensors of either dtype; differing dtypes fail.
    public static func compare(
        _ actual: CaseTensor, _ expected: CaseTensor, tolerance: ConformanceCase.Tolerance, slot: Int = 0
    ) -> OutputComparison {
        switch (actual, expected) {
        case (.float32(let a), .float32(let e)): return compare(a, e, tolerance: tolerance, slot: slot)
        case (.int64(let a), .int64(let e)): return compare(a, e, slot: slot)
        default:
            return OutputComparison(
                slot: slot, passed: false, maxAbsError: nil, maxRelError: nil, mismatchCount: 0, elementCount: 0,
                message: "output \(slot): dtype \(actual.dtype.rawValue), expected \(expected.dtype.rawValue)")
        }
    }

    private static func compareElements<S: TensorScalar>(
        _ actual: DenseTensor<S>, _ expected: DenseTensor<S>, slot: Int, label: String,
        matches: (S, S) -> Bool, error: (S, S) -> Double, bound: (S) -> String
    ) -> OutputComparison {
        guard actual.shape == expected.shape else {
            return OutputComparison(
                slot: slot, passed: false, maxAbsError: nil, maxRelError: nil, mismatchCount: 0, elementCount: 0,
                message: "\(label): shape \(actual.shape), expected \(expected.shape)")
        }
        var maxAbs = 0.0, maxRel = 0.0, mismatches = 0
        var first: Int?
        for i in expected.scalars.indices {
            let a = actual.scalars[i], e = expected.scalars[i]
            let absolute = error(a, e)
            maxAbs = max(maxAbs, absolute)
            if let magnitude = finiteMagnitude(e), magnitude != 0 { maxRel = max(maxRel, absolute / magnitude) }
            if !matches(a, e) {
                mismatches += 1
                if first == nil { first = i }
            }
        }
        var message: String?
        if let first {
            let a = actual.scalars[first], e = expected.scalars[first]
            message = "\(label): \(mismatches) of \(expected.count) elements differ; first at "
                + "\(multiIndex(first, shape: expected.shape)): got \(a), expected \(e) "
                + "(abs err \(error(a, e)), \(bound(e)))"
        }
        return OutputComparison(
            slot: slot, passed: mismatches == 0, maxAbsError: maxAbs, maxRelError: maxRel,
            mismatchCount: mismatches, elementCount: expected.count, message: message)
    }

    private static func finiteMagnitude<S: TensorScalar>(_ value: S) -> Double? {
        if let float = value as? Float { return float.isFinite ? abs(Double(float)) : nil }
        if let integer = value as? Int64 { return abs(Double(integer)) }
        return nil
    }

    /// The C-order multi-index of flat position `flat` in `shape`.
    static func multiIndex(_ flat: Int, shape: [Int]) -> [Int] {
        var rest = flat
        var index = [Int](repeating: 0, count: shape.count)
        for axis in shape.indices.reversed() where shape[axis] > 0 {
            index[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return index
    }
}
