internal import CKernels

extension CBackend {
    public func support(for problem: PoolingProblem) -> Support { .supported }

    public func pooling(_ problem: PoolingProblem, input: Tensor, output: inout Tensor, indices: inout IndexTensor?) {
        let g = problem.geometry
        let rank = g.spatialRank
        func three(_ values: [Int]) -> (Int64, Int64, Int64) {
            let v = Array(repeating: 0, count: 3 - values.count) + values
            return (Int64(v[0]), Int64(v[1]), Int64(v[2]))
        }
        var desc = ck_pool_desc(
            batch: Int64(problem.batch), channels: Int64(problem.channels),
            g: ckWindow(input: g.inputSize, output: g.outputSize, kernel: g.kernel, strides: g.strides,
                        dilations: g.dilations, padBegin: g.padBegin),
            pad_end: three(g.padEnd), spatial_rank: Int64(rank),
            column_major: problem.descriptor.storageOrder == .columnMajor && rank == 2 ? 1 : 0)
        let team = Int32(clamping: threads)
        let xCount = Int64(input.count), yCount = Int64(output.count)
        let status: Int32 = input.scalars.withUnsafeBufferPointer { xb in
            output.scalars.withUnsafeMutableBufferPointer { yb in
                let x = xb.baseAddress, y = yb.baseAddress
                func withIndices(_ body: (UnsafeMutablePointer<Int64>?) -> Int32) -> Int32 {
                    guard indices != nil else { return body(nil) }
                    return indices!.scalars.withUnsafeMutableBufferPointer { body($0.baseAddress) }
                }
                switch problem.descriptor.kind {
                case .max:
                    return withIndices { ck_maxpool_ncx_f32(&desc, x, xCount, y, yCount, $0, team) }
                case .average(let includePad):
                    return ck_avgpool_ncx_f32(&desc, includePad ? 1 : 0, x, xCount, y, yCount, team)
                case .lp(let p):
                    return ck_lppool_ncx_f32(&desc, p, x, xCount, y, yCount, team)
                case .stochastic(let seed):
                    return withIndices { ck_stochpool_ncx_f32(&desc, 0, seed, x, xCount, y, yCount, $0, team) }
                case .stochasticExpectation:
                    return ck_stochpool_ncx_f32(&desc, 1, 0, x, xCount, y, yCount, nil, team)
                }
            }
        }
        check(status, "pooling \(problem.descriptor.kind.canonicalName)") {
            ReferenceBackend().pooling(problem, input: input, output: &output, indices: &indices)
        }
    }
}
