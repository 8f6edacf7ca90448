import CNNKitCore
import Foundation

/// The input taps (index, weight) one output coordinate of one axis reads, or `nil` where `tf_crop_and_resize`
/// maps it outside the input.
typealias AxisTaps = [(index: Int, weight: Double)]?

extension ReferenceBackend {
    /// ONNX Resize-19, separable over every axis: each output element is `Σ Π_axis weight · x[taps]`.
    func resize(_ problem: ResizeProblem, input: Tensor, output: inout Tensor) {
        let rank = problem.inputShape.count
        let taps = (0..<rank).map { axis in (0..<problem.outputShape[axis]).map { resizeTaps(problem, axis: axis, x: $0) } }
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

    /// Taps of one output coordinate: nearest rounding, or the linear (triangle) / cubic (Keys) filter evaluated at
    /// `(i − x)·s'`, where `s' = scale` when antialiasing a downscale and 1 otherwise.
    func resizeTaps(_ problem: ResizeProblem, axis: Int, x: Int) -> AxisTaps {
        let d = problem.descriptor
        let length = problem.inputShape[axis]
        let coordinate = problem.sourceCoordinate(axis: axis, outputIndex: x)
        if d.coordinateTransformation == .tfCropAndResize && (coordinate < 0 || coordinate > Double(length - 1)) {
            return nil
        }
        let clamp = { (i: Int) in min(max(i, 0), length - 1) }
        if d.mode == .nearest {
            return [(clamp(Int(d.nearestMode.round(coordinate))), 1)]
        }
        let support = d.mode == .linear ? 1.0 : 2.0
        let filterScale = d.antialias ? min(problem.scales[axis], 1) : 1
        let radius = support / filterScale
        var taps: [(index: Int, weight: Double)] = []
        for i in Int((coordinate - radius).rounded(.down))...Int((coordinate + radius).rounded(.up)) {
            let weight = filter(d, (Double(i) - coordinate) * filterScale)
            guard weight != 0 else { continue }
            if d.excludeOutside && (i < 0 || i >= length) { continue }
            taps.append((i, weight))
        }
        if d.antialias || d.excludeOutside {
            let total = taps.reduce(0) { $0 + $1.weight }
            if total != 0 { taps = taps.map { ($0.index, $0.weight / total) } }
        }
        return taps.map { (clamp($0.index), $0.weight) }
    }

    /// Triangle filter (linear) or Keys cubic convolution kernel with coefficient `a`.
    private func filter(_ d: ResizeDescriptor, _ u: Double) -> Double {
        let t = abs(u)
        if d.mode == .linear { return max(0, 1 - t) }
        let a = Double(d.cubicCoefficientA)
        if t <= 1 { return ((a + 2) * t - (a + 3)) * t * t + 1 }
        if t < 2 { return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a }
        return 0
    }

    /// DepthToSpace / SpaceToDepth: `y[n, c, h·b + by, w·b + bx] = x[n, channel(c, by, bx), h, w]` with
    /// channel `(by·b + bx)·C + c` (DCR) or `c·b² + by·b + bx` (CRD); SpaceToDepth is the inverse mapping.
    func pixelShuffle(_ problem: PixelShuffleProblem, input: Tensor, output: inout Tensor) {
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
        let space = SpatialIndex(problem.indexSpaceShape), out = SpatialIndex(problem.outputShape)
        var position = Array(repeating: 0, count: problem.outputShape.count)
        for (value, index) in zip(input.scalars, indices.scalars) {
            space.decompose(Int(index), into: &position)
            output.scalars[out.flat(position)] = value
        }
    }
}
