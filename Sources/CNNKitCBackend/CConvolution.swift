import CNNKitCore
internal import CKernels

extension CBackend {
    /// The algorithm ``ConvolutionAlgorithm/automatic`` picks (measured on the suite's layers, see
    /// `CKernels/README.md`):
    /// 1. **fft** on AVX2 / AVX-512 CPUs for 1-D and 2-D layers (not Winograd's 3×3 shapes) whose modeled FFT
    ///    time is below the modeled time of the method rule 2 or 4 would pick (the cost model below), e.g. a 49×49
    ///    Gaussian on a 1080p RGB photo (17× faster than direct, measured) or 15×15 16→16 at 270×480; kernels up to
    ///    7×7 on few channels and 3×3 layers stay direct / Winograd / implicit GEMM.
    /// 2. **direct** when there are fewer than 16 output channels per group (depthwise, Sobel / Gaussian filters,
    ///    small grouped convs): too few rows for a register tile, while the direct kernel streams each input plane
    ///    once per output channel with every tap a unit-stride FMA pass.
    /// 3. **winograd** for 2-D 3×3 stride-1 dilation-1 layers with at least 16 input and output channels per group
    ///    and at least 16 output tiles of 4×4 per group (N·⌈OH/4⌉·⌈OW/4⌉), on AVX2 / AVX-512 CPUs: 4× fewer
    ///    multiplications than any direct method. With fewer tiles (ResNet's 512 channels at 7×7, batch 1) its 4×
    ///    larger transformed weights are streamed for too little work and implicit GEMM is as fast.
    /// 4. **implicit_gemm** on AVX2 / AVX-512 CPUs otherwise.
    /// 5. On CPUs without AVX2 (the portable variant): **gemm1x1** for a 1×1 kernel with stride 1 and no padding,
    ///    else **im2col_gemm** — OpenBLAS's kernels beat portable C there. Sizes beyond CBLAS's `int` run direct.
    ///
    /// **Cost model** (rule 1), in one-core nanoseconds on a quiet machine: FFT = `ck_conv_ncx_fft_cost_f32` (per
    /// tile pair of F = Th·Tw points, F·[(C + M)·(0.073·log2 F + cache spill) + C·M·(0.115 + 0.5 when the kernel
    /// spectra exceed L2)] + 0.5 per output, with the cheapest power-of-two tile; fitted to 26 measured FFT runs);
    /// direct = 0.018 ns per multiply-add and implicit GEMM = 0.008 ns per multiply-add (the direct method's
    /// Πkernel·Cg MACs per output), the ratios at which FFT and the other method took equal time in the same runs
    /// (`cnnkit bench --algorithm`, depthwise 9×9…49×49 on 1080p RGB and 7×7…31×31 with 8–64 channels, 2026-12-01).
    /// The crossovers measured: depthwise 1080p between 9×9 (tie) and 11×11 (FFT 1.7× faster); 64→64 at 112×112
    /// at 7×7 (tie). FFT is picked only when its modeled time is below the other's.
    public func chooseAlgorithm(for problem: ConvolutionProblem) -> ConvolutionAlgorithm {
        let mg = problem.outputChannels / problem.group
        if isaLevel >= Int32(CK_ISA_AVX2) && fftPays(problem, perMAC: mg < 16 ? 0.018 : 0.008) { return .fft }
        return chooseWithoutFFT(problem)
    }

    /// Rules 2–5 of ``chooseAlgorithm(for:)``.
    func chooseWithoutFFT(_ problem: ConvolutionProblem) -> ConvolutionAlgorithm {
        let mg = problem.outputChannels / problem.group, cg = problem.inputChannels / problem.group
        if mg < 16 { return .direct }
        if isaLevel >= Int32(CK_ISA_AVX2) {
            if isWinogradShape(problem) && cg >= 16 && mg >= 16 && winogradTiles(problem) >= 16 { return .winograd }
            return .implicitGEMM
        }
        if isPointwise(problem) && fitsBLAS(problem) { return .gemm1x1 }
        return fitsBLAS(problem) ? .im2colGEMM : .direct
    }

    /// Whether the FFT cost model beats `perMAC` ns per direct multiply-add (``chooseAlgorithm(for:)``); kernels
    /// of fewer than 25 taps never do (the FFT's per-tile cost alone exceeds their direct cost).
    func fftPays(_ problem: ConvolutionProblem, perMAC: Double) -> Bool {
        let g = problem.geometry
        guard g.spatialRank <= 2, !isWinogradShape(problem), g.kernel.reduce(1, *) >= 25 else { return false }
        let macs = Double(problem.batch) * Double(problem.outputChannels) * Double(problem.inputChannels / problem.group)
            * g.kernel.reduce(1.0) { $0 * Double($1) } * g.outputSize.reduce(1.0) { $0 * Double($1) }
        var desc = descriptor(problem)
        let fft = ck_conv_ncx_fft_cost_f32(&desc, isaLevel, Int32(clamping: threads), nil, nil)
        return fft > 0 && fft * 1e9 < macs * perMAC
    }

    func isPointwise(_ problem: ConvolutionProblem) -> Bool {
        let g = problem.geometry
        return g.kernel.allSatisfy { $0 == 1 } && g.strides.allSatisfy { $0 == 1 }
            && g.padBegin.allSatisfy { $0 == 0 } && g.padEnd.allSatisfy { $0 == 0 }
    }

    func isWinogradShape(_ problem: ConvolutionProblem) -> Bool {
        let g = problem.geometry
        return g.spatialRank == 2 && g.kernel == [3, 3] && g.strides == [1, 1] && g.dilations == [1, 1]
    }

    /// Winograd F(4×4, 3×3) output tiles of one group.
    func winogradTiles(_ problem: ConvolutionProblem) -> Int {
        let out = problem.geometry.outputSize
        return saturatingProduct([problem.batch, (out[0] + 3) / 4, (out[1] + 3) / 4])
    }

    func fitsBLAS(_ problem: ConvolutionProblem) -> Bool {
        let g = problem.geometry
        // Saturating: an empty weight's kernel, or an empty batch's spatial output, may multiply past Int.
        let k = saturatingProduct([problem.inputChannels / problem.group] + g.kernel)
        return k <= blasLimit && saturatingProduct(g.outputSize) <= blasLimit && problem.outputChannels <= blasLimit
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

    public func prepare(_ problem: ConvolutionProblem, constants: ConvolutionConstants) throws -> any PreparedWeightedOperator {
        if problem.descriptor.border != .constant { return try prepareBordered(problem, constants) }
        var window = descriptor(problem).g
        guard ck_window_check(&window) == Int32(CK_OK) else { throw declining(Self.hugeGeometry, problem) }
        if let reason = Self.farPadding(problem.geometry) { throw declining(reason, problem) }
        let chosen = algorithm == .automatic ? chooseAlgorithm(for: problem) : algorithm
        switch chosen {
        case .gemm1x1 where !isPointwise(problem):
            throw declining("gemm1x1 needs a 1×1 kernel, stride 1 and no padding", problem)
        case .gemm1x1 where !fitsBLAS(problem), .im2colGEMM where !fitsBLAS(problem):
            throw declining("GEMM sizes beyond CBLAS's int range", problem)
        case .winograd where !isWinogradShape(problem):
            throw declining("winograd needs a 2-D 3×3 kernel, stride 1 and dilation 1", problem)
        case .fft:
            do {
                return try prepareFFT(problem, constants)
            } catch let error as CNNKitError where error.kind == .unsupported && algorithm == .automatic {
                // Spectra beyond the plan's 1 GiB bound: the method the other rules pick.
                return try CBackend(threads: threads, algorithm: chooseWithoutFFT(problem), isa: isa)
                    .prepare(problem, constants: constants)
            }
        case .implicitGEMM, .winograd:
            do {
                return try preparePacked(problem, chosen, constants)
            } catch let error as CNNKitError where error.kind == .unsupported && algorithm == .automatic {
                // Sizes the packed kernels do not take (e.g. 65536 channels per group): the OpenBLAS or direct path.
                return prepareStateless(problem, fitsBLAS(problem) ? .im2colGEMM : .direct, constants)
            }
        default:
            return prepareStateless(problem, chosen, constants)
        }
    }

    /// direct, im2col_gemm and gemm1x1: C functions without a plan object; the activation is a pass after them.
    private func prepareStateless(
        _ problem: ConvolutionProblem, _ chosen: ConvolutionAlgorithm, _ constants: ConvolutionConstants
    ) -> any PreparedWeightedOperator {
        typealias Kernel = @Sendable (UnsafePointer<ck_conv_desc>?, UnsafePointer<Float>?, Int64, UnsafePointer<Float>?, Int64,
                            UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int64, Int32) -> Int32
        let kernel: Kernel
        let desc = descriptor(problem)
        let team = Int32(clamping: threads)
        let flipCopy = problem.descriptor.mode == .convolution ? saturatingMultiply(4, saturatingProduct(problem.weightShape)) : 0
        let workspace: Int
        switch chosen {
        case .gemm1x1:
            kernel = ck_conv_ncx_gemm1x1_f32
            workspace = 0
        case .im2colGEMM:
            kernel = ck_conv_ncx_im2col_gemm_f32
            workspace = saturatingAdd(im2colWorkspace(for: problem), flipCopy)
        default:
            let isa = isaLevel
            kernel = { ck_conv_ncx_direct_f32($0, $1, $2, $3, $4, $5, $6, $7, $8, isa) }
            var query = desc
            workspace = max(0, Int(ck_conv_ncx_direct_workspace_f32(&query, team)))
        }
        let (lo, hi) = problem.descriptor.activation.bounds
        let held = constants.weight == nil ? nil : constants
        return CPrepared(algorithm: chosen.rawValue, workspace: workspace, held: held) { input, weight, bias, output in
            var desc = desc
            guard let weight = weight ?? held?.weight else { throw missingWeight(problem) }
            let status = input.scalars.withUnsafeBufferPointer { x in
                weight.scalars.withUnsafeBufferPointer { w in
                    withOptional(bias) { b, _ in
                        output.scalars.withUnsafeMutableBufferPointer { y in
                            let s = kernel(&desc, x.baseAddress, Int64(x.count), w.baseAddress, Int64(w.count), b,
                                           y.baseAddress, Int64(y.count), team)
                            return s != 0 ? s : ck_clamp_f32(y.baseAddress, Int64(y.count), lo, hi, team)
                        }
                    }
                }
            }
            try self.check(status, "conv \(chosen.rawValue)")
        }
    }

    /// implicit_gemm and winograd: a C plan object that holds the tiling and, given plan-time weights, the packed
    /// or transformed weights.
    private func preparePacked(
        _ problem: ConvolutionProblem, _ chosen: ConvolutionAlgorithm, _ constants: ConvolutionConstants
    ) throws -> any PreparedWeightedOperator {
        var desc = descriptor(problem)
        let (lo, hi) = problem.descriptor.activation.bounds
        let team = Int32(clamping: threads)
        let winograd = chosen == .winograd
        var plan: OpaquePointer?
        let status = withOptional(constants.weight) { w, count in
            winograd
                ? ck_conv_nchw_winograd_prepare_f32(&desc, isaLevel, team, w, count, lo, hi, &plan)
                : ck_conv_ncx_implicit_gemm_prepare_f32(&desc, isaLevel, team, w, count, lo, hi, &plan)
        }
        if status == Int32(CK_ERR_ARGUMENT) {
            throw declining("\(chosen.rawValue) does not handle these sizes", problem)
        }
        try check(status, "conv \(chosen.rawValue) prepare")
        guard let plan else { throw declining("\(chosen.rawValue) returned no plan", problem) }
        let handle = CPlanHandle(plan) { winograd ? ck_conv_nchw_winograd_destroy_f32($0) : ck_conv_ncx_implicit_gemm_destroy_f32($0) }
        let packed = constants.weight != nil
        let isa = String(cString: ck_isa_name(winograd ? ck_conv_nchw_winograd_isa(plan) : ck_conv_ncx_implicit_gemm_isa(plan)))
        let workspace = Int(winograd ? ck_conv_nchw_winograd_workspace_f32(plan, team, packed ? 1 : 0)
                                     : ck_conv_ncx_implicit_gemm_workspace_f32(plan, team, packed ? 1 : 0))
        return CPrepared(algorithm: "\(chosen.rawValue)/\(isa)", workspace: max(0, workspace),
                         held: packed ? constants : nil) { input, weight, bias, output in
            let status = input.scalars.withUnsafeBufferPointer { x in
                withOptional(weight) { w, wCount in
                    withOptional(bias) { b, _ in
                        output.scalars.withUnsafeMutableBufferPointer { y in
                            winograd
                                ? ck_conv_nchw_winograd_run_f32(handle.pointer, x.baseAddress, Int64(x.count), w, wCount, b,
                                                                y.baseAddress, Int64(y.count), team)
                                : ck_conv_ncx_implicit_gemm_run_f32(handle.pointer, x.baseAddress, Int64(x.count), w, wCount,
                                                                    b, y.baseAddress, Int64(y.count), team)
                        }
                    }
                }
            }
            try self.check(status, "conv \(chosen.rawValue)")
        }
    }

    /// fft: a C plan object with the tile size, twiddles and, given plan-time weights, the kernel spectra.
    private func prepareFFT(_ problem: ConvolutionProblem, _ constants: ConvolutionConstants) throws -> any PreparedWeightedOperator {
        guard problem.geometry.spatialRank <= 2 else { throw declining("fft takes 1-D and 2-D convolutions only", problem) }
        // Other borders arrive here already padded (prepareBordered); the tiles read zeros beyond the input.
        guard problem.descriptor.border == .constant else { throw declining("fft pads with zeros only", problem) }
        var desc = descriptor(problem)
        let (lo, hi) = problem.descriptor.activation.bounds
        let team = Int32(clamping: threads)
        var plan: OpaquePointer?
        let status = withOptional(constants.weight) { w, count in
            ck_conv_ncx_fft_prepare_f32(&desc, isaLevel, team, w, count, lo, hi, &plan)
        }
        if status == Int32(CK_ERR_ARGUMENT) {
            throw declining("fft needs dilated kernel extents of at most 1024 and kernel spectra within 1 GiB", problem)
        }
        try check(status, "conv fft prepare")
        guard let plan else { throw declining("fft returned no plan", problem) }
        let handle = CPlanHandle(plan) { ck_conv_ncx_fft_destroy_f32($0) }
        let packed = constants.weight != nil
        let isa = String(cString: ck_isa_name(ck_conv_ncx_fft_isa(plan)))
        let workspace = Int(ck_conv_ncx_fft_workspace_f32(plan, team, packed ? 1 : 0))
        return CPrepared(algorithm: "fft/\(isa)", workspace: max(0, workspace), held: packed ? constants : nil) {
            input, weight, bias, output in
            let status = input.scalars.withUnsafeBufferPointer { x in
                withOptional(weight) { w, wCount in
                    withOptional(bias) { b, _ in
                        output.scalars.withUnsafeMutableBufferPointer { y in
                            ck_conv_ncx_fft_run_f32(handle.pointer, x.baseAddress, Int64(x.count), w, wCount, b,
                                                    y.baseAddress, Int64(y.count), team)
                        }
                    }
                }
            }
            try self.check(status, "conv fft")
        }
    }

    public func prepare(_ problem: ConvTransposeProblem) throws -> any PreparedWeightedOperator {
        // Saturating: an empty weight's kernel, or an empty batch's spatial input, may multiply past Int.
        let kk = saturatingProduct(problem.kernel), rows = saturatingMultiply(problem.outputChannels / problem.group, kk)
        guard rows <= (16 << 20) / 4, saturatingProduct(problem.inputSize) <= blasLimit,
              problem.inputChannels / problem.group <= blasLimit
        else { throw declining("M/group·Πkernel = \(rows) column rows exceed the 16 MiB workspace", problem) }
        let desc = ck_conv_desc(
            batch: Int64(problem.batch), in_channels: Int64(problem.inputChannels),
            out_channels: Int64(problem.outputChannels), groups: Int64(problem.group),
            g: ckWindow(input: problem.inputSize, output: problem.outputSize, kernel: problem.kernel,
                        strides: problem.strides, dilations: problem.dilations, padBegin: problem.padBegin),
            flip: 0)
        var window = desc.g
        guard ck_window_check(&window) == Int32(CK_OK) else { throw declining(Self.hugeGeometry, problem) }
        let team = Int32(clamping: threads)
        return CPrepared(algorithm: "gemm_col2im", workspace: 4 * rows * min(saturatingProduct(problem.inputSize), 1 << 20)) {
            input, weight, bias, output in
            var desc = desc
            guard let weight else { throw missingWeight(problem) }
            let status = input.scalars.withUnsafeBufferPointer { x in
                weight.scalars.withUnsafeBufferPointer { w in
                    withOptional(bias) { b, _ in
                        output.scalars.withUnsafeMutableBufferPointer { y in
                            ck_convtranspose_ncx_gemm_col2im_f32(
                                &desc, x.baseAddress, Int64(x.count), w.baseAddress, Int64(w.count), b, y.baseAddress,
                                Int64(y.count), team)
                        }
                    }
                }
            }
            try self.check(status, "convtranspose")
        }
    }

    public func prepare(_ problem: Col2ImProblem) throws -> any PreparedUnaryOperator {
        guard problem.geometry.spatialRank <= 3 else { throw declining("more than 3 image axes", problem) }
        let g = problem.geometry
        let window = ckWindow(input: g.inputSize, output: g.outputSize, kernel: g.kernel, strides: g.strides,
                              dilations: g.dilations, padBegin: g.padBegin)
        var query = window
        guard ck_window_check(&query) == Int32(CK_OK) else { throw declining(Self.hugeGeometry, problem) }
        let team = Int32(clamping: threads)
        return CPrepared(algorithm: "scatter_add", workspace: 0) { input, output in
            var window = window
            let status = withPointers(input.scalars, &output.scalars) { x, xCount, y, yCount in
                ck_col2im_ncx_f32(&window, Int64(problem.batch), Int64(problem.channels), x, xCount, y, yCount, team)
            }
            try self.check(status, "col2im")
        }
    }
}

extension CBackend {
    /// The decline for extents, strides or pads whose coordinates leave the C kernels' ±2^60 range.
    static let hugeGeometry = "extents, strides or pads beyond the C kernels' ±2^60 coordinate range"

    /// Why the convolution kernels decline `g`, if they do: a dilated kernel far larger than the input
    /// (`(k − 1)·d + 1 > 2·L + 16`, e.g. a dilation of 2^32 with SAME padding), or padding or a stride far beyond
    /// the input and the window (`> 2·(L + ek) + 16`, e.g. pads of 2^40 with a stride of 2^40). The kernels' stride-phase
    /// planes and tiles span the padded input, so their time and memory would follow the padding rather than the
    /// data; the reference backend, which only visits taps inside the input, runs those.
    static func farPadding(_ g: WindowGeometry) -> String? {
        for axis in 0..<g.spatialRank {
            let length = g.inputSize[axis]
            let extent = (g.kernel[axis] - 1) * g.dilations[axis] + 1  // validation bounds it below Int.max / 4
            if extent > saturatingAdd(saturatingMultiply(2, length), 16) {
                return "a dilated kernel of \(extent) on axis \(axis) over an input of \(length) (at most 2·L + 16)"
            }
            let reach = saturatingAdd(saturatingMultiply(2, saturatingAdd(length, extent)), 16)
            if g.padBegin[axis] + g.padEnd[axis] > reach {
                return "padding \(g.padBegin[axis]) + \(g.padEnd[axis]) on axis \(axis) far beyond the input \(length) and the window \(extent)"
            }
            // The direct kernel's zero rows span one block of output columns at the stride: keep it near the data.
            if g.strides[axis] > reach {
                return "a stride of \(g.strides[axis]) on axis \(axis) far beyond the input \(length) and the window \(extent)"
            }
        }
        return nil
    }
}

func missingWeight(_ problem: some CustomStringConvertible) -> CNNKitError {
    CNNKitError(kind: .invalidArgument, parameter: "weight", value: "nil", expected: "a weight (the plan holds none)",
                problem: problem.description)
}
