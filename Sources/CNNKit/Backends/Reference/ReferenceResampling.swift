extension ReferenceBackend {
    public func resize(_ problem: ResizeProblem, input: Tensor, output: inout Tensor) { fatalError("pending") }
    public func pixelShuffle(_ problem: PixelShuffleProblem, input: Tensor, output: inout Tensor) { fatalError("pending") }
    public func maxUnpool(_ problem: MaxUnpoolProblem, input: Tensor, indices: IndexTensor, output: inout Tensor) { fatalError("pending") }
}
