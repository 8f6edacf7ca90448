extension ReferenceBackend {
    public func convolution(_ problem: ConvolutionProblem, input: Tensor, weight: Tensor, bias: Tensor?, output: inout Tensor) { fatalError("pending") }
    public func convTranspose(_ problem: ConvTransposeProblem, input: Tensor, weight: Tensor, bias: Tensor?, output: inout Tensor) { fatalError("pending") }
    public func col2im(_ problem: Col2ImProblem, input: Tensor, output: inout Tensor) { fatalError("pending") }
}
