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
    func forEachWindow(_ g: WindowGeometry, _ body: (_ outFlat: Int, _ window: PoolingWindow) -> Void) {
        let rank = g.spatialRank
        let inPlane = SpatialIndex(g.inputSize), outPlane = SpatialIndex(g.outputSize)
        let kernelPositions = SpatialIndex(g.kernel).all
        var o = Array(repeating: 0, count: rank), i = Array(repeating: 0, count: rank)
        var window = PoolingWindow()
        window.taps.reserveCapacity(kernelPositions.count)
        for outFlat in 0..<outPlane.count {
            outPlane.decompose(outFlat, into: &o)
            window.taps.removeAll(keepingCapacity: true)
            window.paddedCount = 0
            for k in kernelPositions {
                var inInput = true, inPadded = true
                for axis in 0..<rank {
                    i[axis] = o[axis] * g.strides[axis] + k[axis] * g.dilations[axis] - g.padBegin[axis]
                    if i[axis] < 0 || i[axis] >= g.inputSize[axis] { inInput = false }
                    if i[axis] < -g.padBegin[axis] || i[axis] >= g.inputSize[axis] + g.padEnd[axis] { inPadded = false }
                }
                if inPadded { window.paddedCount += 1 }
                if inInput { window.taps.append(inPlane.flat(i)) }
            }
            body(outFlat, window)
        }
    }

    /// Max, average, Lp and stochastic pooling over `forEachWindow(_:_:)`; see ``PoolingKind`` for each rule.
    ///
    /// A window with no tap inside the input (all in padding) gives −∞ and index −1 for max, NaN (0/0) for average
    /// without padding counted, 0 for Lp and 0 for stochastic pooling.
    func pooling(_ problem: PoolingProblem, input: Tensor, output: inout Tensor, indices: inout IndexTensor?) {
        let g = problem.geometry
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
