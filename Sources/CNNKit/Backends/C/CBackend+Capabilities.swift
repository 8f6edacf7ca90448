// Glue between the C backend (branch `c-backend`: `CBackend(threads:algorithm:)`, `resolvedAlgorithm(for:)`,
// `im2colWorkspace(for:)`) and the optional capability protocols of Core/BackendCapabilities.swift, so that
// `cnnkit bench --threads N --algorithm NAME` and the Benchmarks package reach it and report its algorithm and
// workspace. Compiled only once the CKernels target exists (after the C backend is merged); checked on a trial
// merge of `bench` with `c-backend`.
#if canImport(CKernels)
internal import CKernels

extension CBackend: ConfigurableBackend, WorkspaceReporting {
    public var convolutionAlgorithms: [String] { ConvolutionAlgorithm.allCases.map(\.rawValue) }

    public func configured(threads: Int?, convolutionAlgorithm: String?) throws -> any Backend {
        if let threads, threads < 1 {
            throw CNNKitError.invalidArgument("threads", value: "\(threads)", expected: "threads >= 1")
        }
        var chosen = algorithm
        if let name = convolutionAlgorithm {
            guard let value = ConvolutionAlgorithm(rawValue: name) else {
                throw CNNKitError.invalidArgument(
                    "algorithm", value: name, expected: "one of \(convolutionAlgorithms.joined(separator: ", "))")
            }
            chosen = value
        }
        return CBackend(threads: threads ?? self.threads, algorithm: chosen)
    }

    public func convolutionAlgorithm(for problem: ConvolutionProblem) -> String {
        resolvedAlgorithm(for: problem).rawValue
    }

    /// im2col tiles (at most 16 MiB), or the direct kernel's padded planes / rows and accumulators; gemm1x1 needs
    /// none. A flipped-kernel copy counts too.
    public func workspaceBytes(for problem: ConvolutionProblem) -> Int {
        var desc = descriptor(problem)
        switch resolvedAlgorithm(for: problem) {
        case .gemm1x1: return 0
        case .im2colGEMM:
            return im2colWorkspace(for: problem) + (problem.descriptor.mode == .convolution ? 4 * problem.weightShape.reduce(1, *) : 0)
        case .direct, .automatic: return max(0, Int(ck_conv_ncx_direct_workspace_f32(&desc, Int32(clamping: threads))))
        }
    }

    /// The tap tables (index and weight per tap and output position) and one input row per thread.
    public func workspaceBytes(for problem: ResizeProblem) -> Int {
        guard let taps = ResizeTaps(problem) else { return 0 }
        return taps.axes.reduce(0) { $0 + $1.output * $1.taps * 12 } + threads * 4 * taps.axes[2].input
    }
}
#endif
