/// The reduction of adaptive pooling.
public enum AdaptivePoolingKind: String, Sendable, Hashable, CaseIterable {
    /// The largest element (the first in row-major window order on ties; the first NaN if any), with its index.
    case max
    /// The mean of the window's elements.
    case average
}

/// Attributes of adaptive pooling (PyTorch `AdaptiveMaxPool1d/2d/3d`, `AdaptiveAvgPool1d/2d/3d`; ONNX has no such
/// operator): the output size is given, and the windows follow from it.
///
/// Shapes: input `[N, C, L₁, …]` (NCL, NCHW or NCDHW), output `[N, C, outputSize…]`. Window `i` of an axis of
/// extent L with `out` outputs covers `[⌊i·L/out⌋, ⌈(i+1)·L/out⌉)` (PyTorch's rule), so windows may differ in size
/// by one and overlap by one when L is not a multiple of `out`; `out = L` copies, `out = 1` is global pooling.
public struct AdaptivePoolingDescriptor: Sendable, Hashable {
    public var kind: AdaptivePoolingKind
    /// Output extent per spatial axis (≥ 1).
    public var outputSize: [Int]

    public init(kind: AdaptivePoolingKind, outputSize: [Int]) {
        self.kind = kind
        self.outputSize = outputSize
    }
}

/// A validated adaptive pooling problem.
///
/// Max indices are flat positions in the input, `((n·C + c)·H + h)·W + w`, as ``PoolingProblem``'s (ONNX MaxPool)
/// are, so that they feed MaxUnpool; PyTorch's `return_indices=True` gives positions within each plane
/// (`h·W + w`) instead.
public struct AdaptivePoolingProblem: Sendable, Hashable, CustomStringConvertible {
    public let descriptor: AdaptivePoolingDescriptor
    public let inputShape: [Int]
    public let outputShape: [Int]

    /// - Throws: ``CNNKitError`` when the input is not rank 3–5, `outputSize` does not hold one value per spatial
    ///   axis, a value is below 1, an axis with outputs is empty, or `out·L` overflows.
    public init(descriptor: AdaptivePoolingDescriptor, inputShape: [Int]) throws {
        let text = "adaptive_\(descriptor.kind.rawValue)_\(inputShape.map(String.init).joined(separator: "x"))_o\(descriptor.outputSize.map(String.init).joined(separator: "x"))"
        outputShape = try quotingProblem(text) {
            try requireFeatureMap(inputShape, "input.shape")
            let spatial = Array(inputShape.dropFirst(2)), out = descriptor.outputSize
            guard out.count == spatial.count else {
                throw CNNKitError.shapeMismatch(
                    "output_size", value: "\(out)", expected: "\(spatial.count) values, one per spatial axis of \(inputShape)")
            }
            for (axis, (o, l)) in zip(out, spatial).enumerated() {
                guard o >= 1 else { throw CNNKitError.invalidArgument("output_size", value: "\(out)", expected: "every value >= 1") }
                guard l >= 1 else {
                    throw CNNKitError.shapeMismatch(
                        "input.shape", value: "\(inputShape)", expected: "non-zero spatial extents (axis \(axis + 2) has outputs to fill)")
                }
                // Window bounds are formed from (i + 1)·L + out − 1 with i < out.
                let reach = try multiplied(o, l, "output_size", "\(out) with input extents \(spatial) (output_size·L)")
                _ = try added(reach, o, "output_size", "\(out) with input extents \(spatial) (output_size·(L + 1))")
            }
            let shape = Array(inputShape.prefix(2)) + out
            _ = try Tensor.elementCount(of: shape, parameter: "output.shape")
            return shape
        }
        self.descriptor = descriptor
        self.inputShape = inputShape
    }

    /// The input positions `[⌊i·L/out⌋, ⌈(i+1)·L/out⌉)` that output `i` of spatial axis `axis` pools (PyTorch's rule).
    public func window(axis: Int, index i: Int) -> Range<Int> {
        let l = inputShape[axis + 2], out = outputShape[axis + 2]
        return (i * l / out)..<(((i + 1) * l + out - 1) / out)
    }

    public var description: String {
        "mb\(inputShape[0])ic\(inputShape[1])_i\(inputShape.dropFirst(2).map(String.init).joined(separator: "x"))"
            + "_o\(outputShape.dropFirst(2).map(String.init).joined(separator: "x"))_adaptive_\(descriptor.kind.rawValue)"
    }
}
