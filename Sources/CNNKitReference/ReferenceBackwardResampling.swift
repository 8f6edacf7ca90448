import CNNKitCore

extension ReferenceBackend {
    /// Resize backward, the adjoint of the forward: every output element's dY is spread over the input taps it
    /// read, `dX[taps] += dY · Π_axis weight`, with the taps of ``ResizeProblem/taps(axis:outputIndex:)`` (the one
    /// filter definition: nearest, linear, cubic, every coordinate mode, antialias, exclude_outside, edge clamping —
    /// clamped taps add up on the edge element). An output set to the extrapolation value (`tf_crop_and_resize`
    /// outside the input) passes nothing.
    func resizeBackward(_ problem: ResizeProblem, outputGrad: Tensor, inputGrad: inout Tensor) {
        let rank = problem.inputShape.count
        let taps = (0..<rank).map { axis in (0..<problem.outputShape[axis]).map { problem.taps(axis: axis, outputIndex: $0) } }
        let inSpace = SpatialIndex(problem.inputShape), outSpace = SpatialIndex(problem.outputShape)
        var dx = [Double](repeating: 0, count: inSpace.count)
        var o = Array(repeating: 0, count: rank)
        var choice = Array(repeating: 0, count: rank)
        for outFlat in 0..<outSpace.count {
            outSpace.decompose(outFlat, into: &o)
            let lists = (0..<rank).map { taps[$0][o[$0]] }
            guard lists.allSatisfy({ $0 != nil && !$0!.isEmpty }) else { continue }
            let dy = Double(outputGrad.scalars[outFlat])
            // Odometer over the tensor product of the per-axis tap lists, as in the forward pass.
            for axis in 0..<rank { choice[axis] = 0 }
            outer: while true {
                var weight = 1.0, offset = 0
                for axis in 0..<rank {
                    let tap = lists[axis]![choice[axis]]
                    weight *= tap.weight
                    offset += tap.index * inSpace.strides[axis]
                }
                dx[offset] += weight * dy
                var axis = rank - 1
                while axis >= 0 {
                    choice[axis] += 1
                    if choice[axis] < lists[axis]!.count { continue outer }
                    choice[axis] = 0
                    axis -= 1
                }
                break
            }
        }
        store(dx, into: &inputGrad)
    }

    /// DepthToSpace / SpaceToDepth backward: the inverse permutation, `dX[deep] = dY[wide]` for DepthToSpace and
    /// `dX[wide] = dY[deep]` for SpaceToDepth, with the forward's channel order (DCR or CRD).
    func pixelShuffleBackward(_ problem: PixelShuffleProblem, outputGrad: Tensor, inputGrad: inout Tensor) {
        let b = problem.descriptor.blockSize
        let depthToSpace = problem.descriptor.direction == .depthToSpace
        let deep = depthToSpace ? problem.inputShape : problem.outputShape
        let (batch, depth, height, width) = (deep[0], deep[1], deep[2], deep[3])
        let channels = depth / (b * b)
        for n in 0..<batch {
            for c in 0..<channels {
                for by in 0..<b {
                    for bx in 0..<b {
                        let channel = problem.descriptor.mode == .dcr ? (by * b + bx) * channels + c : c * b * b + by * b + bx
                        for h in 0..<height {
                            for w in 0..<width {
                                let deepOffset = ((n * depth + channel) * height + h) * width + w
                                let wideOffset = ((n * channels + c) * height * b + h * b + by) * width * b + w * b + bx
                                if depthToSpace {
                                    inputGrad.scalars[deepOffset] = outputGrad.scalars[wideOffset]
                                } else {
                                    inputGrad.scalars[wideOffset] = outputGrad.scalars[deepOffset]
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// MaxUnpool backward: `dX[i] = dY` at the position index `i` names (read in `indexSpaceShape`, placed at the
    /// same multi-index of the output, as the forward does). With duplicate indices the forward keeps only the last
    /// write, but every input naming the position receives its dY: the gradient of the forward's kept value is exact,
    /// the others' is the convention PyTorch's `max_unpool` backward (a gather) follows too.
    func maxUnpoolBackward(_ problem: MaxUnpoolProblem, indices: IndexTensor, outputGrad: Tensor, inputGrad: inout Tensor) {
        let space = SpatialIndex(problem.indexSpaceShape), out = SpatialIndex(problem.outputShape)
        var position = Array(repeating: 0, count: problem.outputShape.count)
        for (i, index) in indices.scalars.enumerated() {
            space.decompose(Int(index), into: &position)
            inputGrad.scalars[i] = outputGrad.scalars[out.flat(position)]
        }
    }
}
