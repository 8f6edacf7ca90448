// Glue between the C backend (branch `c-backend`: `CBackend(threads:algorithm:)`, `resolvedAlgorithm(for:)`,
// `im2colWorkspace(for:)`) and the optional capability protocols of Core/BackendCapabilities.swift, so that
// `cnnkit bench --threads N --algorithm NAME` and the Benchmarks package reach it and report its algorithm and
// workspace. Compiled only once the CKernels target exists (after the C backend is merged); checked on a trial
// merge of `bench` with `c-backend`.
#if canImport(CKernels)
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

    public func workspaceBytes(for problem: ConvolutionProblem) -> Int {
        resolvedAlgorithm(for: problem) == .im2colGEMM ? im2colWorkspace(for: problem) : 0
    }
}
#endif
