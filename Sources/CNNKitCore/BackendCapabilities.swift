/// Optional backend capabilities that tools use when a backend offers them: `cnnkit bench`, the Benchmarks
/// package and the cross-check tests. A backend that adopts none of these still runs everywhere with its defaults.

/// A backend whose threads, algorithms and instruction-set variants can be fixed by the caller.
///
/// `cnnkit bench --threads N --algorithm NAME --isa NAME`, the Benchmarks package and the cross-check tests call
/// ``configured(threads:convolutionAlgorithm:isa:)`` and plan on the returned instance, so every variant a backend
/// has is measured and checked against the reference without code specific to that backend.
public protocol ConfigurableBackend: Backend {
    /// Names accepted as `convolutionAlgorithm`, e.g. `["direct", "im2col_gemm", "implicit_gemm"]`; empty when the
    /// backend has a single algorithm.
    var convolutionAlgorithms: [String] { get }
    /// Names accepted as `isa` on this CPU, worst to best (e.g. `["portable", "avx2", "avx512"]`); empty when the
    /// backend has no instruction-set variants.
    var instructionSets: [String] { get }

    /// This backend with `threads` worker threads (`nil`: its default), every convolution forced to
    /// `convolutionAlgorithm` (`nil`: its own heuristic) and kernels capped at instruction set `isa` (`nil`: the
    /// best the CPU has). The result keeps the same ``Backend/name``; a forced algorithm that cannot run a
    /// problem makes `prepare` decline with the reason.
    /// - Throws: ``CNNKitError`` (`.invalidArgument`) for `threads < 1`, or a name not in the lists above.
    func configured(threads: Int?, convolutionAlgorithm: String?, isa: String?) throws -> any Backend
}
