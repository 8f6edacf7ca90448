import CNNKitCore
/// Row-major multi-index arithmetic over the spatial axes, shared by every reference kernel.
struct SpatialIndex {
    /// Extent per axis.
    let extents: [Int]
    /// Row-major stride per axis.
    let strides: [Int]
    /// Number of positions.
    let count: Int

    /// Strides of an empty space may saturate at `Int.max` (its extents can multiply past `Int`, see
    /// `saturatingProduct`); `count` is exact (0) there, so no position is ever visited through them.
    init(_ extents: [Int]) {
        self.extents = extents
        var strides = Array(repeating: 1, count: extents.count)
        var running = 1
        for axis in extents.indices.reversed() {
            strides[axis] = running
            running = saturatingMultiply(running, extents[axis])
        }
        self.strides = strides
        self.count = extents.contains(0) ? 0 : running
    }

    /// Writes the multi-index of `flat` into `index`.
    @inline(__always)
    func decompose(_ flat: Int, into index: inout [Int]) {
        var rest = flat
        for axis in extents.indices {
            index[axis] = rest / strides[axis]
            rest -= index[axis] * strides[axis]
        }
    }

    /// The flat offset of `index`.
    @inline(__always)
    func flat(_ index: [Int]) -> Int {
        var offset = 0
        for axis in extents.indices { offset += index[axis] * strides[axis] }
        return offset
    }

    /// Every multi-index, in row-major order.
    var all: [[Int]] {
        var index = Array(repeating: 0, count: extents.count)
        return (0..<count).map { flat in
            decompose(flat, into: &index)
            return index
        }
    }
}
