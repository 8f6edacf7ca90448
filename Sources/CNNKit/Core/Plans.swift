/// Plans: a validated problem bound to the backend that runs it.
///
/// Building a plan validates the descriptor against the shapes, infers the output shape and picks the backend;
/// all of that may throw. Running a plan checks only that the tensors have the planned shapes, then executes
/// without further failure modes (oneDNN's primitive descriptor → primitive, XNNPACK's create → run).

func requireShape<S>(_ tensor: DenseTensor<S>, _ expected: [Int], _ name: String, problem: String) throws {
    guard tensor.shape == expected else {
        throw CNNKitError(kind: .shapeMismatch, parameter: name, value: "\(tensor.shape)", expected: "\(expected) as planned", problem: problem)
    }
}

/// A bias is given exactly when one was planned, shaped `[channels]`.
func requireBias(_ bias: Tensor?, planned: Bool, channels: Int, problem: String) throws {
    if planned != (bias != nil) {
        throw CNNKitError(
            kind: .shapeMismatch, parameter: "bias", value: bias.map { "\($0.shape)" } ?? "nil",
            expected: planned ? "a bias [\(channels)] as planned" : "no bias, as planned", problem: problem)
    }
    if let bias { try requireShape(bias, [channels], "bias.shape", problem: problem) }
}

/// A convolution (ONNX Conv) ready to run.
public struct ConvolutionPlan: Sendable {
    public let problem: ConvolutionProblem
    public let backend: any ConvolutionBackend

    /// - Throws: ``CNNKitError`` from ``ConvolutionProblem/init(descriptor:inputShape:weightShape:biasShape:)`` or
    ///   from backend selection.
    public init(
        _ descriptor: ConvolutionDescriptor, inputShape: [Int], weightShape: [Int], biasShape: [Int]? = nil,
        backend: BackendSelection = .automatic, registry: BackendRegistry = .shared
    ) throws {
        let problem = try ConvolutionProblem(descriptor: descriptor, inputShape: inputShape, weightShape: weightShape, biasShape: biasShape)
        self.problem = problem
        self.backend = try registry.select(backend, as: (any ConvolutionBackend).self, problem: problem.description) {
            $0.support(for: problem)
        }
    }

    /// Runs into a preallocated output of `problem.outputShape`.
    /// - Throws: ``CNNKitError`` when a tensor's shape differs from the plan.
    public func run(input: Tensor, weight: Tensor, bias: Tensor? = nil, into output: inout Tensor) throws {
        let text = problem.description
        try requireShape(input, problem.inputShape, "input.shape", problem: text)
        try requireShape(weight, problem.weightShape, "weight.shape", problem: text)
        try requireShape(output, problem.outputShape, "output.shape", problem: text)
        try requireBias(bias, planned: problem.hasBias, channels: problem.outputChannels, problem: text)
        backend.convolution(problem, input: input, weight: weight, bias: bias, output: &output)
    }

    /// Runs and returns a new output tensor `[N, M, out…]`.
    public func run(input: Tensor, weight: Tensor, bias: Tensor? = nil) throws -> Tensor {
        var output = Tensor(validatedShape: problem.outputShape, scalars: [Float](repeating: 0, count: problem.outputShape.reduce(1, *)))
        try run(input: input, weight: weight, bias: bias, into: &output)
        return output
    }
}

/// A transposed convolution (ONNX ConvTranspose) ready to run.
public struct ConvTransposePlan: Sendable {
    public let problem: ConvTransposeProblem
    public let backend: any ConvolutionBackend

    /// - Throws: ``CNNKitError`` from validation or backend selection.
    public init(
        _ descriptor: ConvTransposeDescriptor, inputShape: [Int], weightShape: [Int], biasShape: [Int]? = nil,
        backend: BackendSelection = .automatic, registry: BackendRegistry = .shared
    ) throws {
        let problem = try ConvTransposeProblem(descriptor: descriptor, inputShape: inputShape, weightShape: weightShape, biasShape: biasShape)
        self.problem = problem
        self.backend = try registry.select(backend, as: (any ConvolutionBackend).self, problem: problem.description) {
            $0.support(for: problem)
        }
    }

    /// Runs and returns `[N, M, out…]`.
    /// - Throws: ``CNNKitError`` when a tensor's shape differs from the plan.
    public func run(input: Tensor, weight: Tensor, bias: Tensor? = nil) throws -> Tensor {
        let text = problem.description
        try requireShape(input, problem.inputShape, "input.shape", problem: text)
        try requireShape(weight, problem.weightShape, "weight.shape", problem: text)
        try requireBias(bias, planned: problem.hasBias, channels: problem.outputChannels, problem: text)
        var output = Tensor(validatedShape: problem.outputShape, scalars: [Float](repeating: 0, count: problem.outputShape.reduce(1, *)))
        backend.convTranspose(problem, input: input, weight: weight, bias: bias, output: &output)
        return output
    }
}

/// A pooling operator ready to run.
public struct PoolingPlan: Sendable {
    public let problem: PoolingProblem
    public let backend: any PoolingBackend

    /// - Throws: ``CNNKitError`` from validation or backend selection.
    public init(_ descriptor: PoolingDescriptor, inputShape: [Int], backend: BackendSelection = .automatic, registry: BackendRegistry = .shared) throws {
        let problem = try PoolingProblem(descriptor: descriptor, inputShape: inputShape)
        self.problem = problem
        self.backend = try registry.select(backend, as: (any PoolingBackend).self, problem: problem.description) {
            $0.support(for: problem)
        }
    }

    /// Runs into a preallocated output (and, if non-nil, indices) of `problem.outputShape`.
    /// - Throws: ``CNNKitError`` when a shape differs from the plan or indices are requested from a kind that has none.
    public func run(input: Tensor, into output: inout Tensor, indices: inout IndexTensor?) throws {
        let text = problem.description
        try requireShape(input, problem.inputShape, "input.shape", problem: text)
        try requireShape(output, problem.outputShape, "output.shape", problem: text)
        if let given = indices {
            guard problem.descriptor.producesIndices else {
                throw CNNKitError(
                    kind: .invalidArgument, parameter: "indices", value: "requested",
                    expected: "no indices for \(problem.descriptor.kind.canonicalName) pooling (only max and stochastic have them)", problem: text)
            }
            try requireShape(given, problem.outputShape, "indices.shape", problem: text)
        }
        backend.pooling(problem, input: input, output: &output, indices: &indices)
    }

    /// Runs and returns `[N, C, out…]`.
    public func run(input: Tensor) throws -> Tensor {
        var output = Tensor(validatedShape: problem.outputShape, scalars: [Float](repeating: 0, count: problem.outputShape.reduce(1, *)))
        var none: IndexTensor? = nil
        try run(input: input, into: &output, indices: &none)
        return output
    }

    /// Runs and returns the output and the argmax indices (flat positions in the input, see ``StorageOrder``).
    public func runWithIndices(input: Tensor) throws -> (output: Tensor, indices: IndexTensor) {
        let count = problem.outputShape.reduce(1, *)
        var output = Tensor(validatedShape: problem.outputShape, scalars: [Float](repeating: 0, count: count))
        var indices: IndexTensor? = IndexTensor(validatedShape: problem.outputShape, scalars: [Int64](repeating: 0, count: count))
        try run(input: input, into: &output, indices: &indices)
        return (output, indices!)
    }
}

/// A resize (ONNX Resize-19) ready to run.
public struct ResizePlan: Sendable {
    public let problem: ResizeProblem
    public let backend: any ResamplingBackend

    /// - Throws: ``CNNKitError`` from validation or backend selection.
    public init(_ descriptor: ResizeDescriptor, inputShape: [Int], backend: BackendSelection = .automatic, registry: BackendRegistry = .shared) throws {
        let problem = try ResizeProblem(descriptor: descriptor, inputShape: inputShape)
        self.problem = problem
        self.backend = try registry.select(backend, as: (any ResamplingBackend).self, problem: problem.description) {
            $0.support(for: problem)
        }
    }

    /// Runs into a preallocated output of `problem.outputShape`.
    public func run(input: Tensor, into output: inout Tensor) throws {
        try requireShape(input, problem.inputShape, "input.shape", problem: problem.description)
        try requireShape(output, problem.outputShape, "output.shape", problem: problem.description)
        backend.resize(problem, input: input, output: &output)
    }

    /// Runs and returns the resized tensor.
    public func run(input: Tensor) throws -> Tensor {
        var output = Tensor(validatedShape: problem.outputShape, scalars: [Float](repeating: 0, count: problem.outputShape.reduce(1, *)))
        try run(input: input, into: &output)
        return output
    }
}
