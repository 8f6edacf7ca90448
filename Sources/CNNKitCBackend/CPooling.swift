import CNNKitCore
internal import CKernels

extension CBackend {
    public func prepare(_ problem: PoolingProblem) throws -> any PreparedPooling {
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
        let team = Int32(clamping: threads), isa = isaLevel
        let kind = problem.descriptor.kind
        return CPrepared(algorithm: "\(kind.canonicalName)/\(self.isa)", workspace: 0) { input, output, indices in
            var desc = desc
            let xCount = Int64(input.count), yCount = Int64(output.count)
            let status: Int32 = input.scalars.withUnsafeBufferPointer { xb in
                output.scalars.withUnsafeMutableBufferPointer { yb in
                    let x = xb.baseAddress, y = yb.baseAddress
                    func withIndices(_ body: (UnsafeMutablePointer<Int64>?) -> Int32) -> Int32 {
                        guard indices != nil else { return body(nil) }
                        return indices!.scalars.withUnsafeMutableBufferPointer { body($0.baseAddress) }
                    }
                    switch kind {
                    case .max:
                        return withIndices { ck_maxpool_ncx_f32(&desc, x, xCount, y, yCount, $0, team, isa) }
                    case .average(let includePad):
                        return ck_avgpool_ncx_f32(&desc, includePad ? 1 : 0, x, xCount, y, yCount, team, isa)
                    case .lp(let p):
                        return ck_lppool_ncx_f32(&desc, p, x, xCount, y, yCount, team, isa)
                    case .stochastic(let seed):
                        return withIndices { ck_stochpool_ncx_f32(&desc, 0, seed, x, xCount, y, yCount, $0, team) }
                    case .stochasticExpectation:
                        return ck_stochpool_ncx_f32(&desc, 1, 0, x, xCount, y, yCount, nil, team)
                    }
                }
            }
            try self.check(status, "pooling \(kind.canonicalName)")
        }
    }
}

extension CBackend {
    /// The largest dilated pooling window `(k − 1)·d + 1` the kernels take over an input axis of length `input`:
    /// `2·L + 16`. The kernels' fast row paths pad planes by the window's extent; a window far larger than the input
    /// (a huge kernel or dilation with SAME padding) takes their slower per-output path over the in-input taps, so
    /// the adapter leaves such problems to the reference backend, whose windows are clipped to the input in closed
    /// form as well.
    static func maximumPoolingKernel(input: Int) -> Int { saturatingAdd(saturatingMultiply(2, input), 16) }

    /// `(k − 1)·d + 1` (validation bounds it below Int.max / 4).
    static func dilatedExtent(_ g: WindowGeometry, _ axis: Int) -> Int { (g.kernel[axis] - 1) * g.dilations[axis] + 1 }

    static func hugePoolingKernel(_ axis: Int, _ g: WindowGeometry) -> String {
        "a pooling window of \(g.kernel[axis]) (dilation \(g.dilations[axis])) on axis \(axis) over an input of "
            + "\(g.inputSize[axis]) (a dilated extent of at most 2·L + 16)"
    }
}
