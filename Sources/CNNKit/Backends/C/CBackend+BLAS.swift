internal import CKernels

extension CBackend {
    /// The kernel set OpenBLAS picked for this CPU when it loaded, e.g. `"Haswell"` or `"SkylakeX"`.
    ///
    /// An OpenBLAS build older than the CPU (Debian 12's 0.3.21 on Sapphire / Emerald Rapids Xeons) falls back to
    /// its SSE3 `"Prescott"` kernels, several times slower than its AVX2 ones; ``blasAdvice`` says what to do then.
    public static var blasCoreName: String { String(cString: ck_blas_core_name()) }

    /// A one-line hint when OpenBLAS runs SSE-only kernels on a CPU with AVX2 + FMA, else `nil`.
    ///
    /// OpenBLAS reads `OPENBLAS_CORETYPE` when it loads, so the setting must be in the environment before the
    /// process starts: `OPENBLAS_CORETYPE=Haswell` (AVX2) or `SkylakeX` (AVX-512).
    public static var blasAdvice: String? {
        let core = blasCoreName
        let sseOnly = ["prescott", "core2", "penryn", "dunnington", "nehalem", "katmai", "coppermine", "northwood", "banias"]
        guard sseOnly.contains(core.lowercased()), ck_cpu_has_avx2_fma() != 0 else { return nil }
        return "OpenBLAS chose its \(core) (SSE) kernels on a CPU with AVX2 + FMA, so im2col + GEMM convolution runs "
            + "several times slower than it could: this OpenBLAS build predates the CPU. Start the process with "
            + "OPENBLAS_CORETYPE=Haswell (AVX2) or OPENBLAS_CORETYPE=SkylakeX (AVX-512)."
    }
}
