import CNNKitCore
import Foundation

extension ReferenceBackend {
    /// ONNX Resize-19, separable over every axis: each output element is `Σ Π_axis weight · x[taps]`.
    func resize(_ problem: ResizeProblem, input: Tensor, output: inout Tensor) {
        let rank = problem.inputShape.count
        // Work proportional to the data: an empty output (one huge scale on one axis, 0 on another) builds no
        // tap lists. A non-empty output has a non-empty input (validation), and each axis's list is at most as long
        // as the output.
        guard output.count > 0 else { return }
        let taps = (0..<rank).map { axis in (0..<problem.outputShape[axis]).map { problem.taps(axis: axis, outputIndex: $0) } }
        let inSpace = SpatialIndex(problem.inputShape), outSpace = SpatialIndex(problem.outputShape)
        var o = Array(repeating: 0, count: rank)
        var choice = Array(repeating: 0, count: rank)
        for outFlat in 0..<outSpace.count {
            outSpace.decompose(outFlat, into: &o)
            let lists = (0..<rank).map { taps[$0][o[$0]] }
            guard lists.allSatisfy({ $0 != nil }) else {
                output.scalars[outFlat] = problem.descriptor.extrapolationValue
                continue
            }
            // Odometer over the tensor product of the per-axis tap lists.
            var sum = 0.0
            for axis in 0..<rank { choice[axis] = 0 }
            outer: while true {
                var weight = 1.0, offset = 0
                for axis in 0..<rank {
                    let tap = lists[axis]![choice[axis]]
                    weight *= tap.weight
                    offset += tap.index * inSpace.strides[axis]
                }
                sum += weight * Double(input.scalars[offset])
                var axis = rank - 1
                while axis >= 0 {
                    choice[axis] += 1
                    if choice[axis] < lists[axis]!.count { continue outer }
                    choice[axis] = 0
                    axis -= 1
                }
                break
            }
            output.scalars[outFlat] = Float(sum)
        }
    }

    /// DepthToSpace / SpaceToDepth: `y[n, c, h·b + by, w·b + bx] = x[n, channel(c, by, bx), h, w]` with
    /// channel `(by·b + bx)·C + c` (DCR) or `c·b² + by·b + bx` (CRD); SpaceToDepth is the inverse mapping.
    func pixelShuffle(_ problem: PixelShuffleProblem, input: Tensor, output: inout Tensor) {
        // Work proportional to the data: an empty tensor (e.g. zero width and 2^40 rows) has nothing to move.
        guard output.count > 0 else { return }
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
                                    output.scalars[wideOffset] = input.scalars[deepOffset]
                                } else {
                                    output.scalars[deepOffset] = input.scalars[wideOffset]
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// MaxUnpool: each value goes to the position its index names in `indexSpaceShape`, at the same multi-index in
    /// the output; later inputs (C order) overwrite earlier ones.
    func maxUnpool(_ problem: MaxUnpoolProblem, input: Tensor, indices: IndexTensor, output: inout Tensor) {
        guard output.count > 0, input.count > 0 else { return }
        let space = SpatialIndex(problem.indexSpaceShape), out = SpatialIndex(problem.outputShape)
        var position = Array(repeating: 0, count: problem.outputShape.count)
        for (value, index) in zip(input.scalars, indices.scalars) {
            space.decompose(Int(index), into: &position)
            output.scalars[out.flat(position)] = value
        }
    }
}
