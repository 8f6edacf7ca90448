/// One-call entry points: validate, pick a backend, run. Use the plan types to run one problem many times.

/// Convolution (ONNX Conv-11…22, plus ``ConvolutionMode/convolution`` for true convolution).
///
/// - Parameters:
///   - input: `[N, C, L]`, `[N, C, H, W]` or `[N, C, D, H, W]`.
///   - weight: `[M, C/group, k…]`, same rank as `input`.
///   - bias: `[M]` or `nil`.
///   - descriptor: strides, pads, dilations, group, mode (defaults: ONNX defaults, cross-correlation).
///   - backend: a backend name or `.automatic`.
/// - Returns: `[N, M, out…]`.
/// - Throws: ``CNNKitError`` naming the parameter at fault (see ``ConvolutionProblem``).
public func convolution(
    _ input: Tensor, weight: Tensor, bias: Tensor? = nil, _ descriptor: ConvolutionDescriptor = .init(),
    backend: BackendSelection = .automatic
) throws -> Tensor {
    try ConvolutionPlan(descriptor, inputShape: input.shape, weightShape: weight.shape, biasShape: bias?.shape, backend: backend)
        .run(input: input, weight: weight, bias: bias)
}

/// Transposed convolution (ONNX ConvTranspose-11…22): input `[N, C, …]`, weight `[C, M/group, k…]`, bias `[M]`.
/// - Throws: ``CNNKitError`` naming the parameter at fault (see ``ConvTransposeProblem``).
public func convTranspose(
    _ input: Tensor, weight: Tensor, bias: Tensor? = nil, _ descriptor: ConvTransposeDescriptor = .init(),
    backend: BackendSelection = .automatic
) throws -> Tensor {
    try ConvTransposePlan(descriptor, inputShape: input.shape, weightShape: weight.shape, biasShape: bias?.shape, backend: backend)
        .run(input: input, weight: weight, bias: bias)
}

/// Col2Im (ONNX Col2Im-18): `[N, C·Π(block), blocks]` → `[N, C, image…]`, overlapping blocks summed.
/// - Throws: ``CNNKitError`` naming the parameter at fault (see ``Col2ImProblem``).
public func col2im(_ input: Tensor, _ descriptor: Col2ImDescriptor, backend: BackendSelection = .automatic) throws -> Tensor {
    try Col2ImPlan(descriptor, inputShape: input.shape, backend: backend).run(input: input)
}

/// Pooling (ONNX MaxPool-12, AveragePool-19, LpPool-18, Global*Pool, stochastic pooling): `[N, C, …]` → `[N, C, out…]`.
/// - Throws: ``CNNKitError`` naming the parameter at fault (see ``PoolingProblem``).
public func pooling(_ input: Tensor, _ descriptor: PoolingDescriptor, backend: BackendSelection = .automatic) throws -> Tensor {
    try PoolingPlan(descriptor, inputShape: input.shape, backend: backend).run(input: input)
}

/// Max (or stochastic) pooling with the ONNX MaxPool `Indices` output.
/// - Throws: ``CNNKitError`` naming the parameter at fault, or when the kind has no indices.
public func poolingWithIndices(
    _ input: Tensor, _ descriptor: PoolingDescriptor, backend: BackendSelection = .automatic
) throws -> (output: Tensor, indices: IndexTensor) {
    try PoolingPlan(descriptor, inputShape: input.shape, backend: backend).runWithIndices(input: input)
}

/// Resize (ONNX Resize-19): nearest, (bi/tri)linear or cubic interpolation with every coordinate mode.
/// - Throws: ``CNNKitError`` naming the parameter at fault (see ``ResizeProblem``).
public func resize(_ input: Tensor, _ descriptor: ResizeDescriptor, backend: BackendSelection = .automatic) throws -> Tensor {
    try ResizePlan(descriptor, inputShape: input.shape, backend: backend).run(input: input)
}

/// DepthToSpace or SpaceToDepth (ONNX -13 / -28) on `[N, C, H, W]`.
/// - Throws: ``CNNKitError`` naming the parameter at fault (see ``PixelShuffleProblem``).
public func pixelShuffle(_ input: Tensor, _ descriptor: PixelShuffleDescriptor, backend: BackendSelection = .automatic) throws -> Tensor {
    try PixelShufflePlan(descriptor, inputShape: input.shape, backend: backend).run(input: input)
}

/// MaxUnpool (ONNX MaxUnpool-22): scatters `input` to the flat positions in `indices` (as MaxPool reports them).
/// - Throws: ``CNNKitError`` naming the parameter at fault (see ``MaxUnpoolProblem``), when `indices` is not
///   shaped like `input`, or when an index lies outside the default unpooled shape.
public func maxUnpool(
    _ input: Tensor, indices: IndexTensor, _ descriptor: MaxUnpoolDescriptor, backend: BackendSelection = .automatic
) throws -> Tensor {
    try MaxUnpoolPlan(descriptor, inputShape: input.shape, backend: backend).run(input: input, indices: indices)
}

/// Pad (ONNX Pad-19): constant, reflect, edge or wrap padding (plus symmetric) of any axes; negative pads crop.
///
/// Shapes: any rank; output extent `d + begin + end` per padded axis.
/// - Throws: ``CNNKitError`` naming the parameter at fault (see ``PadProblem``).
public func pad(_ input: Tensor, _ descriptor: PadDescriptor, backend: BackendSelection = .automatic) throws -> Tensor {
    try PadPlan(descriptor, inputShape: input.shape, backend: backend).run(input: input)
}

/// Adaptive max or average pooling (PyTorch `AdaptiveMaxPool1d/2d/3d`, `AdaptiveAvgPool1d/2d/3d`): `[N, C, L…]` →
/// `[N, C, outputSize…]`, output i of an axis pooling `[⌊i·L/out⌋, ⌈(i+1)·L/out⌉)`.
/// - Throws: ``CNNKitError`` naming the parameter at fault (see ``AdaptivePoolingProblem``).
public func adaptivePooling(
    _ input: Tensor, _ descriptor: AdaptivePoolingDescriptor, backend: BackendSelection = .automatic
) throws -> Tensor {
    try AdaptivePoolingPlan(descriptor, inputShape: input.shape, backend: backend).run(input: input)
}

/// Adaptive max pooling with argmax indices: flat input positions `((n·C + c)·H + h)·W + w`, as MaxPool's (PyTorch's
/// `return_indices=True` counts within each plane instead).
/// - Throws: ``CNNKitError`` naming the parameter at fault, or when the kind is average (it has no indices).
public func adaptivePoolingWithIndices(
    _ input: Tensor, _ descriptor: AdaptivePoolingDescriptor, backend: BackendSelection = .automatic
) throws -> (output: Tensor, indices: IndexTensor) {
    try AdaptivePoolingPlan(descriptor, inputShape: input.shape, backend: backend).runWithIndices(input: input)
}
