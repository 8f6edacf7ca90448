internal import CKernels

extension CBackend {
    /// The algorithm ``ConvolutionAlgorithm/automatic`` picks:
    /// 1. **gemm1x1** for a 1×1 kernel with stride 1 and no padding (any dilation): the input already is the GEMM
    ///    operand.
    /// 2. **direct** when there are fewer than 16 output channels per group (depthwise, Sobel / Gaussian filters,
    ///    small grouped convs): a GEMM that thin cannot amortise its packing, while the direct kernel streams each
    ///    input plane once per output channel with every tap a unit-stride FMA pass.
    /// 3. **im2col_gemm** otherwise, even for a short reduction (wav2vec2's 1-channel 1-D conv into 512 channels
    ///    runs about twice as fast as GEMM as directly: sgemm reuses each loaded input across many outputs).
    /// A size beyond CBLAS's `int` range falls back to direct.
    public func chooseAlgorithm(for problem: ConvolutionProblem) -> ConvolutionAlgorithm {
        let mg = problem.outputChannels / problem.group
        if isPointwise(problem) && fitsBLAS(problem) { return .gemm1x1 }
        if mg < 16 || !fitsBLAS(problem) { return .direct }
        return .im2colGEMM
    }

    func isPointwise(_ problem: ConvolutionProblem) -> Bool {
        let g = problem.geometry
        return g.kernel.allSatisfy { $0 == 1 } && g.strides.allSatisfy { $0 == 1 }
            && g.padBegin.allSatisfy { $0 == 0 } && g.padEnd.allSatisfy { $0 == 0 }
    }

    func fitsBLAS(_ problem: ConvolutionProblem) -> Bool {
        let g = problem.geometry
        let k = (problem.inputChannels / problem.group) * g.kernel.reduce(1, *)
        return k <= blasLimit && g.outputSize.reduce(1, *) <= blasLimit && problem.outputChannels <= blasLimit
    }

    func resolvedAlgorithm(for problem: ConvolutionProblem) -> ConvolutionAlgorithm {
        algorithm == .automatic ? chooseAlgorithm(for: problem) : algorithm
    }

    public func support(for problem: ConvolutionProblem) -> Support {
        switch algorithm {
        case .gemm1x1 where !isPointwise(problem):
            return .unsupported("gemm1x1 needs a 1×1 kernel, stride 1 and no padding")
        case .gemm1x1, .im2colGEMM:
            return fitsBLAS(problem) ? .supported : .unsupported("GEMM sizes beyond CBLAS's int range")
        case .direct, .automatic:
            return .supported
        }
    }

    func descriptor(_ problem: ConvolutionProblem) -> ck_conv_desc {
        let g = problem.geometry
        return ck_conv_desc(
            batch: Int64(problem.batch), in_channels: Int64(problem.inputChannels),
            out_channels: Int64(problem.outputChannels), groups: Int64(problem.group),
            g: ckWindow(input: g.inputSize, output: g.outputSize, kernel: g.kernel, strides: g.strides,
                        dilations: g.dilations, padBegin: g.padBegin),
            flip: problem.descriptor.mode == .convolution ? 1 : 0)
    }

    /// Bytes of im2col workspace one call of the im2col + GEMM algorithm allocates for `problem` (at most 16 MiB).
    public func im2colWorkspace(for problem: ConvolutionProblem) -> Int {
        var desc = descriptor(problem)
        return Int(ck_conv_ncx_im2col_gemm_workspace_f32(&desc, Int32(clamping: threads)))
    }

    public func convolution(_ problem: ConvolutionProblem, input: Tensor, weight: Tensor, bias: Tensor?, output: inout Tensor) {
        var desc = descriptor(problem)
        let kernel: (UnsafePointer<ck_conv_desc>?, UnsafePointer<Float>?, Int64, UnsafePointer<Float>?, Int64,
                     UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int64, Int32) -> Int32
        let chosen = resolvedAlgorithm(for: problem)
        switch chosen {
        case .gemm1x1: kernel = ck_conv_ncx_gemm1x1_f32
        case .im2colGEMM: kernel = ck_conv_ncx_im2col_gemm_f32
        case .direct, .automatic: kernel = ck_conv_ncx_direct_f32
        }
        let status = input.scalars.withUnsafeBufferPointer { x in
            weight.scalars.withUnsafeBufferPointer { w in
                withBias(bias) { b in
                    output.scalars.withUnsafeMutableBufferPointer { y in
                        kernel(&desc, x.baseAddress, Int64(x.count), w.baseAddress, Int64(w.count), b,
                               y.baseAddress, Int64(y.count), Int32(clamping: threads))
                    }
                }
            }
        }
        check(status, "conv \(chosen.rawValue)") {
            ReferenceBackend().convolution(problem, input: input, weight: weight, bias: bias, output: &output)
        }
    }

    public func support(for problem: ConvTransposeProblem) -> Support {
        let kk = problem.kernel.reduce(1, *), rows = (problem.outputChannels / problem.group) * kk
        guard rows <= (16 << 20) / 4, problem.inputSize.reduce(1, *) <= blasLimit,
              problem.inputChannels / problem.group <= blasLimit
        else { return .unsupported("M/group·Πkernel = \(rows) column rows exceed the 16 MiB workspace") }
        return .supported
    }

    public func convTranspose(_ problem: ConvTransposeProblem, input: Tensor, weight: Tensor, bias: Tensor?, output: inout Tensor) {
        var desc = ck_conv_desc(
            batch: Int64(problem.batch), in_channels: Int64(problem.inputChannels),
            out_channels: Int64(problem.outputChannels), groups: Int64(problem.group),
            g: ckWindow(input: problem.inputSize, output: problem.outputSize, kernel: problem.kernel,
                        strides: problem.strides, dilations: problem.dilations, padBegin: problem.padBegin),
            flip: 0)
        let status = input.scalars.withUnsafeBufferPointer { x in
            weight.scalars.withUnsafeBufferPointer { w in
                withBias(bias) { b in
                    output.scalars.withUnsafeMutableBufferPointer { y in
                        ck_convtranspose_ncx_gemm_col2im_f32(
                            &desc, x.baseAddress, Int64(x.count), w.baseAddress, Int64(w.count), b, y.baseAddress,
                            Int64(y.count), Int32(clamping: threads))
                    }
                }
            }
        }
        check(status, "convtranspose") {
            ReferenceBackend().convTranspose(problem, input: input, weight: weight, bias: bias, output: &output)
        }
    }

    public func support(for problem: Col2ImProblem) -> Support {
        problem.geometry.spatialRank <= 3 ? .supported : .unsupported("more than 3 image axes")
    }

    public func col2im(_ problem: Col2ImProblem, input: Tensor, output: inout Tensor) {
        let g = problem.geometry
        var window = ckWindow(input: g.inputSize, output: g.outputSize, kernel: g.kernel, strides: g.strides,
                              dilations: g.dilations, padBegin: g.padBegin)
        let status = withPointers(input.scalars, &output.scalars) { x, xCount, y, yCount in
            ck_col2im_ncx_f32(&window, Int64(problem.batch), Int64(problem.channels), x, xCount, y,
                              yCount, Int32(clamping: threads))
        }
        check(status, "col2im") { ReferenceBackend().col2im(problem, input: input, output: &output) }
    }
}

@inline(__always)
func withBias<R>(_ bias: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let bias else { return body(nil) }
    return bias.scalars.withUnsafeBufferPointer { body($0.baseAddress) }
}
