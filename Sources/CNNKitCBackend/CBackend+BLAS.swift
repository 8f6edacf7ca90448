import CNNKitCore
internal import CKernels

extension CBackend {
    /// The kernel set OpenBLAS picked for this CPU when it loaded, e.g. `"Haswell"` or `"SkylakeX"`.
    ///
    /// An OpenBLAS build older than the CPU (Debian 12's 0.3.21 on Sapphire / Emerald Rapids Xeons) falls back to
    /// its SSE3 `"Prescott"` kernels, several times slower than its AVX2 ones; ``blasAdvice`` says what to do then.
    public static var blasCoreName: String { String(cString: ck_blas_core_name()) }

    /// A one-line hint when OpenBLAS runs SSE-only kernels on a CPU with AVX2 + FMA, else `nil`.
    ///
    /// It matters only when the OpenBLAS algorithms (`im2col_gemm`, `gemm1x1`) are forced: on AVX2 / AVX-512 CPUs
    /// the automatic choice runs CNNKit's own microkernels, which need no setting.
    public static var blasAdvice: String? {
        let core = blasCoreName
        let sseOnly = ["prescott", "core2", "penryn", "dunnington", "nehalem", "katmai", "coppermine", "northwood", "banias"]
        guard sseOnly.contains(core.lowercased()), ck_isa_detect() >= Int32(CK_ISA_AVX2) else { return nil }
        return "OpenBLAS chose its \(core) (SSE) kernels on a CPU with AVX2 + FMA (this OpenBLAS build predates the "
            + "CPU). CNNKit's own microkernels run by default and are not affected; only a forced im2col_gemm or "
            + "gemm1x1 is, which OPENBLAS_CORETYPE=Haswell or SkylakeX, set before the process starts, would speed up."
    }
}
