import CNNKitCore
internal import CKernels

/// A prepared backward pass of this backend: the C work a run does, and what it reports.
struct CPreparedBackward: PreparedWeightedBackward, PreparedPoolingBackward, PreparedUnaryBackward,
    PreparedMaxUnpoolBackward
{
    typealias Weighted = @Sendable (Tensor, Tensor, Tensor, inout Tensor?, inout Tensor?, inout Tensor?) throws -> Void
    let algorithm: String
    let workspaceBytes: Int
    private let weighted: Weighted?
    private let pool: (@Sendable (Tensor, Tensor, inout Tensor) throws -> Void)?
    private let unary: (@Sendable (Tensor, inout Tensor) throws -> Void)?
    private let unpool: (@Sendable (IndexTensor, Tensor, inout Tensor) throws -> Void)?

    init(algorithm: String, workspace: Int, weighted: @escaping Weighted) {
        (self.algorithm, workspaceBytes) = (algorithm, workspace)
        (self.weighted, pool, unary, unpool) = (weighted, nil, nil, nil)
    }
    init(algorithm: String, workspace: Int, pool: @escaping @Sendable (Tensor, Tensor, inout Tensor) throws -> Void) {
        (self.algorithm, workspaceBytes) = (algorithm, workspace)
        (weighted, self.pool, unary, unpool) = (nil, pool, nil, nil)
    }
    init(algorithm: String, workspace: Int, unary: @escaping @Sendable (Tensor, inout Tensor) throws -> Void) {
        (self.algorithm, workspaceBytes) = (algorithm, workspace)
        (weighted, pool, self.unary, unpool) = (nil, nil, unary, nil)
    }
    init(algorithm: String, workspace: Int, unpool: @escaping @Sendable (IndexTensor, Tensor, inout Tensor) throws -> Void) {
        (self.algorithm, workspaceBytes) = (algorithm, workspace)
        (weighted, pool, unary, self.unpool) = (nil, nil, nil, unpool)
    }

    func run(input: Tensor, weight: Tensor, outputGrad: Tensor, inputGrad: inout Tensor?, weightGrad: inout Tensor?,
             biasGrad: inout Tensor?) throws {
        try weighted!(input, weight, outputGrad, &inputGrad, &weightGrad, &biasGrad)
    }
    func run(input: Tensor, outputGrad: Tensor, inputGrad: inout Tensor) throws { try pool!(input, outputGrad, &inputGrad) }
    func run(outputGrad: Tensor, inputGrad: inout Tensor) throws { try unary!(outputGrad, &inputGrad) }
    func run(indices: IndexTensor, outputGrad: Tensor, inputGrad: inout Tensor) throws {
        try unpool!(indices, outputGrad, &inputGrad)
    }
}

/// Runs `body` with the base address (nil when the tensor is nil or empty) and element count of an optional tensor.
@inline(__always)
func withOptionalMutable<R>(_ tensor: inout Tensor?, _ body: (UnsafeMutablePointer<Float>?, Int64) -> R) -> R {
    guard tensor != nil else { return body(nil, 0) }
    return tensor!.scalars.withUnsafeMutableBufferPointer { body($0.baseAddress, Int64($0.count)) }
}

/// How an input gradient is computed: dX from dY and the forward weights.
typealias InputGradient = @Sendable (_ outputGrad: Tensor, _ weight: Tensor, _ inputGrad: inout Tensor) throws -> Void

extension CBackend {
    // MARK: Conv

    /// Conv backward. dX: for unit strides (and pads within the kernel's reach) a forward convolution of dY with
    /// the transposed weights and the complementary pads, prepared by ``prepare(_:constants:)`` — so it runs on
    /// Winograd, implicit GEMM or the direct kernel exactly as a forward layer of that shape would; for other
    /// strides the ConvTranspose GEMM + col2im kernel. dW: the register-tile microkernels over a channel-last copy
    /// of X and packed dY (per-element dot products when the groups have too few channels). dB: fixed-order sums.
    public func prepareBackward(_ problem: ConvolutionProblem) throws -> any PreparedWeightedBackward {
        guard problem.descriptor.activation == .none else {
            throw declining("a fused activation has no backward pass here (differentiate the activation separately)", problem)
        }
        if problem.descriptor.border != .constant { return try prepareBorderedBackward(problem) }
        let desc = descriptor(problem)
        var window = desc.g
        guard ck_window_check(&window) == Int32(CK_OK) else { throw declining(Self.hugeGeometry, problem) }
        if let reason = Self.farPadding(problem.geometry) { throw declining(reason, problem) }
        let (dataName, data) = try convolutionInputGradient(problem, desc)
        let weights = try weightGradientPlan(desc, problem)
        let team = Int32(clamping: threads)
        let path = weightGradientName(weights)
        let workspace = Int(ck_conv_ncx_backward_weights_workspace_f32(weights.pointer)) + 4 * problem.weightShape.reduce(1, *)
        return CPreparedBackward(algorithm: "dX \(dataName), dW \(path)", workspace: workspace) {
            input, weight, outputGrad, inputGrad, weightGrad, biasGrad in
            if inputGrad != nil { try data(outputGrad, weight, &inputGrad!) }
            guard weightGrad != nil || biasGrad != nil else { return }
            let status = input.scalars.withUnsafeBufferPointer { x in
                outputGrad.scalars.withUnsafeBufferPointer { dy in
                    withOptionalMutable(&weightGrad) { dw, dwCount in
                        withOptionalMutable(&biasGrad) { db, dbCount in
                            ck_conv_ncx_backward_weights_run_f32(
                                weights.pointer, x.baseAddress, Int64(x.count), dy.baseAddress, Int64(dy.count), dw,
                                dwCount, db, dbCount, team)
                        }
                    }
                }
            }
            try self.check(status, "conv backward weights")
        }
    }

    /// The weight-gradient plan of the convolution `desc` (for ConvTranspose: the convolution it transposes).
    func weightGradientPlan(_ desc: ck_conv_desc, _ problem: some CustomStringConvertible) throws -> CPlanHandle {
        var desc = desc
        var plan: OpaquePointer?
        let status = ck_conv_ncx_backward_weights_prepare_f32(&desc, isaLevel, &plan)
        if status == Int32(CK_ERR_ARGUMENT) { throw declining("weight gradient sizes beyond the kernel's range", problem) }
        try check(status, "conv backward weights prepare")
        guard let plan else { throw declining("the weight-gradient kernel returned no plan", problem) }
        return CPlanHandle(plan) { ck_conv_ncx_backward_weights_destroy_f32($0) }
    }

    /// `winograd/avx512`, `microkernel/avx2`, `dot`: the weight-gradient path of a plan.
    func weightGradientName(_ plan: CPlanHandle) -> String {
        let isa = String(cString: ck_isa_name(ck_conv_ncx_backward_weights_isa(plan.pointer)))
        switch ck_conv_ncx_backward_weights_path(plan.pointer) {
        case 0: return "microkernel/\(isa)"
        case 2: return "winograd/\(isa)"
        default: return "dot"
        }
    }

    /// dX of a convolution: the derived forward convolution when strides are 1, else GEMM + col2im.
    private func convolutionInputGradient(_ problem: ConvolutionProblem, _ desc: ck_conv_desc) throws -> (String, InputGradient) {
        let g = problem.geometry
        let reach = zip(g.kernel, g.dilations).map { ($0 - 1) * $1 }
        if g.strides.allSatisfy({ $0 == 1 }),
           zip(reach, g.padBegin).allSatisfy({ $0 >= $1 }), zip(reach, g.padEnd).allSatisfy({ $0 >= $1 }) {
            let pads = zip(reach, g.padBegin).map { $0 - $1 } + zip(reach, g.padEnd).map { $0 - $1 }
            let derivedDescriptor = ConvolutionDescriptor(
                kernelShape: g.kernel, pads: pads, dilations: g.dilations, group: problem.group,
                mode: problem.descriptor.mode == .convolution ? .crossCorrelation : .convolution)
            let cg = problem.inputChannels / problem.group, mg = problem.outputChannels / problem.group
            if let derived = try? ConvolutionProblem(
                   descriptor: derivedDescriptor, inputShape: problem.outputShape,
                   weightShape: [problem.inputChannels, mg] + g.kernel),
               derived.geometry.outputSize == g.inputSize,
               let forward = try? prepare(derived, constants: .none) {
                let team = Int32(clamping: threads)
                let transposedShape = [problem.inputChannels, mg] + g.kernel
                _ = cg
                return ("forward \(forward.algorithm)", { outputGrad, weight, inputGrad in
                    var transposed = try Tensor(shape: transposedShape)
                    var desc = desc
                    let status = withPointers(weight.scalars, &transposed.scalars) { w, wCount, wt, wtCount in
                        ck_conv_transpose_weights_f32(&desc, 0, w, wCount, wt, wtCount, team)
                    }
                    try self.check(status, "conv backward weight transpose")
                    try forward.run(input: outputGrad, weight: transposed, bias: nil, output: &inputGrad)
                })
            }
        }
        // Saturating: the kernel of an empty weight and the spatial output of an empty batch may multiply past Int.
        let kk = saturatingProduct(g.kernel), rows = saturatingMultiply(problem.inputChannels / problem.group, kk)
        guard rows <= (16 << 20) / 4, saturatingProduct(g.outputSize) <= blasLimit,
              problem.outputChannels / problem.group <= blasLimit
        else { throw declining("C/group·Πkernel = \(rows) column rows exceed the 16 MiB workspace", problem) }
        let team = Int32(clamping: threads)
        return ("gemm_col2im", { outputGrad, weight, inputGrad in
            var desc = desc
            let status = outputGrad.scalars.withUnsafeBufferPointer { dy in
                withPointers(weight.scalars, &inputGrad.scalars) { w, wCount, dx, dxCount in
                    ck_conv_ncx_backward_data_col2im_f32(&desc, dy.baseAddress, Int64(dy.count), w, wCount, dx, dxCount, team)
                }
            }
            try self.check(status, "conv backward data")
        })
    }

    // MARK: ConvTranspose

    /// ConvTranspose backward: dX is the forward convolution of dY with the same weights (stride, dilation and pads
    /// of the transposed convolution); dW is the weight gradient of that convolution with the roles of X and dY
    /// exchanged; dB sums dY.
    public func prepareBackward(_ problem: ConvTransposeProblem) throws -> any PreparedWeightedBackward {
        let rank = problem.inputSize.count
        // The convolution this one transposes: input = the ConvTranspose output, output = its input.
        let conv = ck_conv_desc(
            batch: Int64(problem.batch), in_channels: Int64(problem.outputChannels),
            out_channels: Int64(problem.inputChannels), groups: Int64(problem.group),
            g: ckWindow(input: problem.outputSize, output: problem.inputSize, kernel: problem.kernel,
                        strides: problem.strides, dilations: problem.dilations, padBegin: problem.padBegin),
            flip: 0)
        var window = conv.g
        guard ck_window_check(&window) == Int32(CK_OK) else { throw declining(Self.hugeGeometry, problem) }
        let team = Int32(clamping: threads), isa = isaLevel
        let weights = try weightGradientPlan(conv, problem)

        // dX: the convolution itself, through the forward planner when its pads are expressible, else direct.
        var dataName = "direct"
        var forward: (any PreparedWeightedOperator)? = nil
        if problem.padBegin.allSatisfy({ $0 >= 0 }) {
            var padEnd: [Int] = []
            for a in 0..<rank {
                let ek = (problem.kernel[a] - 1) * problem.dilations[a] + 1
                let exact = problem.strides[a] * (problem.inputSize[a] - 1) + ek - problem.outputSize[a] - problem.padBegin[a]
                padEnd.append(max(exact, 0))
            }
            let d = ConvolutionDescriptor(
                kernelShape: problem.kernel, strides: problem.strides, pads: problem.padBegin + padEnd,
                dilations: problem.dilations, group: problem.group)
            if let derived = try? ConvolutionProblem(
                   descriptor: d, inputShape: problem.outputShape, weightShape: problem.weightShape),
               derived.geometry.outputSize == problem.inputSize,
               let prepared = try? prepare(derived, constants: .none) {
                forward = prepared
                dataName = "forward \(prepared.algorithm)"
            }
        }
        let spatial = Int64(saturatingProduct(problem.outputSize))
        let derivedForward = forward
        let path = weightGradientName(weights)
        return CPreparedBackward(
            algorithm: "dX \(dataName), dW \(path)",
            workspace: Int(ck_conv_ncx_backward_weights_workspace_f32(weights.pointer))
        ) { input, weight, outputGrad, inputGrad, weightGrad, biasGrad in
            if inputGrad != nil {
                if let forward = derivedForward {
                    try forward.run(input: outputGrad, weight: weight, bias: nil, output: &inputGrad!)
                } else {
                    var desc = conv
                    let status = outputGrad.scalars.withUnsafeBufferPointer { dy in
                        withPointers(weight.scalars, &inputGrad!.scalars) { w, wCount, dx, dxCount in
                            ck_conv_ncx_direct_f32(&desc, dy.baseAddress, Int64(dy.count), w, wCount, nil, dx, dxCount, team, isa)
                        }
                    }
                    try self.check(status, "convtranspose backward data")
                }
            }
            if weightGrad != nil {
                let status = input.scalars.withUnsafeBufferPointer { x in
                    outputGrad.scalars.withUnsafeBufferPointer { dy in
                        withOptionalMutable(&weightGrad) { dw, dwCount in
                            // The convolution's "input" is dY, its "output gradient" is X.
                            ck_conv_ncx_backward_weights_run_f32(
                                weights.pointer, dy.baseAddress, Int64(dy.count), x.baseAddress, Int64(x.count), dw,
                                dwCount, nil, 0, team)
                        }
                    }
                }
                try self.check(status, "convtranspose backward weights")
            }
            if biasGrad != nil {
                let status = outputGrad.scalars.withUnsafeBufferPointer { dy in
                    withOptionalMutable(&biasGrad) { db, dbCount in
                        ck_conv_ncx_backward_bias_f32(Int64(problem.batch), Int64(problem.outputChannels), spatial,
                                                      dy.baseAddress, Int64(dy.count), db, dbCount, team)
                    }
                }
                try self.check(status, "convtranspose backward bias")
            }
        }
    }

    // MARK: Pooling

    public func prepareBackward(_ problem: PoolingProblem) throws -> any PreparedPoolingBackward {
        let g = problem.geometry
        let rank = g.spatialRank
        func three(_ values: [Int]) -> (Int64, Int64, Int64) {
            let v = Array(repeating: 0, count: 3 - values.count) + values
            return (Int64(v[0]), Int64(v[1]), Int64(v[2]))
        }
        let desc = ck_pool_desc(
            batch: Int64(problem.batch), channels: Int64(problem.channels),
            g: ckWindow(input: g.inputSize, output: g.outputSize, kernel: g.kernel, strides: g.strides,
                        dilations: g.dilations, padBegin: g.padBegin),
            pad_end: three(g.padEnd), spatial_rank: Int64(rank),
            column_major: problem.descriptor.storageOrder == .columnMajor && rank == 2 ? 1 : 0)
        var window = desc.g
        guard ck_window_check(&window) == Int32(CK_OK) else { throw declining(Self.hugeGeometry, problem) }
        if let axis = (0..<rank).first(where: { Self.dilatedExtent(g, $0) > Self.maximumPoolingKernel(input: g.inputSize[$0]) }) {
            throw declining(Self.hugePoolingKernel(axis, g), problem)
        }
        let kind: Int32, p: Float, seed: UInt64
        switch problem.descriptor.kind {
        case .max: (kind, p, seed) = (Int32(CK_POOL_BWD_MAX), 0, 0)
        case .average(let includePad):
            (kind, p, seed) = (Int32(includePad ? CK_POOL_BWD_AVERAGE_PAD : CK_POOL_BWD_AVERAGE), 0, 0)
        case .lp(let value): (kind, p, seed) = (Int32(CK_POOL_BWD_LP), value, 0)
        case .stochastic(let s): (kind, p, seed) = (Int32(CK_POOL_BWD_STOCHASTIC), 0, s)
        case .stochasticExpectation: (kind, p, seed) = (Int32(CK_POOL_BWD_STOCHASTIC_EXPECTATION), 0, 0)
        }
        let team = Int32(clamping: threads), isa = isaLevel
        let selects = kind == Int32(CK_POOL_BWD_MAX) || kind == Int32(CK_POOL_BWD_STOCHASTIC)
        let workspace = selects ? 12 * problem.outputShape.reduce(1, *) : 0
        return CPreparedBackward(algorithm: "\(problem.descriptor.kind.canonicalName)_backward/\(self.isa)",
                                 workspace: workspace) { input, outputGrad, inputGrad in
            var desc = desc
            let status = input.scalars.withUnsafeBufferPointer { x in
                withPointers(outputGrad.scalars, &inputGrad.scalars) { dy, dyCount, dx, dxCount in
                    ck_pool_ncx_backward_f32(&desc, kind, p, seed, x.baseAddress, Int64(x.count), dy, dyCount, dx,
                                             dxCount, team, isa)
                }
            }
            try self.check(status, "pooling backward")
        }
    }

    // MARK: Resize, DepthToSpace / SpaceToDepth, Col2Im, MaxUnpool

    /// The adjoint of the tap tables the forward plan builds (the same `ResizeTaps`).
    public func prepareBackward(_ problem: ResizeProblem) throws -> any PreparedUnaryBackward {
        guard let taps = ResizeTaps(problem) else { throw declining("a resized axis before the last three", problem) }
        let nearest: Int32 = problem.descriptor.mode == .nearest ? 1 : 0
        let team = Int32(clamping: threads)
        return CPreparedBackward(algorithm: "\(problem.descriptor.mode)_adjoint", workspace: threads * 4 * taps.axes[2].input) {
            outputGrad, inputGrad in
            let status = taps.withAxes { axes in
                withPointers(outputGrad.scalars, &inputGrad.scalars) { dy, dyCount, dx, dxCount in
                    ck_resize_ncx_taps_backward_f32(Int64(taps.planes), axes, nearest, dy, dyCount, dx, dxCount, team)
                }
            }
            try self.check(status, "resize backward")
        }
    }

    /// The inverse permutation: SpaceToDepth of dY for DepthToSpace and the other way round.
    public func prepareBackward(_ problem: PixelShuffleProblem) throws -> any PreparedUnaryBackward {
        let d = problem.descriptor
        let large = (d.direction == .depthToSpace ? problem.outputShape : problem.inputShape).map(Int64.init)
        let team = Int32(clamping: threads)
        return CPreparedBackward(algorithm: "copy", workspace: 0) { outputGrad, inputGrad in
            let status = withPointers(outputGrad.scalars, &inputGrad.scalars) { dy, dyCount, dx, dxCount in
                ck_pixelshuffle_nchw_f32(
                    d.direction == .depthToSpace ? 1 : 0, d.mode == .crd ? 1 : 0, large[0], large[1], large[2], large[3],
                    Int64(d.blockSize), dy, dyCount, dx, dxCount, team)
            }
            try self.check(status, "pixelshuffle backward")
        }
    }

    /// Im2col of dY.
    public func prepareBackward(_ problem: Col2ImProblem) throws -> any PreparedUnaryBackward {
        guard problem.geometry.spatialRank <= 3 else { throw declining("more than 3 image axes", problem) }
        let g = problem.geometry
        let window = ckWindow(input: g.inputSize, output: g.outputSize, kernel: g.kernel, strides: g.strides,
                              dilations: g.dilations, padBegin: g.padBegin)
        var query = window
        guard ck_window_check(&query) == Int32(CK_OK) else { throw declining(Self.hugeGeometry, problem) }
        let team = Int32(clamping: threads)
        return CPreparedBackward(algorithm: "im2col", workspace: 0) { outputGrad, inputGrad in
            var window = window
            let status = withPointers(outputGrad.scalars, &inputGrad.scalars) { dy, dyCount, dx, dxCount in
                ck_im2col_ncx_f32(&window, Int64(problem.batch), Int64(problem.channels), dy, dyCount, dx, dxCount, team)
            }
            try self.check(status, "col2im backward")
        }
    }

    /// A gather of dY at the indices.
    public func prepareBackward(_ problem: MaxUnpoolProblem) throws -> any PreparedMaxUnpoolBackward {
        let space = problem.indexSpaceShape.dropFirst(2).map(Int64.init)
        let out = problem.outputShape.dropFirst(2).map(Int64.init)
        let team = Int32(clamping: threads)
        return CPreparedBackward(algorithm: "gather", workspace: 0) { indices, outputGrad, inputGrad in
            let status = indices.scalars.withUnsafeBufferPointer { ix in
                withPointers(outputGrad.scalars, &inputGrad.scalars) { dy, dyCount, dx, dxCount in
                    ck_maxunpool_ncx_backward_f32(
                        Int64(problem.inputShape[0]), Int64(problem.inputShape[1]), Int64(space.count), space, out, dy,
                        dyCount, ix.baseAddress, dx, dxCount, team)
                }
            }
            try self.check(status, "maxunpool backward")
        }
    }
}
