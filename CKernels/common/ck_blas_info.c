#include "ck_blas_info.h"

char *openblas_get_corename(void);

const char *ck_blas_core_name(void) { return openblas_get_corename(); }
