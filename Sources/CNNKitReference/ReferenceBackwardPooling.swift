import CNNKitCore
import Foundation

extension ReferenceBackend {
    /// Pooling backward: `dX[i] = Σ_w dY[w] · ∂y_w/∂x_i` over the windows w that read x_i (overlapping windows add
    /// up; padding and elements no window reads get 0). Per kind:
    /// - max and stochastic (training): all of `dY[w]` goes to the element the forward `Indices` output names — the
    ///   forward pass itself is run with indices, so ties (the first maximum in row-major window order), NaN (the
    ///   first NaN of the window) and the stochastic sample (same seed, same counter-based draw) are the forward's;
    ///   a window with no tap inside the input passes nothing;
    /// - average: `dY[w] / divisor_w` to every tap inside the input, with the forward divisor (`count_include_pad`,
    ///   taps past the end padding not counted);
    /// - Lp: `dY[w] · sign(x_i)·|x_i|^(p−1)·S_w^(1/p−1)` with `S_w = Σ|x|^p`; an element equal to 0 gets 0 (the
    ///   subgradient at the kink of p = 1, and the limit for p > 1), so an all-zero window passes nothing;
    /// - stochastic expectation (inference): `y = Σ p_i a_i` with `p_i = a_i⁺ / T`, `T = Σ a_j⁺`, is `Σ (a_i⁺)² / T`,
    ///   so `∂y/∂a_i = (2·a_i − y) / T` for `a_i > 0` and 0 for `a_i ≤ 0` (one-sided at 0, like ReLU's); a window
    ///   with `T = 0` is the plain mean of its taps, `∂y/∂a_i = 1/count`;
    /// - a NaN in a window of Lp or stochastic-expectation pooling makes that window's contribution NaN at every tap.
    func poolingBackward(_ problem: PoolingProblem, input: Tensor, outputGrad: Tensor, inputGrad: inout Tensor) {
        let g = problem.geometry
        let inCount = g.inputSize.reduce(1, *), outCount = g.outputSize.reduce(1, *)
        var dx = [Double](repeating: 0, count: input.count)
        switch problem.descriptor.kind {
        case .max, .stochastic:
            // The forward with row-major indices names the selected element of every window.
            var descriptor = problem.descriptor
            descriptor.storageOrder = .rowMajor
            let rowMajor = (try? PoolingProblem(descriptor: descriptor, inputShape: problem.inputShape)) ?? problem
            var output = Tensor(validatedShape: problem.outputShape, scalars: [Float](repeating: 0, count: outputGrad.count))
            var indices: IndexTensor? = IndexTensor(
                validatedShape: problem.outputShape, scalars: [Int64](repeating: -1, count: outputGrad.count))
            pooling(rowMajor, input: input, output: &output, indices: &indices)
            for (window, index) in indices!.scalars.enumerated() where index >= 0 {
                dx[Int(index)] += Double(outputGrad.scalars[window])
            }
        case .average(let countIncludePad):
            for plane in 0..<problem.batch * problem.channels {
                let base = plane * inCount
                forEachWindow(g) { outFlat, window in
                    let divisor = Double(countIncludePad ? window.paddedCount : window.taps.count)
                    let share = Double(outputGrad.scalars[plane * outCount + outFlat]) / divisor
                    for tap in window.taps { dx[base + tap] += share }
                }
            }
        case .lp(let p):
            let p = Double(p)
            for plane in 0..<problem.batch * problem.channels {
                let base = plane * inCount
                forEachWindow(g) { outFlat, window in
                    let dy = Double(outputGrad.scalars[plane * outCount + outFlat])
                    let values = window.taps.map { Double(input.scalars[base + $0]) }
                    let sum = values.reduce(0) { $0 + pow(abs($1), p) }
                    let factor = pow(sum, 1 / p - 1)
                    for (tap, x) in zip(window.taps, values) where x != 0 {
                        dx[base + tap] += dy * (x < 0 ? -1 : 1) * pow(abs(x), p - 1) * factor
                    }
                }
            }
        case .stochasticExpectation:
            for plane in 0..<problem.batch * problem.channels {
                let base = plane * inCount
                forEachWindow(g) { outFlat, window in
                    guard !window.taps.isEmpty else { return }
                    let dy = Double(outputGrad.scalars[plane * outCount + outFlat])
                    let values = window.taps.map { Double(input.scalars[base + $0]) }
                    if values.contains(where: \.isNaN) {
                        for tap in window.taps { dx[base + tap] += dy * .nan }
                        return
                    }
                    let total = values.reduce(0) { $0 + max($1, 0) }
                    guard total > 0 else {
                        let share = dy / Double(values.count)
                        for tap in window.taps { dx[base + tap] += share }
                        return
                    }
                    let y = values.reduce(0) { $0 + max($1, 0) * $1 } / total
                    for (tap, a) in zip(window.taps, values) where a > 0 {
                        dx[base + tap] += dy * (2 * a - y) / total
                    }
                }
            }
        }
        store(dx, into: &inputGrad)
    }
}
