#!/usr/bin/env python3
"""Fixtures of ResizePresetTests: a 48x40 crop of chelsea.png resized by OpenCV, Pillow, PyTorch and TensorFlow.

Run from the package root with the libraries installed (versions used: opencv-python-headless 5.0.0,
pillow 13.0.0, torch 2.15.0, tensorflow-cpu 2.21.0, numpy 2.4.6):

    python3 Tests/CNNKitTests/Fixtures/resize-presets/generate.py ../shared/data/chelsea.png

Writes input.npy ([1, 3, 40, 48] float32 in [0, 1], RGB) and one float32 .npy per case, each the library's
output on the green channel ([40, 48]) or, for "3d" cases, on the volume [1, 1, 3, 40, 48] (RGB as depth), plus
manifest.json: {"library", "mode", "size" or "scale", "align_corners", "antialias", "file"} per case.
The tolerances live in the Swift test, next to the reason for each.
"""
import json
import os
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
# Output sizes (H, W): shrink by a non-integer ratio, shrink by 4 (wide antialiased filters), enlarge (non-integer).
SIZES = {"down": (17, 21), "down4": (10, 12), "up": (45, 55)}


def main(photo):
    rgb = np.asarray(Image.open(photo).convert("RGB"), dtype=np.float32) / 255.0
    crop = np.ascontiguousarray(rgb[96:136, 196:244].transpose(2, 0, 1))  # [3, 40, 48]: the cat's eye and fur
    assert crop.shape == (3, 40, 48)
    np.save(os.path.join(HERE, "input.npy"), crop[None])
    plane = np.ascontiguousarray(crop[1])
    cases = []

    def add(library, mode, out, size=None, scale=None, align_corners=False, antialias=False, volume=False):
        name = f"{library}-{mode}-{'ac-' if align_corners else ''}{'aa-' if antialias else ''}" + (
            "x".join(map(str, size)) if size else "s" + "x".join(f"{s:g}" for s in scale))
        np.save(os.path.join(HERE, name + ".npy"), np.ascontiguousarray(out, dtype=np.float32))
        entry = {"library": library, "mode": mode, "align_corners": align_corners, "antialias": antialias,
                 "volume": volume, "file": name + ".npy"}
        if size: entry["size"] = list(size)
        if scale: entry["scale"] = list(scale)
        cases.append(entry)

    import cv2
    flags = {"nearest": cv2.INTER_NEAREST, "nearest-exact": cv2.INTER_NEAREST_EXACT, "linear": cv2.INTER_LINEAR,
             "cubic": cv2.INTER_CUBIC, "area": cv2.INTER_AREA}
    for mode, flag in flags.items():
        for h, w in SIZES.values():
            add("opencv", mode, cv2.resize(plane, (w, h), interpolation=flag), size=(h, w))

    filters = {"nearest": Image.Resampling.NEAREST, "box": Image.Resampling.BOX,
               "bilinear": Image.Resampling.BILINEAR, "hamming": Image.Resampling.HAMMING,
               "bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS}
    image = Image.fromarray(plane, mode="F") if int(Image.__version__.split(".")[0]) < 11 else Image.fromarray(plane)
    assert image.mode == "F"
    for mode, f in filters.items():
        for h, w in SIZES.values():
            add("pillow", mode, np.asarray(image.resize((w, h), resample=f)), size=(h, w))

    import torch
    import torch.nn.functional as F
    t = torch.from_numpy(plane)[None, None]
    torch_modes = [("nearest", {}), ("nearest-exact", {}), ("bilinear", {"align_corners": False}),
                   ("bicubic", {"align_corners": False})]
    for mode, kw in torch_modes:
        for h, w in SIZES.values():
            add("pytorch", mode, F.interpolate(t, size=(h, w), mode=mode, **kw)[0, 0].numpy(), size=(h, w))
    for mode in ("bilinear", "bicubic"):
        for h, w in SIZES.values():
            add("pytorch", mode, F.interpolate(t, size=(h, w), mode=mode, align_corners=True)[0, 0].numpy(),
                size=(h, w), align_corners=True)
            add("pytorch", mode, F.interpolate(t, size=(h, w), mode=mode, align_corners=False, antialias=True)[0, 0].numpy(),
                size=(h, w), antialias=True)
    # scale_factor= (the mapping uses the given factor) and trilinear on the RGB volume.
    # (Not 0.45: PyTorch's floor(40 · 0.45) is 18 in double, CNNKit's float32 scale gives 17.)
    add("pytorch", "bilinear", F.interpolate(t, scale_factor=(0.3, 0.55), mode="bilinear")[0, 0].numpy(),
        scale=(0.3, 0.55))
    v = torch.from_numpy(crop)[None, None]
    add("pytorch", "trilinear", F.interpolate(v, size=(5, 17, 21), mode="trilinear")[0, 0].numpy(),
        size=(5, 17, 21), volume=True)

    import tensorflow as tf
    x = tf.constant(plane[None, :, :, None])
    for method in ("bilinear", "bicubic", "nearest", "area"):
        for antialias in (False, True):
            if antialias and method in ("nearest", "area"):
                continue  # tf.image.resize ignores antialias for these
            for h, w in SIZES.values():
                y = tf.image.resize(x, (h, w), method=method, antialias=antialias).numpy()[0, :, :, 0]
                add("tensorflow", method, y, size=(h, w), antialias=antialias)

    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump({"source": "chelsea.png rows 96..<136, columns 196..<244, RGB / 255",
                   "versions": {"opencv": cv2.__version__, "pillow": Image.__version__, "torch": torch.__version__,
                                "tensorflow": tf.__version__, "numpy": np.__version__},
                   "cases": cases}, f, indent=1)
    print(len(cases), "cases")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/chelsea.png")
