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
