import CNNKitCore
extension ReferenceBackend {
    /// ONNX Conv: `y[n, m, o] = b[m] + Σ_{ci, k} x[n, g·C/G + ci, o·s + k·d − pb] · w[m, ci, k']`, where
    /// `k' = k` for cross-correlation and `K − 1 − k` for true convolution; taps outside the input read 0, or with a
    /// non-constant ``ConvolutionDescriptor/border`` the input position ``BorderMode/sourceIndex(_:extent:)`` maps
    /// them to.
    func convolution(_ problem: ConvolutionProblem, input: Tensor, weight: Tensor, bias: Tensor?, output: inout Tensor) {
        let g = problem.geometry
        let rank = g.spatialRank
        // Work proportional to the data: an empty output has nothing to compute; with no input channels per group
        // (an empty input and weight, whose kernel may be huge) every output is the bias.
        guard output.count > 0 else { return }
        let groupInputs = problem.inputChannels / problem.group
        let groupOutputs = problem.outputChannels / problem.group
        guard groupInputs > 0 else {
            let plane = output.count / (problem.batch * problem.outputChannels)
            for index in 0..<output.count {
                output.scalars[index] = problem.descriptor.activation.apply(bias?.scalars[(index / plane) % problem.outputChannels] ?? 0)
            }
            return
        }
        let inPlane = SpatialIndex(g.inputSize), outPlane = SpatialIndex(g.outputSize), kernel = SpatialIndex(g.kernel)
        let kernelPositions = kernel.all, border = problem.descriptor.border
        var o = Array(repeating: 0, count: rank), i = Array(repeating: 0, count: rank)
        for n in 0..<problem.batch {
            for m in 0..<problem.outputChannels {
                let firstChannel = (m / groupOutputs) * groupInputs
                for outFlat in 0..<outPlane.count {
                    outPlane.decompose(outFlat, into: &o)
                    var sum = Double(bias?.scalars[m] ?? 0)
                    for (kFlat, k) in kernelPositions.enumerated() {
                        var inside = true
                        for axis in 0..<rank {
                            let position = o[axis] * g.strides[axis] + k[axis] * g.dilations[axis] - g.padBegin[axis]
                            // The border mode maps a padded position into the input (constant: it reads 0).
                            guard let mapped = border.sourceIndex(position, extent: g.inputSize[axis]) else { inside = false; break }
                            i[axis] = mapped
                        }
                        guard inside else { continue }
                        let tap = problem.descriptor.mode == .convolution ? kernel.count - 1 - kFlat : kFlat
                        let inOffset = inPlane.flat(i)
                        for ci in 0..<groupInputs {
                            let x = input.scalars[(n * problem.inputChannels + firstChannel + ci) * inPlane.count + inOffset]
                            let w = weight.scalars[(m * groupInputs + ci) * kernel.count + tap]
                            sum += Double(x) * Double(w)
                        }
                    }
                    output.scalars[(n * problem.outputChannels + m) * outPlane.count + outFlat] = problem.descriptor.activation.apply(Float(sum))
                }
            }
        }
    }

    /// ONNX ConvTranspose: every `x[n, c, i] · w[c, mi, k]` lands on output position `o = i·s + k·d − pb` of
    /// channel `g·M/G + mi`; positions outside the output are dropped; bias is added everywhere.
    func convTranspose(_ problem: ConvTransposeProblem, input: Tensor, weight: Tensor, bias: Tensor?, output: inout Tensor) {
        let rank = problem.inputSize.count
        // Work proportional to the data: an empty output has nothing to compute; an empty input (and weight, whose
        // kernel may be huge) leaves only the bias.
        guard output.count > 0 else { return }
        let outPlane = SpatialIndex(problem.outputSize)
        guard input.count > 0 else {
            for index in 0..<output.count {
                output.scalars[index] = bias?.scalars[(index / outPlane.count) % problem.outputChannels] ?? 0
            }
            return
        }
        let inPlane = SpatialIndex(problem.inputSize)
        let kernel = SpatialIndex(problem.kernel)
        let groupInputs = problem.inputChannels / problem.group
        let groupOutputs = problem.outputChannels / problem.group
        let kernelPositions = kernel.all
        var sums = [Double](repeating: 0, count: output.count)
        var i = Array(repeating: 0, count: rank), o = Array(repeating: 0, count: rank)
        for n in 0..<problem.batch {
            for c in 0..<problem.inputChannels {
                let firstOutput = (c / groupInputs) * groupOutputs
                for inFlat in 0..<inPlane.count {
                    inPlane.decompose(inFlat, into: &i)
                    let x = Double(input.scalars[(n * problem.inputChannels + c) * inPlane.count + inFlat])
                    for (kFlat, k) in kernelPositions.enumerated() {
                        var inside = true
                        for axis in 0..<rank {
                            o[axis] = i[axis] * problem.strides[axis] + k[axis] * problem.dilations[axis] - problem.padBegin[axis]
                            if o[axis] < 0 || o[axis] >= problem.outputSize[axis] { inside = false; break }
                        }
                        guard inside else { continue }
                        let outOffset = outPlane.flat(o)
                        for mi in 0..<groupOutputs {
                            let w = Double(weight.scalars[(c * groupOutputs + mi) * kernel.count + kFlat])
                            sums[(n * problem.outputChannels + firstOutput + mi) * outPlane.count + outOffset] += x * w
                        }
                    }
                }
            }
        }
        for index in sums.indices {
            let m = (index / max(outPlane.count, 1)) % problem.outputChannels
            output.scalars[index] = Float(sums[index] + Double(bias?.scalars[m] ?? 0))
        }
    }

    /// ONNX Col2Im: column `(c·Π(block) + k, b)` adds to image position `blockOrigin(b)·s + k·d − pb` of channel c.
    func col2im(_ problem: Col2ImProblem, input: Tensor, output: inout Tensor) {
        let g = problem.geometry
        let rank = g.spatialRank
        // Work proportional to the data: no blocks (or no output) means an all-zero (or empty) image; the loops
        // below would otherwise run over the batch, channels and kernel of an empty input.
        guard output.count > 0 else { return }
        guard input.count > 0 else {
            for index in 0..<output.count { output.scalars[index] = 0 }
            return
        }
        let image = SpatialIndex(g.inputSize), blocks = SpatialIndex(g.outputSize), kernel = SpatialIndex(g.kernel)
        var sums = [Double](repeating: 0, count: output.count)
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
                        guard inside else { continue }
                        sums[(n * problem.channels + c) * image.count + image.flat(p)] += Double(input.scalars[row * blocks.count + bFlat])
                    }
                }
            }
        }
        output.scalars = sums.map { Float($0) }
    }
}
