import Foundation

/// Element types a ``DenseTensor`` may hold: `Float` for data, `Int64` for indices.
public protocol TensorScalar: Sendable, Hashable, Numeric {
    /// The `.npy` type string of this scalar (`<f4` or `<i8`).
    static var npyDescriptor: String { get }
}

extension Float: TensorScalar {
    public static var npyDescriptor: String { "<f4" }
}

extension Int64: TensorScalar {
    public static var npyDescriptor: String { "<i8" }
}

/// A dense, contiguous, row-major (C order) tensor.
///
/// CNNKit feature maps are ``Tensor`` (`Float`) in NCL (rank 3), NCHW (rank 4) or NCDHW (rank 5) layout: batch,
/// channels, then the spatial axes, last axis fastest. Argmax indices are ``IndexTensor`` (`Int64`).
/// Zero-size dimensions are allowed; such a tensor holds no elements.
public struct DenseTensor<Scalar: TensorScalar>: Sendable, Hashable {
    /// The extent of each axis, outermost first.
    public let shape: [Int]
    /// The elements in C order; `scalars.count == shape.reduce(1, *)`.
    public var scalars: [Scalar]

    /// Creates a tensor of `shape` filled with `value`.
    /// - Throws: ``CNNKitError`` when an extent is negative or the element count overflows `Int`.
    @inlinable  // specialised in the caller: the generic fill copies element by element through value witnesses
    public init(shape: [Int], repeating value: Scalar = .zero) throws {
        let count = try Self.elementCount(of: shape)
        try MemoryBudget.require(elements: count, of: Scalar.self, for: "tensor \(shape)")
        self.shape = shape
        self.scalars = Array(repeating: value, count: count)
    }

    /// Creates a tensor of `shape` holding `scalars` in C order.
    /// - Throws: ``CNNKitError`` when `scalars.count` is not the product of `shape`.
    public init(shape: [Int], scalars: [Scalar]) throws {
        let count = try Self.elementCount(of: shape)
        guard scalars.count == count else {
            throw CNNKitError.invalidArgument(
                "scalars", value: "\(scalars.count) elements",
                expected: "\(count) elements for shape \(shape)")
        }
        self.shape = shape
        self.scalars = scalars
    }

    /// Internal initialiser for shapes that were already validated.
    package init(validatedShape shape: [Int], scalars: [Scalar]) {
        self.shape = shape
        self.scalars = scalars
    }

    /// The number of axes.
    public var rank: Int { shape.count }
    /// The number of elements.
    public var count: Int { scalars.count }

    /// Row-major strides (in elements) of each axis. In an empty tensor a stride whose product of trailing
    /// extents would not fit in `Int` is `Int.max` (no element is ever addressed through it).
    public var strides: [Int] {
        var result = Array(repeating: 1, count: shape.count)
        var running = 1
        for axis in shape.indices.reversed() {
            result[axis] = running
            running = saturatingMultiply(running, shape[axis])
        }
        return result
    }

    /// The element at the given multi-index.
    public subscript(_ index: Int...) -> Scalar {
        get { scalars[flatIndex(index)] }
        set { scalars[flatIndex(index)] = newValue }
    }

    private func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index rank \(index.count) != tensor rank \(shape.count)")
        var flat = 0
        for axis in shape.indices {
            precondition(index[axis] >= 0 && index[axis] < shape[axis], "index \(index) out of bounds for \(shape)")
            flat = flat * shape[axis] + index[axis]
        }
        return flat
    }

    /// Returns a tensor with the same elements and a new shape of equal element count.
    /// - Throws: ``CNNKitError`` when the element counts differ.
    public func reshaped(_ newShape: [Int]) throws -> DenseTensor {
        try DenseTensor(shape: newShape, scalars: scalars)
    }

    /// The product of `shape`, checked for negative extents, `Int` overflow, and a byte size beyond the machine's
    /// physical memory (so that an absurd output shape throws instead of failing to allocate).
    /// - Throws: ``CNNKitError`` naming the parameter `shape`.
    public static func elementCount(of shape: [Int], parameter: String = "shape") throws -> Int {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw CNNKitError.invalidArgument(parameter, value: "\(shape)", expected: "non-negative extents")
        }
        // An empty tensor is recognised before any product of its extents is formed.
        guard let count = checkedProduct(shape) else {
            throw CNNKitError.invalidArgument(
                parameter, value: "\(shape)", expected: "an element count that fits in Int", kind: .overflow)
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<Scalar>.stride)
        guard !overflow, UInt64(bytes) <= ProcessInfo.processInfo.physicalMemory else {
            throw CNNKitError.invalidArgument(
                parameter, value: "\(shape) (\(overflow ? "more than Int.max" : "\(bytes)") bytes)",
                expected: "a tensor that fits in this machine's memory (\(ProcessInfo.processInfo.physicalMemory) bytes)",
                kind: .overflow)
        }
        return count
    }
}

/// A float32 feature-map tensor (NCL, NCHW or NCDHW).
public typealias Tensor = DenseTensor<Float>
/// An int64 tensor, used for argmax indices and shape-like operands.
public typealias IndexTensor = DenseTensor<Int64>

extension DenseTensor: CustomStringConvertible {
    public var description: String {
        let preview = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "\(Scalar.self)\(shape)[\(preview)\(scalars.count > 8 ? ", …" : "")]"
    }
}
