#include <pthread.h>
#include "ck_internal.h"

void openblas_set_num_threads(int num_threads);

int ck_num_procs(void) { return omp_get_num_procs(); }

int ck_window_check(const ck_window *g) {
    if (!g) return CK_ERR_ARGUMENT;
    for (int a = 0; a < 3; a++) {
        if (g->in[a] < 0 || g->out[a] < 0 || g->kernel[a] < 1 || g->stride[a] < 1 || g->dilation[a] < 1)
            return CK_ERR_ARGUMENT;
        // Keep every coordinate expression (o*s + k*d - p) far from overflow.
        const int64_t big = (int64_t)1 << 60;
        if (g->in[a] > big || g->out[a] > big || g->pad[a] > big || g->pad[a] < -big ||
            ck_mul(g->out[a], g->stride[a]) < 0 || ck_mul(g->out[a], g->stride[a]) > big ||
            ck_mul(g->kernel[a] - 1, g->dilation[a]) < 0 || ck_mul(g->kernel[a] - 1, g->dilation[a]) > big)
            return CK_ERR_ARGUMENT;
    }
    if (ck_prod3(g->in) < 0 || ck_prod3(g->out) < 0 || ck_prod3(g->kernel) < 0) return CK_ERR_ARGUMENT;
    return CK_OK;
}

// OpenBLAS (the pthread build Debian installs) would start its own threads inside each of our OpenMP threads and
// oversubscribe the cores. CKernels splits GEMMs into fixed tiles across its OpenMP team instead, so it runs
// OpenBLAS single-threaded: the tile calls are then the same for every thread count, which makes results
// bitwise reproducible, and the two thread pools never compete. (This is process-wide OpenBLAS state.)
static pthread_once_t blas_once = PTHREAD_ONCE_INIT;
static void blas_single_thread(void) { openblas_set_num_threads(1); }

void ck_blas_single_threaded(void) { pthread_once(&blas_once, blas_single_thread); }

void ck_sgemm(int trans_a, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb,
              float beta, float *c, int64_t ldc) {
    pthread_once(&blas_once, blas_single_thread);
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {  // sgemm with k = 0 only scales C; do it here so that beta = 0 clears it
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
        return;
    }
    cblas_sgemm(CK_ROW_MAJOR, trans_a ? CK_TRANS : CK_NO_TRANS, CK_NO_TRANS, (int)m, (int)n, (int)k, 1.0f, a, (int)lda,
                b, (int)ldb, beta, c, (int)ldc);
}
