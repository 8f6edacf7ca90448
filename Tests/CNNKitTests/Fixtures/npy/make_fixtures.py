#!/usr/bin/env python3
"""Regenerates the .npy fixtures of NPYTests.swift with NumPy itself (pip install numpy; run from anywhere).

Every file holds the same [2, 3, 4] array, a[i, j, k] = (12 i + 4 j + k) / 2 - 3 (int64: 12 i + 4 j + k - 6),
stored with another dtype, byte order, memory order or format version, as numpy.save writes it.
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
a = np.arange(24).reshape(2, 3, 4) / 2 - 3
i = np.arange(24, dtype=np.int64).reshape(2, 3, 4) - 6

files = {
    "f8-c.npy": a.astype("<f8"),                                # NumPy's default dtype
    "f8-fortran.npy": np.asfortranarray(a.astype("<f8")),
    "f8-big-fortran.npy": np.asfortranarray(a.astype(">f8")),
    "f4-big.npy": a.astype(">f4"),
    "f4-fortran.npy": np.asfortranarray(a.astype("<f4")),
    "i8-big.npy": i.astype(">i8"),
    "i8-fortran.npy": np.asfortranarray(i),
    "u1.npy": (np.arange(24).reshape(2, 3, 4) * 10).astype(np.uint8),
}
for name, array in files.items():
    np.save(os.path.join(HERE, name), array)
# Format version 2.0 (4-byte header length), as NumPy writes for very large headers.
with open(os.path.join(HERE, "f4-v2.npy"), "wb") as f:
    np.lib.format.write_array(f, a.astype("<f4"), version=(2, 0))
# float64 values that float32 cannot hold exactly: rounding, overflow to infinity, NaN, subnormal underflow.
np.save(os.path.join(HERE, "f8-special.npy"), np.array([0.1, 1e39, -1e39, np.nan, 1e-46, 2.0 ** -140]))
print("wrote", sorted(f for f in os.listdir(HERE) if f.endswith(".npy")))
