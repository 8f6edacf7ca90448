#ifndef CK_BLAS_INFO_H
#define CK_BLAS_INFO_H

/// The name of the kernel set OpenBLAS chose for this CPU at load time (e.g. "Haswell", "SkylakeX", or "Prescott"
/// when an OpenBLAS build older than the CPU falls back to SSE3 kernels); OPENBLAS_CORETYPE overrides the choice.
const char *ck_blas_core_name(void);

#endif
