// One-call backward passes: validate, pick a backend that implements the backward pass, run. Each returns the
// gradient of a loss L with respect to the forward inputs given `outputGrad` = dL/dY (the vector-Jacobian product;
// semantics in the DocC article Backward.md). Use the backward plan types to run one problem many times.

/// Convolution backward (ONNX Conv, plus true convolution): the gradients with respect to input, weight and bias.
///
/// - Parameters:
///   - input: the forward input X, `[N, C, L]`, `[N, C, H, W]` or `[N, C, D, H, W]`.
///   - weight: the forward weight W, `[M, C/group, k…]`.
///   - outputGrad: dL/dY, `[N, M, out…]` (the forward output shape).
///   - descriptor: the forward descriptor (its activation must be `.none`).
///   - gradients: which gradients to compute (default all three).
///   - backend: a backend name or `.automatic`.
/// - Returns: dL/dX (shaped like X), dL/dW (like W), dL/dB (`[M]`); nil for a gradient not requested.
/// - Throws: ``CNNKitError`` naming the parameter at fault (see ``ConvolutionProblem``), a shape mismatch of
///   `outputGrad`, or `.unsupported` when no backend runs the backward pass (a fused activation, for instance).
public func convolutionBackward(
    _ input: Tensor, weight: Tensor, outputGrad: Tensor, _ descriptor: ConvolutionDescriptor = .init(),
    gradients: ConvolutionGradients = .all, backend: BackendSelection = .automatic
) throws -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
    let channels = weight.shape.first ?? 0
    return try ConvolutionBackwardPlan(
        descriptor, inputShape: input.shape, weightShape: weight.shape,
        biasShape: gradients.contains(.bias) ? [channels] : nil, gradients: gradients, backend: backend)
        .run(input: input, weight: weight, outputGrad: outputGrad)
}

/// Transposed convolution backward (ONNX ConvTranspose): input `[N, C, …]`, weight `[C, M/group, k…]`, output
/// gradient `[N, M, out…]`.
/// - Returns: dL/dX, dL/dW, dL/dB (`[M]`); nil for a gradient not requested.
/// - Throws: ``CNNKitError`` naming the parameter at fault (see ``ConvTransposeProblem``), a shape mismatch, or
///   `.unsupported` from backend selection.
public func convTransposeBackward(
    _ input: Tensor, weight: Tensor, outputGrad: Tensor, _ descriptor: ConvTransposeDescriptor = .init(),
    gradients: ConvolutionGradients = .all, backend: BackendSelection = .automatic
) throws -> (input: Tensor?, weight: Tensor?, bias: Tensor?) {
    let channels = weight.shape.count > 1 ? weight.shape[1] * descriptor.group : 0
    return try ConvTransposeBackwardPlan(
        descriptor, inputShape: input.shape, weightShape: weight.shape,
        biasShape: gradients.contains(.bias) ? [channels] : nil, gradients: gradients, backend: backend)
        .run(input: input, weight: weight, outputGrad: outputGrad)
}

/// Pooling backward (MaxPool, AveragePool, LpPool, Global*Pool, stochastic pooling): dL/dX `[N, C, spatial…]` from
/// the forward input and dL/dY `[N, C, out…]`.
/// - Throws: ``CNNKitError`` naming the parameter at fault (see ``PoolingProblem``) or a shape mismatch.
public func poolingBackward(
    _ input: Tensor, outputGrad: Tensor, _ descriptor: PoolingDescriptor, backend: BackendSelection = .automatic
) throws -> Tensor {
    try PoolingBackwardPlan(descriptor, inputShape: input.shape, backend: backend).run(input: input, outputGrad: outputGrad)
}

/// Resize backward (ONNX Resize-19): the adjoint of the interpolation, dL/dX of `inputShape` from dL/dY.
/// - Parameters:
///   - outputGrad: dL/dY, the forward output shape.
///   - inputShape: the forward input's shape.
///   - descriptor: the forward descriptor.
///   - backend: a backend name or `.automatic`.
/// - Returns: dL/dX, shaped `inputShape`.
/// - Throws: ``CNNKitError`` naming the parameter at fault (see ``ResizeProblem``) or a shape mismatch.
public func resizeBackward(
    outputGrad: Tensor, inputShape: [Int], _ descriptor: ResizeDescriptor, backend: BackendSelection = .automatic
) throws -> Tensor {
    try ResizeBackwardPlan(descriptor, inputShape: inputShape, backend: backend).run(outputGrad: outputGrad)
}

/// DepthToSpace / SpaceToDepth backward: the inverse permutation of dL/dY, shaped like the forward input.
/// - Throws: ``CNNKitError`` naming the parameter at fault (see ``PixelShuffleProblem``) or a shape mismatch.
public func pixelShuffleBackward(
    outputGrad: Tensor, inputShape: [Int], _ descriptor: PixelShuffleDescriptor, backend: BackendSelection = .automatic
) throws -> Tensor {
    try PixelShuffleBackwardPlan(descriptor, inputShape: inputShape, backend: backend).run(outputGrad: outputGrad)
}

/// Col2Im backward (ONNX Col2Im-18): im2col of dL/dY `[N, C, image…]`, giving `[N, C·Π(block), blocks]`.
/// - Parameters:
///   - outputGrad: dL/dY, `[N, C, image…]`.
///   - inputShape: the forward input's shape `[N, C·Π(block), blocks]`.
///   - descriptor: the forward descriptor.
///   - backend: a backend name or `.automatic`.
/// - Returns: dL/dX, shaped `inputShape`.
/// - Throws: ``CNNKitError`` naming the parameter at fault (see ``Col2ImProblem``) or a shape mismatch.
public func col2imBackward(
    outputGrad: Tensor, inputShape: [Int], _ descriptor: Col2ImDescriptor, backend: BackendSelection = .automatic
) throws -> Tensor {
    try Col2ImBackwardPlan(descriptor, inputShape: inputShape, backend: backend).run(outputGrad: outputGrad)
}

/// MaxUnpool backward (ONNX MaxUnpool-22): `dX[i] = dY` at the position `indices[i]` names; dL/dX has the shape of
/// `indices` (the forward input's).
/// - Throws: ``CNNKitError`` naming the parameter at fault (see ``MaxUnpoolProblem``), a shape mismatch, or an index
///   outside the default unpooled shape.
public func maxUnpoolBackward(
    indices: IndexTensor, outputGrad: Tensor, _ descriptor: MaxUnpoolDescriptor, backend: BackendSelection = .automatic
) throws -> Tensor {
    try MaxUnpoolBackwardPlan(descriptor, inputShape: indices.shape, backend: backend).run(indices: indices, outputGrad: outputGrad)
}

/// Pad backward (ONNX Pad-19): dL/dX, each input position the sum of dL/dY over the output positions that read it
/// (the border positions included), shaped like the forward input.
/// - Throws: ``CNNKitError`` naming the parameter at fault (see ``PadProblem``) or a shape mismatch.
public func padBackward(
    outputGrad: Tensor, inputShape: [Int], _ descriptor: PadDescriptor, backend: BackendSelection = .automatic
) throws -> Tensor {
    try PadBackwardPlan(descriptor, inputShape: inputShape, backend: backend).run(outputGrad: outputGrad)
}

/// Adaptive pooling backward: dL/dX `[N, C, L…]` from the forward input X and dL/dY `[N, C, outputSize…]`.
/// - Throws: ``CNNKitError`` naming the parameter at fault (see ``AdaptivePoolingProblem``) or a shape mismatch.
public func adaptivePoolingBackward(
    _ input: Tensor, outputGrad: Tensor, _ descriptor: AdaptivePoolingDescriptor, backend: BackendSelection = .automatic
) throws -> Tensor {
    try AdaptivePoolingBackwardPlan(descriptor, inputShape: input.shape, backend: backend).run(input: input, outputGrad: outputGrad)
}
