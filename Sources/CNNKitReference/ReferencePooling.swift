import CNNKitCore
import Foundation

/// One pooling window: its taps inside the input, in row-major window order, and how many taps it has in the
/// input or the explicit padding (the `count_include_pad` divisor).
struct PoolingWindow {
    /// Flat offsets within the input plane of the taps inside the input.
    var taps: [Int] = []
    /// Taps inside the input or the explicit padding (taps past the end padding, possible with ceil_mode, excluded).
    var paddedCount = 0
}

extension ReferenceBackend {
    /// Visits every output position of one (n, c) plane with its window; the one window iterator every pooling kind uses.
    ///
    /// The work is proportional to the taps inside the input, not to the kernel: the window is separable, so per
    /// axis and output position the kernel offsets whose tap lies inside the input (and inside the input or the
    /// explicit padding, for the divisor) form one range, computed in closed form. A kernel of 2^40 with SAME
    /// padding over an input of 5 visits 5 taps per window.
    func forEachWindow(_ g: WindowGeometry, _ body: (_ outFlat: Int, _ window: PoolingWindow) -> Void) {
        let rank = g.spatialRank
        let inPlane = SpatialIndex(g.inputSize), outPlane = SpatialIndex(g.outputSize)
        guard outPlane.count > 0 else { return }
        // Per axis and output position: the kernel offsets k (lo..<hi) with a tap inside the input, and the count
        // of taps inside the input or the explicit padding (taps past the end padding excluded, as with ceil_mode).
        var inside: [[(lo: Int, hi: Int)]] = [], padded: [[Int]] = []
        for axis in 0..<rank {
            let s = g.strides[axis], d = g.dilations[axis], kernel = g.kernel[axis], length = g.inputSize[axis]
            let pb = g.padBegin[axis], pe = g.padEnd[axis]
            var ranges: [(lo: Int, hi: Int)] = [], counts: [Int] = []
            ranges.reserveCapacity(g.outputSize[axis])
            counts.reserveCapacity(g.outputSize[axis])
            for o in 0..<g.outputSize[axis] {
                let base = o * s - pb
                ranges.append(kernelRange(base: base, dilation: d, kernel: kernel, lower: 0, upper: length))
                let all = kernelRange(base: base, dilation: d, kernel: kernel, lower: -pb, upper: length + pe)
                counts.append(all.hi - all.lo)
            }
            inside.append(ranges)
            padded.append(counts)
        }
        var o = Array(repeating: 0, count: rank), k = Array(repeating: 0, count: rank)
        var window = PoolingWindow()
        for outFlat in 0..<outPlane.count {
            outPlane.decompose(outFlat, into: &o)
            window.taps.removeAll(keepingCapacity: true)
            window.paddedCount = 1
            var empty = false
            for axis in 0..<rank {
                window.paddedCount = saturatingMultiply(window.paddedCount, padded[axis][o[axis]])
                let range = inside[axis][o[axis]]
                if range.lo >= range.hi { empty = true }
                k[axis] = range.lo
            }
            if !empty {
                // Odometer over the per-axis ranges, last axis fastest: the taps in row-major window order.
                outer: while true {
                    var offset = 0
                    for axis in 0..<rank {
                        let i = o[axis] * g.strides[axis] + k[axis] * g.dilations[axis] - g.padBegin[axis]
                        offset += i * inPlane.strides[axis]
                    }
                    window.taps.append(offset)
                    var axis = rank - 1
                    while axis >= 0 {
                        k[axis] += 1
                        if k[axis] < inside[axis][o[axis]].hi { continue outer }
                        k[axis] = inside[axis][o[axis]].lo
                        axis -= 1
                    }
                    break
                }
            }
            body(outFlat, window)
        }
    }

    /// The kernel offsets `k` in `0..<kernel` with `lower <= base + k·d < upper`, as `lo..<hi` (empty: lo >= hi).
    /// Operands are bounded by validation (|base|, bounds < 2^62), so nothing overflows.
    private func kernelRange(base: Int, dilation d: Int, kernel: Int, lower: Int, upper: Int) -> (lo: Int, hi: Int) {
        let need = lower - base  // ceil(need / d) without forming need + d − 1 (d is unbounded when the kernel is 1)
        let lo = base >= lower ? 0 : need / d + (need % d == 0 ? 0 : 1)
        let last = upper - 1 - base
        guard last >= 0 else { return (0, 0) }
        let hi = min(kernel, last / d + 1)
        return (lo, max(lo, hi))
    }

    /// Max, average, Lp and stochastic pooling over `forEachWindow(_:_:)`; see ``PoolingKind`` for each rule.
    ///
    /// A window with no tap inside the input (all in padding) gives −∞ and index −1 for max, NaN (0/0) for average
    /// without padding counted, 0 for Lp and 0 for stochastic pooling.
    func pooling(_ problem: PoolingProblem, input: Tensor, output: inout Tensor, indices: inout IndexTensor?) {
        let g = problem.geometry
        // Work proportional to the data: nothing to visit in an empty output.
        guard output.count > 0 else { return }
        let inCount = g.inputSize.reduce(1, *), outCount = g.outputSize.reduce(1, *)
        let height = g.spatialRank == 2 ? g.inputSize[0] : 1, width = g.inputSize.last ?? 1
        for plane in 0..<problem.batch * problem.channels {
            let base = plane * inCount
            forEachWindow(g) { outFlat, window in
                let values = window.taps.map { Double(input.scalars[base + $0]) }
                let (value, tap) = reduce(problem.descriptor.kind, values, window, window: UInt64(plane * outCount + outFlat))
                output.scalars[plane * outCount + outFlat] = Float(value)
                guard indices != nil else { return }
                var index = -1
                if let tap {
                    let position = window.taps[tap]
                    // Column-major (storage_order 1): h + w·H within the plane.
                    index = base + (problem.descriptor.storageOrder == .columnMajor ? (position % width) * height + position / width : position)
                }
                indices!.scalars[plane * outCount + outFlat] = Int64(index)
            }
        }
    }

    /// The value of one window and, for max and stochastic pooling, which tap produced it.
    private func reduce(_ kind: PoolingKind, _ values: [Double], _ window: PoolingWindow, window flatWindow: UInt64) -> (Double, Int?) {
        switch kind {
        case .max:
            var best = -Double.infinity, bestTap: Int? = nil
            for (tap, value) in values.enumerated() {
                if value.isNaN { return (value, tap) }
                if bestTap == nil || value > best { best = value; bestTap = tap }
            }
            return (best, bestTap)
        case .average(let countIncludePad):
            let divisor = countIncludePad ? window.paddedCount : values.count
            return (values.reduce(0, +) / Double(divisor), nil)
        case .lp(let p):
            let sum = values.reduce(0) { $0 + pow(abs($1), Double(p)) }
            return (pow(sum, 1 / Double(p)), nil)
        case .stochastic(let seed):
            guard !values.isEmpty else { return (0, nil) }
            if let nan = values.firstIndex(where: \.isNaN) { return (values[nan], nan) }
            let weights = values.map { max($0, 0) }
            let total = weights.reduce(0, +)
            let u = StochasticSampling.uniform(seed: seed, window: flatWindow)
            guard total > 0 else {
                let tap = min(Int(u * Double(values.count)), values.count - 1)
                return (values[tap], tap)
            }
            let target = u * total
            var running = 0.0, chosen = weights.lastIndex { $0 > 0 }!
            for (tap, weight) in weights.enumerated() {
                running += weight
                if target < running { chosen = tap; break }
            }
            return (values[chosen], chosen)
        case .stochasticExpectation:
            guard !values.isEmpty else { return (0, nil) }
            if let nan = values.first(where: \.isNaN) { return (nan, nil) }
            let weights = values.map { max($0, 0) }
            let total = weights.reduce(0, +)
            guard total > 0 else { return (values.reduce(0, +) / Double(values.count), nil) }
            return (zip(weights, values).reduce(0) { $0 + $1.0 * $1.1 } / total, nil)
        }
    }
}
