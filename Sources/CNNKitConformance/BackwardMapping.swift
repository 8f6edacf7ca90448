import CNNKit

/// Backward (gradient) cases: the mapped ONNX node's backward pass, run through CNNKit's public backward plans.
///
/// The loss is the format's: `L = Σ_K Σ dY_K·Y_K` over the output slots K that have an `output_grads` entry, so the
/// gradient with respect to input slot K is the vector-Jacobian product `J_Kᵀ·dY` the backward plans compute. Every
/// mapped operator has one differentiable output (slot 0, `Y`); MaxPool's `Indices` (slot 1) carries no gradient.
/// Differentiable inputs: Conv and ConvTranspose X (0), W (1) and, when present, B (2); every other operator its
/// data input 0 (Resize `X`, Col2Im `input`, MaxUnpool `X`, …). Gradients are never taken with respect to shape-like
/// inputs (Resize `roi` / `scales` / `sizes`, Col2Im `image_shape` / `block_shape`, MaxUnpool `I` / `output_shape`,
/// Pad `pads` / `constant_value` / `axes`).
extension ONNXMapping {
    /// The input slots of `mapped` that have a gradient, given which inputs are present.
    public static func differentiableInputSlots(_ mapped: MappedOperator, inputs: [CaseTensor?]) -> Set<Int> {
        switch mapped {
        case .convolution, .convTranspose:
            return inputs.count > 2 && inputs[2] != nil ? [0, 1, 2] : [0, 1]
        case .col2im, .pooling, .resize, .pixelShuffle, .maxUnpool, .pad:
            return [0]
        }
    }

    /// Maps a backward case's node and computes the gradients its `input_grads` asks for.
    /// - Parameters:
    ///   - inputs: the case's inputs (``ConformanceCase/loadInputs(from:)``).
    ///   - outputGrads: dL/dY per output slot (``ConformanceCase/loadOutputGrads(from:)``); a missing or `nil`
    ///     slot 0 contributes nothing to the loss (dY = 0).
    /// - Returns: the gradient of every input slot whose `input_grads` entry is non-nil.
    /// - Throws: ``ConformanceError/unsupported(_:)`` when the node cannot be mapped, when an output other than slot
    ///   0 has a gradient, or when an `input_grads` entry names a slot without a gradient (absent, shape-like or
    ///   beyond the inputs); ``CNNKitError`` when CNNKit rejects the problem or a tensor's shape.
    public static func runBackward(
        _ testCase: ConformanceCase, inputs: [CaseTensor?], outputGrads: [Tensor?], backend: BackendSelection
    ) throws -> [Int: Tensor] {
        let mapped = try map(
            op: testCase.op, opset: testCase.opset, domain: testCase.domain, attributes: testCase.attributes,
            inputs: inputs, outputCount: max(testCase.outputs.count, testCase.outputGrads.count, 1))
        for (slot, gradient) in outputGrads.enumerated() where slot > 0 && gradient != nil {
            throw ConformanceError.unsupported(
                "\(testCase.op): output_grads[\(slot)] is given, but only output 0 (Y) carries a gradient"
                    + (testCase.op == "MaxPool" && slot == 1 ? " (Indices is integer-valued)" : ""))
        }
        let available = differentiableInputSlots(mapped, inputs: inputs)
        var requested = Set<Int>()
        for (slot, entry) in testCase.inputGrads.enumerated() where entry != nil {
            guard available.contains(slot) else {
                let why = slot >= inputs.count ? "the case has only \(inputs.count) input slots"
                    : inputs[slot] == nil ? "input \(slot) is absent"
                    : "input \(slot) is not differentiable here (gradients exist for input\(available.count > 1 ? "s" : "") \(available.sorted().map(String.init).joined(separator: ", ")))"
                throw ConformanceError.unsupported("\(testCase.op): cannot compute input_grads[\(slot)]: \(why)")
            }
            requested.insert(slot)
        }
        return try runBackward(mapped, inputs: inputs, outputGrad: outputGrads.first ?? nil, requested: requested, backend: backend)
    }

    /// Runs the backward pass of a mapped operator.
    /// - Parameters:
    ///   - outputGrad: dL/dY for output slot 0, or nil for dY = 0.
    ///   - requested: the input slots to compute (a subset of ``differentiableInputSlots(_:inputs:)``).
    /// - Returns: one gradient per requested slot.
    /// - Throws: ``ConformanceError/unsupported(_:)`` when a data input is missing or mistyped, and whatever
    ///   ``CNNKitError`` the backward plan throws.
    public static func runBackward(
        _ mapped: MappedOperator, inputs: [CaseTensor?], outputGrad: Tensor?, requested: Set<Int>, backend: BackendSelection
    ) throws -> [Int: Tensor] {
        let x = InputReader(op: mapped.name, opset: 0, tensors: inputs)
        func gradient(_ shape: [Int]) throws -> Tensor {
            try outputGrad ?? Tensor(shape: shape, repeating: 0)
        }
        func weighted() -> ConvolutionGradients {
            var set: ConvolutionGradients = []
            if requested.contains(0) { set.insert(.input) }
            if requested.contains(1) { set.insert(.weight) }
            if requested.contains(2) { set.insert(.bias) }
            return set
        }
        func collect(_ result: (input: Tensor?, weight: Tensor?, bias: Tensor?)) -> [Int: Tensor] {
            var out: [Int: Tensor] = [:]
            if let dx = result.input { out[0] = dx }
            if let dw = result.weight { out[1] = dw }
            if let db = result.bias { out[2] = db }
            return out
        }
        guard !requested.isEmpty else { return [:] }
        switch mapped {
        case .convolution(let descriptor):
            let input = try x.float(0, "X"), weight = try x.float(1, "W"), bias = try x.optionalFloat(2, "B")
            let plan = try ConvolutionBackwardPlan(
                descriptor, inputShape: input.shape, weightShape: weight.shape, biasShape: bias?.shape,
                gradients: weighted(), backend: backend)
            return collect(try plan.run(input: input, weight: weight, outputGrad: try gradient(plan.problem.outputShape)))
        case .convTranspose(let descriptor):
            let input = try x.float(0, "X"), weight = try x.float(1, "W"), bias = try x.optionalFloat(2, "B")
            let plan = try ConvTransposeBackwardPlan(
                descriptor, inputShape: input.shape, weightShape: weight.shape, biasShape: bias?.shape,
                gradients: weighted(), backend: backend)
            return collect(try plan.run(input: input, weight: weight, outputGrad: try gradient(plan.problem.outputShape)))
        case .col2im(let descriptor):
            let plan = try Col2ImBackwardPlan(descriptor, inputShape: try x.float(0, "input").shape, backend: backend)
            return [0: try plan.run(outputGrad: try gradient(plan.problem.outputShape))]
        case .pooling(let descriptor, _):
            let input = try x.float(0, "X")
            let plan = try PoolingBackwardPlan(descriptor, inputShape: input.shape, backend: backend)
            return [0: try plan.run(input: input, outputGrad: try gradient(plan.problem.outputShape))]
        case .resize(let descriptor):
            let plan = try ResizeBackwardPlan(descriptor, inputShape: try x.float(0, "X").shape, backend: backend)
            return [0: try plan.run(outputGrad: try gradient(plan.problem.outputShape))]
        case .pixelShuffle(let descriptor):
            let plan = try PixelShuffleBackwardPlan(descriptor, inputShape: try x.float(0, "input").shape, backend: backend)
            return [0: try plan.run(outputGrad: try gradient(plan.problem.outputShape))]
        case .maxUnpool(let descriptor):
            let input = try x.float(0, "X"), indices = try x.int64(1, "I")
            let plan = try MaxUnpoolBackwardPlan(descriptor, inputShape: input.shape, backend: backend)
            return [0: try plan.run(indices: indices, outputGrad: try gradient(plan.problem.outputShape))]
        case .pad(let descriptor):
            let plan = try PadBackwardPlan(descriptor, inputShape: try x.float(0, "data").shape, backend: backend)
            return [0: try plan.run(outputGrad: try gradient(plan.problem.outputShape))]
        }
    }
}
