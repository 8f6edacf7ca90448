import CNNKitCore

// Convolution with a non-constant border (reflect, symmetric, edge, wrap): by definition a Pad of the input with
// that mode followed by the same convolution without padding, and that is how it runs here — the padded input is
// one workspace tensor per run, then every algorithm of the zero-border path applies unchanged. The backward pass
// composes the same way: the unpadded convolution's gradients on the padded input, then the Pad adjoint folds
// dL/dX_padded back onto the input.
extension CBackend {
    /// The Pad and the padding-free convolution that together compute `problem`.
    func borderParts(_ problem: ConvolutionProblem) throws -> (pad: PadProblem, valid: ConvolutionProblem) {
        let g = problem.geometry
        let pad = try PadProblem(
            descriptor: PadDescriptor(mode: problem.descriptor.border, pads: [0, 0] + g.padBegin + [0, 0] + g.padEnd),
            inputShape: problem.inputShape)
        var descriptor = problem.descriptor
        (descriptor.pads, descriptor.autoPad, descriptor.border) = ([], .notSet, .constant)
        let valid = try ConvolutionProblem(
            descriptor: descriptor, inputShape: pad.outputShape, weightShape: problem.weightShape,
            biasShape: problem.hasBias ? [problem.outputChannels] : nil)
        return (pad, valid)
    }

    func prepareBordered(_ problem: ConvolutionProblem, _ constants: ConvolutionConstants) throws -> any PreparedWeightedOperator {
        let (padProblem, valid) = try borderParts(problem)
        let padding = try prepare(padProblem), inner = try prepare(valid, constants: constants)
        let padded = padProblem.outputShape
        return BorderedConvolution(
            algorithm: "\(inner.algorithm)+pad_\(problem.descriptor.border.rawValue)",
            workspaceBytes: saturatingAdd(inner.workspaceBytes, saturatingMultiply(saturatingProduct(padded), 4)),
            holdsWeights: inner.holdsWeights
        ) { input, weight, bias, output in
            var x = try uninitializedTensor(padded)
            try padding.run(input: input, output: &x)
            try inner.run(input: x, weight: weight, bias: bias, output: &output)
        }
    }

    func prepareBorderedBackward(_ problem: ConvolutionProblem) throws -> any PreparedWeightedBackward {
        let (padProblem, valid) = try borderParts(problem)
        let padding = try prepare(padProblem), unpadding = try prepareBackward(padProblem)
        let inner = try prepareBackward(valid)
        let padded = padProblem.outputShape, bytes = saturatingMultiply(saturatingProduct(padded), 4)
        return CPreparedBackward(
            algorithm: "\(inner.algorithm)+pad_\(problem.descriptor.border.rawValue)",
            workspace: saturatingAdd(inner.workspaceBytes, saturatingMultiply(bytes, 2))
        ) { input, weight, outputGrad, inputGrad, weightGrad, biasGrad in
            var x = try uninitializedTensor(padded)
            try padding.run(input: input, output: &x)
            var paddedGrad: Tensor? = inputGrad == nil ? nil : try Tensor(shape: padded)
            try inner.run(input: x, weight: weight, outputGrad: outputGrad, inputGrad: &paddedGrad, weightGrad: &weightGrad,
                          biasGrad: &biasGrad)
            if let paddedGrad { try unpadding.run(outputGrad: paddedGrad, inputGrad: &inputGrad!) }
        }
    }
}

/// A tensor of `shape` whose elements the caller writes before reading (the Pad kernel writes every one): no fill
/// pass over the padded copy.
func uninitializedTensor(_ shape: [Int]) throws -> Tensor {
    let count = try Tensor.elementCount(of: shape, parameter: "padded input")
    try MemoryBudget.require(elements: count, of: Float.self, for: "the padded input \(shape)")
    return Tensor(validatedShape: shape, scalars: [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count })
}

/// A convolution run as Pad + the padding-free convolution (``CBackend/prepareBordered(_:_:)``).
struct BorderedConvolution: PreparedWeightedOperator {
    let algorithm: String
    let workspaceBytes: Int
    let holdsWeights: Bool
    let body: @Sendable (Tensor, Tensor?, Tensor?, inout Tensor) throws -> Void

    func run(input: Tensor, weight: Tensor?, bias: Tensor?, output: inout Tensor) throws {
        guard !output.scalars.isEmpty else { return }
        try body(input, weight, bias, &output)
    }
}
