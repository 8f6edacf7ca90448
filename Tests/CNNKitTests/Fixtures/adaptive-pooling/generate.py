"""Adaptive pooling fixtures: PyTorch's AdaptiveMaxPool2d / AdaptiveAvgPool2d (and the 1-D / 3-D forms) on a crop of
a real photo, with sizes that do not divide (overlapping, uneven windows) and sizes larger than the input.

Run from this folder with torch, opencv-python-headless and numpy installed (used only to make the fixtures):
    python3 generate.py ../../../../../shared/data
Writes input.npy (chelsea.png rows 60-96, columns 150-201, RGB / 255, as [1, 3, 37, 52] float32) and, per case
in manifest.json, the output and (max) PyTorch's return_indices=True indices — positions within each plane.
"""
import json
import sys

import cv2
import numpy as np
import torch

data = sys.argv[1]
rgb = cv2.cvtColor(cv2.imread(f"{data}/chelsea.png", cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)[60:97, 150:202]
x = np.ascontiguousarray((rgb.astype(np.float32) / 255).transpose(2, 0, 1))[None]
np.save("input.npy", x)
t = torch.from_numpy(x)
cases = []
for kind in ("max", "average"):
    for size in ((5, 7), (10, 13), (37, 52), (1, 1), (50, 60), (3, 52)):
        name = f"{kind}_{size[0]}x{size[1]}"
        if kind == "max":
            y, i = torch.nn.AdaptiveMaxPool2d(size, return_indices=True)(t)
            np.save(f"indices_{name}.npy", i.numpy().astype(np.int64))
        else:
            y = torch.nn.AdaptiveAvgPool2d(size)(t)
        np.save(f"output_{name}.npy", y.numpy())
        cases.append({"name": name, "kind": kind, "output_size": list(size), "output": f"output_{name}.npy",
                      "indices": f"indices_{name}.npy" if kind == "max" else None})
# 1-D over the width of the first row, 3-D over (C as depth, H, W).
x1 = t[:, :, 0, :]
for kind, module in (("max", torch.nn.AdaptiveMaxPool1d(11)), ("average", torch.nn.AdaptiveAvgPool1d(11))):
    np.save(f"output_{kind}_1d_11.npy", module(x1).numpy())
    cases.append({"name": f"{kind}_1d_11", "kind": kind, "output_size": [11], "input_view": "row0", "output": f"output_{kind}_1d_11.npy", "indices": None})
x3 = t[:, None]  # [1, 1, 3, 37, 52]
for kind, module in (("max", torch.nn.AdaptiveMaxPool3d((2, 6, 9))), ("average", torch.nn.AdaptiveAvgPool3d((2, 6, 9)))):
    np.save(f"output_{kind}_3d_2x6x9.npy", module(x3).numpy())
    cases.append({"name": f"{kind}_3d_2x6x9", "kind": kind, "output_size": [2, 6, 9], "input_view": "volume", "output": f"output_{kind}_3d_2x6x9.npy", "indices": None})
json.dump({"generator": f"torch {torch.__version__}, numpy {np.__version__}", "cases": cases}, open("manifest.json", "w"), indent=1)
