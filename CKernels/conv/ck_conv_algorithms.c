// The algorithm list of conv/ck_conv_algorithms.def, exposed to the Swift adapter.
#include "conv_internal.h"

static const char *const names[] = {
#define CK_CONV_ALGORITHM(id, name) name,
#include "ck_conv_algorithms.def"
#undef CK_CONV_ALGORITHM
};

int ck_conv_algorithm_count(void) { return (int)(sizeof names / sizeof names[0]); }

const char *ck_conv_algorithm_name(int i) { return i >= 0 && i < ck_conv_algorithm_count() ? names[i] : NULL; }
