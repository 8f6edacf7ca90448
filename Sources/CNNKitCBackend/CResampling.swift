import CNNKitCore
internal import CKernels
import Foundation

extension CBackend {
    // MARK: Resize

    /// The tap tables are built here, once per plan, and shared by every run.
    public func prepare(_ problem: ResizeProblem) throws -> any PreparedUnaryOperator {
        guard let taps = ResizeTaps(problem) else { throw declining("a resized axis before the last three", problem) }
        let nearest: Int32 = problem.descriptor.mode == .nearest ? 1 : 0
        let extrapolation = problem.descriptor.extrapolationValue
        let team = Int32(clamping: threads), isa = isaLevel
        let workspace = threads * 4 * taps.axes[2].input * max(1, taps.axes[1].taps)
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

/// Per-axis tap tables of a resize, for the last three axes (leading axes must map every position to itself and
/// are folded into independent planes).
///
/// Coordinates follow ``CoordinateTransformation`` in `Double`; weights are computed in `Double` and stored as
/// `Float`. Linear uses taps ⌊x⌋, ⌊x⌋+1; cubic ⌊x⌋−1…⌊x⌋+2 with the Keys kernel; antialias (scale < 1) widens the
/// kernel by 1/scale and normalises. Taps outside the input are clamped to the edge, or with `excludeOutside` get
/// weight 0 and the rest are renormalised.
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
        planes = problem.inputShape.prefix(max(0, rank - 3)).reduce(1, *)
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
        let d = problem.descriptor
        let lin = problem.inputShape[axis], lout = problem.outputShape[axis]
        let scale = problem.scales[axis]
        let nearest = d.mode == .nearest
        if lout == 0 || lin == 0 {
            return Axis(input: lin, output: lout, taps: 1, index: [], weight: [], outside: nil)
        }
        // Kernel support: taps i_start ..< i_start + taps around ⌊x⌋.
        let antialias = d.antialias && !nearest && scale < 1
        let support: (first: Int, taps: Int)
        switch d.mode {
        case .nearest: support = (0, 1)
        case .linear:
            if antialias {
                let first = Int((-1 / scale).rounded(.down)) + 1
                support = (first, 2 - 2 * first)
            } else { support = (0, 2) }
        case .cubic:
            if antialias {
                let first = Int((-2 / scale).rounded(.down)) + 1
                support = (first, 2 - 2 * first)
            } else { support = (-1, 4) }
        }
        var index = [Int64](), weight = [Float](), outside = [UInt8]()
        index.reserveCapacity(lout * support.taps)
        weight.reserveCapacity(lout * support.taps)
        var anyOutside = false
        var w = [Double](repeating: 0, count: support.taps)
        for o in 0..<lout {
            let x = problem.sourceCoordinate(axis: axis, outputIndex: o)
            let isOutside = d.coordinateTransformation == .tfCropAndResize && (x < 0 || x > Double(lin - 1))
            anyOutside = anyOutside || isOutside
            outside.append(isOutside ? 1 : 0)
            if nearest {
                index.append(Int64(clamp(d.nearestMode.round(x), lin)))
                weight.append(1)
                continue
            }
            let base = x.rounded(.down), t = x - base
            // ⌊x⌋ as an Int; far outside the input every tap is clamped (or excluded) anyway.
            let b = Int(min(max(base, -Double(1 << 50)), Double(1 << 50)))
            let s = antialias ? scale : 1
            var taps = [Int](repeating: 0, count: support.taps)
            for k in 0..<support.taps {
                let offset = Double(support.first + k) - t
                w[k] = d.mode == .linear ? max(0, 1 - abs(offset * s)) : keys(offset * s, Double(d.cubicCoefficientA))
                taps[k] = b + support.first + k
            }
            if d.excludeOutside {
                for k in taps.indices where taps[k] < 0 || taps[k] >= lin { w[k] = 0 }
            }
            let total = w.reduce(0, +)
            if antialias || d.excludeOutside, total != 0 {
                for k in w.indices { w[k] /= total }
            }
            for k in taps.indices { taps[k] = min(max(taps[k], 0), lin - 1) }
            for k in 0..<support.taps {
                index.append(Int64(taps[k]))
                weight.append(Float(w[k]))
            }
        }
        return Axis(input: lin, output: lout, taps: support.taps, index: index, weight: weight,
                    outside: anyOutside ? outside : nil)
    }

    static func clamp(_ value: Double, _ length: Int) -> Int {
        if !(value > 0) { return 0 }
        if value >= Double(length - 1) { return max(0, length - 1) }
        return Int(value)
    }

    /// Keys cubic convolution kernel with coefficient a.
    static func keys(_ s: Double, _ a: Double) -> Double {
        let x = abs(s)
        if x <= 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
        if x < 2 { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
        return 0
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
