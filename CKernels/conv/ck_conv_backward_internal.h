// What the conv weight-gradient plan (ck_conv_ncx_backward_weights_f32.c) shares with its Winograd path
// (ck_conv_nchw_winograd_backward_weights_f32.c).
#ifndef CK_CONV_BACKWARD_INTERNAL_H
#define CK_CONV_BACKWARD_INTERNAL_H
#include "conv_internal.h"
#include "../gemm/gemm_internal.h"

typedef struct ck_wino_bwd ck_wino_bwd;
/// CK_ERR_ARGUMENT when `d` is not a 2-D 3×3 stride-1 dilation-1 convolution (or its sizes do not fit).
int ck_wino_bwd_prepare(const ck_conv_desc *d, const ck_gemm_ukernels *uk, ck_wino_bwd **out);
/// dw [M, C/G, 3, 3] from x and dy (counts checked by the caller).
int ck_wino_bwd_run(const ck_wino_bwd *p, const float *x, const float *dy, float *dw, int threads);
int64_t ck_wino_bwd_workspace(const ck_wino_bwd *p);
void ck_wino_bwd_destroy(ck_wino_bwd *p);
#endif
