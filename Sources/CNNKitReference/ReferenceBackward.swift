import CNNKitCore

/// The reference backend's backward passes: the vector-Jacobian product of every forward operator, as plain loops
/// taken from the definitions (see `ReferenceBackwardConvolution.swift`, `ReferenceBackwardPooling.swift`,
/// `ReferenceBackwardResampling.swift`), accumulating in `Double` and rounding every gradient element to `Float`
/// once. Like the forward passes, preparing decides nothing: the algorithm is `"naive"`, with no workspace.
///
/// Declines (``CNNKitError`` of kind `.unsupported`): a Conv problem with a fused ``ConvolutionActivation`` other
/// than `.none`. Its gradient needs the pre-activation output `b + W ∗ X`, which the backward pass is not given (it
/// is given X and W, not the bias); apply the activation's gradient to dL/dY first (for ReLU, `dY · [y > 0]`; for a
/// clamp, `dY · [min < y < max]`, from the forward output) and take the backward pass of the same convolution
/// planned without the activation.
extension ReferenceBackend {
    public func prepareBackward(_ problem: ConvolutionProblem) throws -> any PreparedWeightedBackward {
        if problem.descriptor.activation != .none {
            throw declining(
                "backward of a convolution with a fused activation (\(problem.descriptor.activation)): apply the "
                    + "activation's gradient to dL/dY first (ReLU: dY·[y > 0]; clamp: dY·[min < y < max], from the forward "
                    + "output) and plan the backward pass of the same convolution with activation .none", problem)
        }
        return WeightedBackward { x, w, dy, dx, dw, db in
            self.convolutionBackward(problem, input: x, weight: w, outputGrad: dy, inputGrad: &dx, weightGrad: &dw, biasGrad: &db)
        }
    }

    public func prepareBackward(_ problem: ConvTransposeProblem) throws -> any PreparedWeightedBackward {
        WeightedBackward { x, w, dy, dx, dw, db in
            self.convTransposeBackward(problem, input: x, weight: w, outputGrad: dy, inputGrad: &dx, weightGrad: &dw, biasGrad: &db)
        }
    }

    public func prepareBackward(_ problem: PoolingProblem) throws -> any PreparedPoolingBackward {
        PoolingBackward { x, dy, dx in self.poolingBackward(problem, input: x, outputGrad: dy, inputGrad: &dx) }
    }

    public func prepareBackward(_ problem: ResizeProblem) throws -> any PreparedUnaryBackward {
        UnaryBackward { dy, dx in self.resizeBackward(problem, outputGrad: dy, inputGrad: &dx) }
    }

    public func prepareBackward(_ problem: PixelShuffleProblem) throws -> any PreparedUnaryBackward {
        UnaryBackward { dy, dx in self.pixelShuffleBackward(problem, outputGrad: dy, inputGrad: &dx) }
    }

    public func prepareBackward(_ problem: Col2ImProblem) throws -> any PreparedUnaryBackward {
        UnaryBackward { dy, dx in self.col2imBackward(problem, outputGrad: dy, inputGrad: &dx) }
    }

    public func prepareBackward(_ problem: MaxUnpoolProblem) throws -> any PreparedMaxUnpoolBackward {
        UnpoolBackward { indices, dy, dx in self.maxUnpoolBackward(problem, indices: indices, outputGrad: dy, inputGrad: &dx) }
    }

    // The prepared forms: a problem bound to its loops.

    struct WeightedBackward: PreparedWeightedBackward {
        let body: @Sendable (Tensor, Tensor, Tensor, inout Tensor?, inout Tensor?, inout Tensor?) -> Void
        var algorithm: String { "naive" }
        var workspaceBytes: Int { 0 }
        func run(input: Tensor, weight: Tensor, outputGrad: Tensor, inputGrad: inout Tensor?, weightGrad: inout Tensor?,
                 biasGrad: inout Tensor?) throws {
            body(input, weight, outputGrad, &inputGrad, &weightGrad, &biasGrad)
        }
    }

    struct PoolingBackward: PreparedPoolingBackward {
        let body: @Sendable (Tensor, Tensor, inout Tensor) -> Void
        var algorithm: String { "naive" }
        var workspaceBytes: Int { 0 }
        func run(input: Tensor, outputGrad: Tensor, inputGrad: inout Tensor) throws { body(input, outputGrad, &inputGrad) }
    }

    struct UnaryBackward: PreparedUnaryBackward {
        let body: @Sendable (Tensor, inout Tensor) -> Void
        var algorithm: String { "naive" }
        var workspaceBytes: Int { 0 }
        func run(outputGrad: Tensor, inputGrad: inout Tensor) throws { body(outputGrad, &inputGrad) }
    }

    struct UnpoolBackward: PreparedMaxUnpoolBackward {
        let body: @Sendable (IndexTensor, Tensor, inout Tensor) -> Void
        var algorithm: String { "naive" }
        var workspaceBytes: Int { 0 }
        func run(indices: IndexTensor, outputGrad: Tensor, inputGrad: inout Tensor) throws { body(indices, outputGrad, &inputGrad) }
    }
}

/// Writes `sums`, rounded once, into every element of `tensor` (same count).
@inline(__always)
func store(_ sums: [Double], into tensor: inout Tensor) {
    for index in sums.indices { tensor.scalars[index] = Float(sums[index]) }
}
