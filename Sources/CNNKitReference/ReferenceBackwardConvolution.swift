import CNNKitCore

extension ReferenceBackend {
    /// Conv backward, from `y[n, m, o] = b[m] + Σ_{ci, k} x[n, g·C/G + ci, o·s + k·d − pb] · w[m, ci, k']` (`k' = k`
    /// for cross-correlation, `K − 1 − k` for true convolution; taps outside the input read 0, or the position the
    /// ``ConvolutionDescriptor/border`` maps them to — their gradient then goes to that position):
    /// - `dX[n, g·C/G + ci, i] = Σ dY[n, m, o] · w[m, ci, k']` over the (m, o, k) with `i = o·s + k·d − pb`;
    /// - `dW[m, ci, k'] = Σ_{n, o} dY[n, m, o] · x[n, g·C/G + ci, o·s + k·d − pb]` over taps inside the input;
    /// - `dB[m] = Σ_{n, o} dY[n, m, o]`.
    /// The loops are the forward loops with the multiply-accumulate turned around; nothing is skipped (a zero dY
    /// still multiplies a NaN input into NaN, as the definition says).
    func convolutionBackward(
        _ problem: ConvolutionProblem, input: Tensor, weight: Tensor, outputGrad: Tensor,
        inputGrad: inout Tensor?, weightGrad: inout Tensor?, biasGrad: inout Tensor?
    ) {
        let g = problem.geometry
        let rank = g.spatialRank
        let inPlane = SpatialIndex(g.inputSize), outPlane = SpatialIndex(g.outputSize), kernel = SpatialIndex(g.kernel)
        let groupInputs = problem.inputChannels / problem.group
        let groupOutputs = problem.outputChannels / problem.group
        let kernelPositions = kernel.all, border = problem.descriptor.border
        let wantX = inputGrad != nil, wantW = weightGrad != nil
        var dx = [Double](repeating: 0, count: wantX ? input.count : 0)
        var dw = [Double](repeating: 0, count: wantW ? weight.count : 0)
        var db = [Double](repeating: 0, count: problem.outputChannels)
        var o = Array(repeating: 0, count: rank), i = Array(repeating: 0, count: rank)
        for n in 0..<problem.batch {
            for m in 0..<problem.outputChannels {
                let firstChannel = (m / groupOutputs) * groupInputs
                for outFlat in 0..<outPlane.count {
                    let dy = Double(outputGrad.scalars[(n * problem.outputChannels + m) * outPlane.count + outFlat])
                    db[m] += dy
                    guard wantX || wantW else { continue }
                    outPlane.decompose(outFlat, into: &o)
                    for (kFlat, k) in kernelPositions.enumerated() {
                        var inside = true
                        for axis in 0..<rank {
                            let position = o[axis] * g.strides[axis] + k[axis] * g.dilations[axis] - g.padBegin[axis]
                            guard let mapped = border.sourceIndex(position, extent: g.inputSize[axis]) else { inside = false; break }
                            i[axis] = mapped
                        }
                        guard inside else { continue }
                        let tap = problem.descriptor.mode == .convolution ? kernel.count - 1 - kFlat : kFlat
                        let inOffset = inPlane.flat(i)
                        for ci in 0..<groupInputs {
                            let xIndex = (n * problem.inputChannels + firstChannel + ci) * inPlane.count + inOffset
                            let wIndex = (m * groupInputs + ci) * kernel.count + tap
                            if wantX { dx[xIndex] += dy * Double(weight.scalars[wIndex]) }
                            if wantW { dw[wIndex] += dy * Double(input.scalars[xIndex]) }
                        }
                    }
                }
            }
        }
        if wantX { store(dx, into: &inputGrad!) }
        if wantW { store(dw, into: &weightGrad!) }
        if biasGrad != nil { store(db, into: &biasGrad!) }
    }

    /// ConvTranspose backward, from `y[n, g·M/G + mi, o] = b[m] + Σ x[n, c, i] · w[c, mi, k]` over the (c, i, k) with
    /// `o = i·s + k·d − pb` inside the output (positions outside it are dropped):
    /// - `dX[n, c, i] = Σ_{mi, k} dY[n, g·M/G + mi, i·s + k·d − pb] · w[c, mi, k]` (a convolution of dY);
    /// - `dW[c, mi, k] = Σ_{n, i} x[n, c, i] · dY[n, g·M/G + mi, i·s + k·d − pb]`;
    /// - `dB[m] = Σ_{n, o} dY[n, m, o]` (the bias reaches every output position, bias-only ones included).
    func convTransposeBackward(
        _ problem: ConvTransposeProblem, input: Tensor, weight: Tensor, outputGrad: Tensor,
        inputGrad: inout Tensor?, weightGrad: inout Tensor?, biasGrad: inout Tensor?
    ) {
        let rank = problem.inputSize.count
        let inPlane = SpatialIndex(problem.inputSize), outPlane = SpatialIndex(problem.outputSize)
        let kernel = SpatialIndex(problem.kernel)
        let groupInputs = problem.inputChannels / problem.group
        let groupOutputs = problem.outputChannels / problem.group
        let kernelPositions = kernel.all
        let wantX = inputGrad != nil, wantW = weightGrad != nil
        var dx = [Double](repeating: 0, count: wantX ? input.count : 0)
        var dw = [Double](repeating: 0, count: wantW ? weight.count : 0)
        var i = Array(repeating: 0, count: rank), o = Array(repeating: 0, count: rank)
        if wantX || wantW {
            for n in 0..<problem.batch {
                for c in 0..<problem.inputChannels {
                    let firstOutput = (c / groupInputs) * groupOutputs
                    for inFlat in 0..<inPlane.count {
                        inPlane.decompose(inFlat, into: &i)
                        let xIndex = (n * problem.inputChannels + c) * inPlane.count + inFlat
                        let x = Double(input.scalars[xIndex])
                        var sum = 0.0
                        for (kFlat, k) in kernelPositions.enumerated() {
                            var inside = true
                            for axis in 0..<rank {
                                o[axis] = i[axis] * problem.strides[axis] + k[axis] * problem.dilations[axis] - problem.padBegin[axis]
                                if o[axis] < 0 || o[axis] >= problem.outputSize[axis] { inside = false; break }
                            }
                            guard inside else { continue }
                            let outOffset = outPlane.flat(o)
                            for mi in 0..<groupOutputs {
                                let dy = Double(outputGrad.scalars[(n * problem.outputChannels + firstOutput + mi) * outPlane.count + outOffset])
                                let wIndex = (c * groupOutputs + mi) * kernel.count + kFlat
                                sum += dy * Double(weight.scalars[wIndex])
                                if wantW { dw[wIndex] += x * dy }
                            }
                        }
                        if wantX { dx[xIndex] = sum }
                    }
                }
            }
        }
        if wantX { store(dx, into: &inputGrad!) }
        if wantW { store(dw, into: &weightGrad!) }
        if biasGrad != nil {
            var db = [Double](repeating: 0, count: problem.outputChannels)
            for (index, dy) in outputGrad.scalars.enumerated() {
                db[(index / max(outPlane.count, 1)) % problem.outputChannels] += Double(dy)
            }
            store(db, into: &biasGrad!)
        }
    }

    /// Col2Im backward (im2col of dY): column element `(n, c·Π(block) + k, b)` is
    /// `dY[n, c, blockOrigin(b)·s + k·d − pb]` where that position lies in the image, and 0 where it lies in the
    /// padding (the forward drops those columns).
    func col2imBackward(_ problem: Col2ImProblem, outputGrad: Tensor, inputGrad: inout Tensor) {
        let g = problem.geometry
        let rank = g.spatialRank
        let image = SpatialIndex(g.inputSize), blocks = SpatialIndex(g.outputSize), kernel = SpatialIndex(g.kernel)
        var b = Array(repeating: 0, count: rank), k = Array(repeating: 0, count: rank), p = Array(repeating: 0, count: rank)
        for n in 0..<problem.batch {
            for c in 0..<problem.channels {
                for kFlat in 0..<kernel.count {
                    kernel.decompose(kFlat, into: &k)
                    let row = (n * problem.channels + c) * kernel.count + kFlat
                    for bFlat in 0..<blocks.count {
                        blocks.decompose(bFlat, into: &b)
                        var inside = true
                        for axis in 0..<rank {
                            p[axis] = b[axis] * g.strides[axis] + k[axis] * g.dilations[axis] - g.padBegin[axis]
                            if p[axis] < 0 || p[axis] >= g.inputSize[axis] { inside = false; break }
                        }
                        inputGrad.scalars[row * blocks.count + bFlat] =
                            inside ? outputGrad.scalars[(n * problem.channels + c) * image.count + image.flat(p)] : 0
                    }
                }
            }
        }
    }
}
