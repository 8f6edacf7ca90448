extension ReferenceBackend {
    public func pooling(_ problem: PoolingProblem, input: Tensor, output: inout Tensor, indices: inout IndexTensor?) { fatalError("pending") }
}
