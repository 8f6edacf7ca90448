/// Optional backend capabilities that tools use when a backend offers them: `cnnkit bench`, the Benchmarks
/// package and the cross-check tests. A backend that adopts none of these still runs everywhere with its defaults.

/// A backend whose thread count and convolution algorithm can be fixed by the caller.
///
/// `cnnkit bench --threads N --algorithm NAME` and the benchmark package call
/// ``configured(threads:convolutionAlgorithm:)`` and plan on the returned backend. A backend that does not adopt
/// this protocol runs with its own defaults (for threads, `CNNKIT_NUM_THREADS` is still set in the environment).
public protocol ConfigurableBackend: Backend {
    /// Names accepted by ``configured(threads:convolutionAlgorithm:)``, e.g. `["direct", "im2col_gemm", "gemm1x1"]`;
    /// empty when the backend has a single algorithm.
    var convolutionAlgorithms: [String] { get }

    /// This backend with `threads` worker threads (`nil`: its default) and every convolution forced to
    /// `convolutionAlgorithm` (`nil`: its own heuristic). The result keeps the same ``Backend/name``; when the
    /// forced algorithm cannot run a problem, its `support(for:)` declines with the reason.
    /// - Throws: ``CNNKitError`` (`.invalidArgument`) for `threads < 1` or an algorithm not in
    ///   ``convolutionAlgorithms``.
    func configured(threads: Int?, convolutionAlgorithm: String?) throws -> any Backend

    /// The algorithm this backend runs `problem` with (the forced one, or its heuristic's pick), for reports.
    func convolutionAlgorithm(for problem: ConvolutionProblem) -> String
}

/// A backend that allocates scratch memory while running and can say how much, so that benchmark reports show
/// memory next to time. Each method defaults to 0 (no workspace).
public protocol WorkspaceReporting: Backend {
    /// Bytes of workspace one run of `problem` allocates (im2col tiles, packed weights, …).
    func workspaceBytes(for problem: ConvolutionProblem) -> Int
    /// Bytes of workspace one run of `problem` allocates.
    func workspaceBytes(for problem: PoolingProblem) -> Int
    /// Bytes of workspace one run of `problem` allocates (tap tables, intermediate passes, …).
    func workspaceBytes(for problem: ResizeProblem) -> Int
}

extension WorkspaceReporting {
    public func workspaceBytes(for problem: ConvolutionProblem) -> Int { 0 }
    public func workspaceBytes(for problem: PoolingProblem) -> Int { 0 }
    public func workspaceBytes(for problem: ResizeProblem) -> Int { 0 }
}
