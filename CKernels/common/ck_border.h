// Border modes: which position of an axis a position beyond its edge takes (BorderMode in CNNKitCore).
#ifndef CK_BORDER_H
#define CK_BORDER_H
#include "ck_internal.h"

/// The position in [0, n) (n >= 1) whose value position i takes under `mode`, or -1 for CK_BORDER_CONSTANT
/// outside. Mirrors BorderMode.sourceIndex(_:extent:) in Sources/CNNKitCore/Descriptors/PadDescriptors.swift.
CK_INLINE int64_t ck_border_index(int64_t i, int64_t n, int mode) {
    if (i >= 0 && i < n) return i;
    switch (mode) {
    case CK_BORDER_EDGE: return i < 0 ? 0 : n - 1;
    case CK_BORDER_WRAP: return ((i % n) + n) % n;
    case CK_BORDER_REFLECT: {
        if (n == 1) return 0;
        const int64_t period = 2 * (n - 1), r = ((i % period) + period) % period;
        return r < n ? r : period - r;
    }
    case CK_BORDER_SYMMETRIC: {
        const int64_t period = 2 * n, r = ((i % period) + period) % period;
        return r < n ? r : period - 1 - r;
    }
    default: return -1;
    }
}

#endif
