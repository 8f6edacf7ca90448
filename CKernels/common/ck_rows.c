#include <stdlib.h>
#include "ck_rows.h"

int ck_rowplan_init(ck_rowplan *rp, const ck_window *g, int64_t owb) {
    const int64_t KW = g->kernel[2], s = g->stride[2], d = g->dilation[2];
    rp->s = s; rp->d = d; rp->p = g->pad[2]; rp->KW = KW; rp->IW = g->in[2];
    rp->owb = owb = ck_max(1, ck_min(owb, g->out[2]));
    rp->plen = owb + (KW - 1) * d / s + 1;
    // A window far wider than any row (a hostile kernel or dilation) would make the phase rows, and this table,
    // gigabytes: decline instead (the callers return CK_ERR_NOMEM). Real layers are nowhere near.
    rp->slot = NULL;
    if (KW > CK_ROWPLAN_MAX_FLOATS || ck_mul(ck_min(KW, s), rp->plen) > CK_ROWPLAN_MAX_FLOATS) return CK_ERR_NOMEM;
    int64_t *buf = malloc(sizeof(int64_t) * 3 * (size_t)KW);
    if (!buf) return CK_ERR_NOMEM;
    rp->slot = buf; rp->shift = buf + KW; rp->phase = buf + 2 * KW;
    // kw·d mod s takes distinct values for kw below s / gcd(d, s), then repeats: slots in order of first use are
    // the first `period` taps' phases, and tap kw uses slot kw mod period (no search: a wide window stays linear).
    int64_t u = d, v = s;
    while (v) { const int64_t t = u % v; u = v; v = t; }
    const int64_t period = s / u;
    rp->nslots = ck_min(KW, period);
    for (int64_t kw = 0; kw < KW; kw++) {
        if (kw < period) rp->phase[kw] = kw * d % s;
        rp->slot[kw] = kw % period;
        rp->shift[kw] = kw * d / s;
    }
    return CK_OK;
}

void ck_rowplan_free(ck_rowplan *rp) { free(rp->slot); }

