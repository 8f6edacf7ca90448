import CNNKitCore
internal import CKernels

extension CBackend {
    /// `ck_adaptivepool_ncx_f32`: per-axis window tables, output rows as work items.
    public func prepare(_ problem: AdaptivePoolingProblem) throws -> any PreparedPooling {
        let (kind, planes, input, output) = adaptiveArguments(problem)
        let team = Int32(clamping: threads)
        return CPrepared(algorithm: "adaptive_\(problem.descriptor.kind.rawValue)", workspace: tableBytes(output)) {
            x, y, indices in
            func call(_ index: UnsafeMutablePointer<Int64>?) -> Int32 {
                withPointers(x.scalars, &y.scalars) { xp, xCount, yp, yCount in
                    ck_adaptivepool_ncx_f32(kind, planes, Int64(input.count), input, output, xp, xCount, yp, yCount, index, team)
                }
            }
            let status = indices == nil ? call(nil) : indices!.scalars.withUnsafeMutableBufferPointer { call($0.baseAddress) }
            try self.check(status, "adaptive pooling")
        }
    }

    /// `ck_adaptivepool_ncx_backward_f32`: planes as work items, each window's gradient scattered in output order.
    public func prepareBackward(_ problem: AdaptivePoolingProblem) throws -> any PreparedPoolingBackward {
        let (kind, planes, input, output) = adaptiveArguments(problem)
        let team = Int32(clamping: threads)
        return CPreparedBackward(algorithm: "adaptive_\(problem.descriptor.kind.rawValue)_backward",
                                 workspace: tableBytes(output)) { x, dy, dx in
            let status = x.scalars.withUnsafeBufferPointer { xb in
                withPointers(dy.scalars, &dx.scalars) { dyp, dyCount, dxp, dxCount in
                    ck_adaptivepool_ncx_backward_f32(kind, planes, Int64(input.count), input, output, xb.baseAddress,
                                                     Int64(xb.count), dyp, dyCount, dxp, dxCount, team)
                }
            }
            try self.check(status, "adaptive pooling backward")
        }
    }

    /// The per-axis window tables (two Int64 per output position of each axis).
    private func tableBytes(_ output: [Int64]) -> Int {
        saturatingMultiply(16, output.reduce(0) { saturatingAdd($0, Int($1)) })
    }

    private func adaptiveArguments(_ problem: AdaptivePoolingProblem) -> (Int32, Int64, [Int64], [Int64]) {
        let kind = Int32(problem.descriptor.kind == .max ? CK_ADAPTIVE_MAX : CK_ADAPTIVE_AVERAGE)
        return (kind, Int64(saturatingMultiply(problem.inputShape[0], problem.inputShape[1])),
                problem.inputShape.dropFirst(2).map(Int64.init), problem.outputShape.dropFirst(2).map(Int64.init))
    }
}
