import CNNKitCore
internal import CKernels
import Foundation

extension CBackend {
    // MARK: Resize

    /// The tap tables are built here, once per plan, and shared by every run.
    public func prepare(_ problem: ResizeProblem) throws -> any PreparedUnaryOperator {
        // An empty output (one huge scale on one axis, 0 on another) needs no tap tables and no kernel call: its
        // per-axis tables could be far larger than memory.
        if checkedProduct(problem.outputShape) == 0 {
            return CPrepared(algorithm: "\(problem.descriptor.mode)/\(self.isa)", workspace: 0) { _, _ in }
        }
        // The tap tables are built now: their size (the Swift tap lists, then 13 bytes per table entry) is compared
        // with the memory budget first.
        try MemoryBudget.require(problem.tapTableBytes(perTap: 29, perOutput: 64), for: "resize tap tables", problem: problem.description)
        guard let taps = ResizeTaps(problem) else { throw declining("a resized axis before the last three", problem) }
        let nearest: Int32 = problem.descriptor.mode == .nearest ? 1 : 0
        let extrapolation = problem.descriptor.extrapolationValue
        let team = Int32(clamping: threads), isa = isaLevel
        let workspace = saturatingProduct([threads, 4, taps.axes[2].input, max(1, taps.axes[1].taps)])
        return CPrepared(algorithm: "\(problem.descriptor.mode)/\(self.isa)", workspace: workspace) { input, output in
            let status = taps.withAxes { axes in
                withPointers(input.scalars, &output.scalars) { x, xCount, y, yCount in
                    ck_resize_ncx_taps_f32(Int64(taps.planes), axes, nearest, extrapolation, x, xCount, y, yCount, team, isa)
                }
            }
            try self.check(status, "resize")
        }
    }

    // MARK: DepthToSpace / SpaceToDepth

    public func prepare(_ problem: PixelShuffleProblem) throws -> any PreparedUnaryOperator {
        let d = problem.descriptor
        let large = (d.direction == .depthToSpace ? problem.outputShape : problem.inputShape).map(Int64.init)
        let team = Int32(clamping: threads)
        return CPrepared(algorithm: "copy", workspace: 0) { input, output in
            let status = withPointers(input.scalars, &output.scalars) { x, xCount, y, yCount in
                ck_pixelshuffle_nchw_f32(
                    d.direction == .spaceToDepth ? 1 : 0, d.mode == .crd ? 1 : 0, large[0], large[1], large[2], large[3],
                    Int64(d.blockSize), x, xCount, y, yCount, team)
            }
            try self.check(status, "pixelshuffle")
        }
    }

    // MARK: MaxUnpool

    public func prepare(_ problem: MaxUnpoolProblem) throws -> any PreparedMaxUnpool {
        let space = problem.indexSpaceShape.dropFirst(2).map(Int64.init)
        let out = problem.outputShape.dropFirst(2).map(Int64.init)
        let team = Int32(clamping: threads)
        return CPrepared(algorithm: "scatter", workspace: 0) { input, indices, output in
            let status = indices.scalars.withUnsafeBufferPointer { ix in
                withPointers(input.scalars, &output.scalars) { x, xCount, y, yCount in
                    ck_maxunpool_ncx_f32(
                        Int64(problem.inputShape[0]), Int64(problem.inputShape[1]), Int64(space.count), space, out, x,
                        ix.baseAddress, xCount, y, yCount, team)
                }
            }
            try self.check(status, "maxunpool")
        }
    }
}

/// Per-axis tap tables of a resize in the kernel's fixed-width form, for the last three axes (leading axes must
/// map every position to itself and are folded into independent planes).
///
/// The taps are ``ResizeProblem/taps(axis:outputIndex:)`` (the definition the reference backend uses too), with
/// weights stored as `Float` and every output padded to the axis's largest tap count by zero-weight taps on the
/// next input position (clamped), which the kernel skips.
struct ResizeTaps {
    struct Axis {
        var input: Int, output: Int, taps: Int
        var index: [Int64], weight: [Float], outside: [UInt8]?
    }
    let planes: Int
    let axes: [Axis]  // d, h, w

    init?(_ problem: ResizeProblem) {
        let rank = problem.inputShape.count
        var tables: [Axis] = []
        for axis in 0..<rank {
            let table = Self.axis(problem, axis)
            if axis < rank - 3 && !table.isIdentity { return nil }
            if axis >= rank - 3 { tables.append(table) }
        }
        while tables.count < 3 {
            tables.insert(Axis(input: 1, output: 1, taps: 1, index: [0], weight: [1], outside: nil), at: 0)
        }
        planes = saturatingProduct(problem.inputShape.prefix(max(0, rank - 3)))
        axes = tables
    }

    func withAxes<R>(_ body: (UnsafePointer<ck_resize_axis>) -> R) -> R {
        func one<T>(_ a: Axis, _ next: (ck_resize_axis) -> T) -> T {
            a.index.withUnsafeBufferPointer { ix in
                a.weight.withUnsafeBufferPointer { w in
                    func make(_ outside: UnsafePointer<UInt8>?) -> T {
                        next(ck_resize_axis(in: Int64(a.input), out: Int64(a.output), taps: Int64(a.taps),
                                            index: ix.baseAddress, weight: w.baseAddress, outside: outside))
                    }
                    guard let outside = a.outside else { return make(nil) }
                    return outside.withUnsafeBufferPointer { make($0.baseAddress) }
                }
            }
        }
        return one(axes[0]) { d in one(axes[1]) { h in one(axes[2]) { w in
            let list = [d, h, w]
            return list.withUnsafeBufferPointer { body($0.baseAddress!) }
        } } }
    }

    static func axis(_ problem: ResizeProblem, _ axis: Int) -> Axis {
        let lin = problem.inputShape[axis], lout = problem.outputShape[axis]
        if lout == 0 || lin == 0 {
            return Axis(input: lin, output: lout, taps: 1, index: [], weight: [], outside: nil)
        }
        let lists = (0..<lout).map { problem.taps(axis: axis, outputIndex: $0) }
        let width = max(1, lists.map { $0?.count ?? 0 }.max() ?? 1)
        var index = [Int64](), weight = [Float](), outside = [UInt8]()
        index.reserveCapacity(lout * width)
        weight.reserveCapacity(lout * width)
        for list in lists {
            outside.append(list == nil ? 1 : 0)
            let taps = list ?? []
            for k in 0..<width {
                if k < taps.count {
                    index.append(Int64(taps[k].index))
                    weight.append(Float(taps[k].weight))
                } else {
                    let previous = taps.last?.index ?? -1
                    index.append(Int64(min(max(previous + 1 + k - taps.count, 0), lin - 1)))
                    weight.append(0)
                }
            }
        }
        return Axis(input: lin, output: lout, taps: width, index: index, weight: weight,
                    outside: outside.contains(1) ? outside : nil)
    }
}

extension ResizeTaps.Axis {
    /// Every output position reads exactly its own input position with weight 1.
    var isIdentity: Bool {
        guard input == output, outside == nil else { return false }
        for o in 0..<output {
            for t in 0..<taps {
                let i = o * taps + t
                if weight[i] != 0 && (index[i] != Int64(o) || weight[i] != 1) { return false }
            }
        }
        return true
    }
}
