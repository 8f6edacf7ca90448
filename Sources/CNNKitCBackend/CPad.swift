import CNNKitCore
internal import CKernels

extension CBackend {
    /// `ck_pad_ncx_f32`: row copies with the borders mapped per position. Declines ranks above 16.
    public func prepare(_ problem: PadProblem) throws -> any PreparedUnaryOperator {
        let (input, start, extent, begin, output, mode) = try padArguments(problem)
        let value = problem.descriptor.constantValue, team = Int32(clamping: threads)
        return CPrepared(algorithm: "rows", workspace: 0) { x, y in
            let status = withPointers(x.scalars, &y.scalars) { xp, xCount, yp, yCount in
                ck_pad_ncx_f32(Int64(input.count), input, start, extent, begin, output, mode, value, xp, xCount, yp, yCount, team)
            }
            try self.check(status, "pad")
        }
    }

    /// `ck_pad_ncx_backward_f32`: each input row sums the output rows that read it, in one fixed order.
    public func prepareBackward(_ problem: PadProblem) throws -> any PreparedUnaryBackward {
        let (input, start, extent, begin, output, mode) = try padArguments(problem)
        let team = Int32(clamping: threads)
        // The per-axis lists of output positions reading each input position.
        let entries = (input.dropLast() + output.dropLast()).reduce(input.count) { saturatingAdd($0, Int($1)) }
        let workspace = saturatingMultiply(8, entries)
        return CPreparedBackward(algorithm: "rows_adjoint", workspace: workspace) { dy, dx in
            let status = withPointers(dy.scalars, &dx.scalars) { dyp, dyCount, dxp, dxCount in
                ck_pad_ncx_backward_f32(Int64(input.count), input, start, extent, begin, output, mode, dyp, dyCount, dxp, dxCount, team)
            }
            try self.check(status, "pad backward")
        }
    }

    private func padArguments(_ problem: PadProblem) throws -> ([Int64], [Int64], [Int64], [Int64], [Int64], Int32) {
        guard problem.inputShape.count <= 16 else { throw declining("Pad of more than 16 axes", problem) }
        let mode: Int32
        switch problem.descriptor.mode {
        case .constant: mode = Int32(CK_BORDER_CONSTANT)
        case .reflect: mode = Int32(CK_BORDER_REFLECT)
        case .symmetric: mode = Int32(CK_BORDER_SYMMETRIC)
        case .edge: mode = Int32(CK_BORDER_EDGE)
        case .wrap: mode = Int32(CK_BORDER_WRAP)
        }
        let int64 = { (values: [Int]) in values.map(Int64.init) }
        return (int64(problem.inputShape), int64(problem.start), int64(problem.extent), int64(problem.begin),
                int64(problem.outputShape), mode)
    }
}
