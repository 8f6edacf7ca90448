import CNNKitCore

extension ReferenceBackend {
    public func prepare(_ problem: PadProblem) throws -> any PreparedUnaryOperator {
        Unary { self.pad(problem, input: $0, output: &$1) }
    }

    public func prepareBackward(_ problem: PadProblem) throws -> any PreparedUnaryBackward {
        // Double sums over the input gradient.
        UnaryBackward { dy, dx in self.padBackward(problem, outputGrad: dy, inputGrad: &dx) }
    }

    /// Pad (ONNX Pad-19): per axis, output position o reads `start + m(o − begin)` with m =
    /// ``BorderMode/sourceIndex(_:extent:)`` over the cropped extent; the constant value where any axis has no source.
    func pad(_ problem: PadProblem, input: Tensor, output: inout Tensor) {
        let value = problem.descriptor.constantValue
        forEachSource(problem) { o, source in output.scalars[o] = source.map { input.scalars[$0] } ?? value }
    }

    /// The adjoint of Pad: `dx[i] = Σ dy[o]` over the output positions o that read input position i.
    func padBackward(_ problem: PadProblem, outputGrad: Tensor, inputGrad: inout Tensor) {
        guard inputGrad.count > 0 else { return }
        var sums = [Double](repeating: 0, count: inputGrad.count)
        forEachSource(problem) { o, source in
            if let i = source { sums[i] += Double(outputGrad.scalars[o]) }
        }
        for i in sums.indices { inputGrad.scalars[i] = Float(sums[i]) }
    }

    /// Calls `body(o, i)` for every flat output position o in C order with the flat input position it reads (nil =
    /// the constant).
    private func forEachSource(_ problem: PadProblem, _ body: (Int, Int?) -> Void) {
        let out = problem.outputShape, shape = problem.inputShape, rank = out.count
        guard let count = checkedProduct(out), count > 0 else { return }
        var strides = Array(repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        var position = Array(repeating: 0, count: rank)
        for o in 0..<count {
            var flat: Int? = 0
            for axis in 0..<rank {
                let kept = problem.extent[axis]
                if kept > 0, let i = problem.descriptor.mode.sourceIndex(position[axis] - problem.begin[axis], extent: kept) {
                    flat = flat.map { $0 + (problem.start[axis] + i) * strides[axis] }
                } else {
                    flat = nil
                }
            }
            body(o, flat)
            // Next position in C order.
            var axis = rank - 1
            while axis >= 0 {
                position[axis] += 1
                if position[axis] < out[axis] { break }
                position[axis] = 0
                axis -= 1
            }
        }
    }
}
