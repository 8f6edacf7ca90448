import CNNKitCore

extension ReferenceBackend {
    public func prepare(_ problem: AdaptivePoolingProblem) throws -> any PreparedPooling {
        Pooling { self.adaptivePooling(problem, input: $0, output: &$1, indices: &$2) }
    }

    public func prepareBackward(_ problem: AdaptivePoolingProblem) throws -> any PreparedPoolingBackward {
        PoolingBackward { x, dy, dx in self.adaptivePoolingBackward(problem, input: x, outputGrad: dy, inputGrad: &dx) }
    }

    /// Adaptive pooling: output `i` of each axis pools `problem.window(axis:index:)`; max keeps the first NaN, else
    /// the first maximum in row-major window order; average divides by the window's element count.
    func adaptivePooling(_ problem: AdaptivePoolingProblem, input: Tensor, output: inout Tensor, indices: inout IndexTensor?) {
        forEachAdaptiveWindow(problem) { outFlat, taps in
            let values = taps.map { Double(input.scalars[$0]) }
            switch problem.descriptor.kind {
            case .max:
                var best = 0
                for (k, value) in values.enumerated() {
                    if value.isNaN { best = k; break }
                    if value > values[best] { best = k }
                }
                output.scalars[outFlat] = Float(values[best])
                indices?.scalars[outFlat] = Int64(taps[best])
            case .average:
                output.scalars[outFlat] = Float(values.reduce(0, +) / Double(values.count))
            }
        }
    }

    /// The adjoint: max sends dL/dY to the element the forward pass selected; average spreads dL/dY / count over the
    /// window. Overlapping windows accumulate.
    func adaptivePoolingBackward(_ problem: AdaptivePoolingProblem, input: Tensor, outputGrad: Tensor, inputGrad: inout Tensor) {
        guard inputGrad.count > 0 else { return }
        var sums = [Double](repeating: 0, count: inputGrad.count)
        forEachAdaptiveWindow(problem) { outFlat, taps in
            let dy = Double(outputGrad.scalars[outFlat])
            switch problem.descriptor.kind {
            case .max:
                var best = 0
                for (k, tap) in taps.enumerated() {
                    if input.scalars[tap].isNaN { best = k; break }
                    if input.scalars[tap] > input.scalars[taps[best]] { best = k }
                }
                sums[taps[best]] += dy
            case .average:
                for tap in taps { sums[tap] += dy / Double(taps.count) }
            }
        }
        for i in sums.indices { inputGrad.scalars[i] = Float(sums[i]) }
    }

    /// Calls `body(o, taps)` for every flat output position with the flat input positions of its window in
    /// row-major order.
    private func forEachAdaptiveWindow(_ problem: AdaptivePoolingProblem, _ body: (Int, [Int]) -> Void) {
        let inSpatial = Array(problem.inputShape.dropFirst(2)), outSpatial = Array(problem.outputShape.dropFirst(2))
        guard let outCount = checkedProduct(problem.outputShape), outCount > 0 else { return }
        let planeIn = inSpatial.reduce(1, *), planeOut = outSpatial.reduce(1, *), rank = inSpatial.count
        for o in 0..<outCount {
            let plane = o / planeOut
            var rest = o % planeOut, position = Array(repeating: 0, count: rank)
            for axis in stride(from: rank - 1, through: 0, by: -1) {
                position[axis] = rest % outSpatial[axis]
                rest /= outSpatial[axis]
            }
            // The window's taps: the Cartesian product of the per-axis ranges, last axis fastest.
            var taps = [0]
            for axis in 0..<rank {
                let range = problem.window(axis: axis, index: position[axis])
                taps = taps.flatMap { base in range.map { base * inSpatial[axis] + $0 } }
            }
            body(o, taps.map { plane * planeIn + $0 })
        }
    }
}
