/// The prepared forms of the backward passes.
///
/// Every backward pass is the vector-Jacobian product of its forward operator: given `outputGrad` = dL/dY for a
/// loss L, it returns dL/dX (and for Conv / ConvTranspose dL/dW and dL/dB), the gradients backpropagation needs.
/// Operators that are linear in an input (Conv in X for fixed W and in W for fixed X, average pooling, Resize,
/// DepthToSpace, MaxUnpool, Col2Im) have the transposed operator as their gradient; max pooling sends each dL/dY
/// to the element the forward `Indices` names (the first maximum in row-major window order), summing where
/// windows overlap; stochastic pooling in training mode sends it to the sampled element (the same seed gives the
/// same samples); Lp pooling uses `sign(x)·|x|^(p−1)·(Σ|x|^p)^(1/p−1)`. Shapes are the forward problem's: an
/// input gradient has the input's shape, an output gradient the output's.

/// A prepared Conv or ConvTranspose backward pass.
public protocol PreparedWeightedBackward: PreparedOperator {
    /// Computes the requested gradients from the forward input `X`, weight `W` and `outputGrad` = dL/dY.
    /// Each of `inputGrad` (shaped like X), `weightGrad` (like W) and `biasGrad` (`[M]`) is computed when non-nil
    /// and left alone when nil; every element of a requested gradient is written (not accumulated).
    /// - Throws: ``CNNKitError`` when scratch memory cannot be allocated.
    func run(input: Tensor, weight: Tensor, outputGrad: Tensor, inputGrad: inout Tensor?, weightGrad: inout Tensor?,
             biasGrad: inout Tensor?) throws
}

/// A prepared pooling backward pass.
public protocol PreparedPoolingBackward: PreparedOperator {
    /// dL/dX (shaped like X) from the forward input X and `outputGrad` = dL/dY; every element is written.
    /// - Throws: ``CNNKitError`` when scratch memory cannot be allocated.
    func run(input: Tensor, outputGrad: Tensor, inputGrad: inout Tensor) throws
}

/// A prepared backward pass of an operator that is linear in its one input (Resize, DepthToSpace / SpaceToDepth,
/// Col2Im): dL/dX = Jᵀ · dL/dY, independent of X.
public protocol PreparedUnaryBackward: PreparedOperator {
    /// dL/dX (shaped like the forward input) from `outputGrad`; every element is written.
    /// - Throws: ``CNNKitError`` when scratch memory cannot be allocated.
    func run(outputGrad: Tensor, inputGrad: inout Tensor) throws
}

/// A prepared MaxUnpool backward pass: dL/dX[i] = dL/dY at the position `indices[i]` names.
public protocol PreparedMaxUnpoolBackward: PreparedOperator {
    /// Every index lies in `[0, Π problem.indexSpaceShape)` (checked by the plan); every element is written.
    /// - Throws: ``CNNKitError`` when scratch memory cannot be allocated.
    func run(indices: IndexTensor, outputGrad: Tensor, inputGrad: inout Tensor) throws
}
