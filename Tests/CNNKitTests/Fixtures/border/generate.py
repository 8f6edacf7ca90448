"""Border-mode fixtures: OpenCV's filter2D of real photo crops under each border type CNNKit's BorderMode names.

Run from this folder with opencv-python-headless and numpy installed (used only to make the fixtures):
    python3 generate.py ../../../../../shared/data
Writes input_gray.npy (camera.png rows 200-235, columns 240-283, / 255), input_rgb.npy (chelsea.png rows
100-123, columns 200-229, RGB / 255, as [3, 24, 30]), the kernels, and one expected output per (input, kernel, mode):
cv2.filter2D with the default anchor (kw//2, kh//2), i.e.
pads top = kh//2, left = kw//2, bottom = kh-1-kh//2, right = kw-1-kw//2, as correlation (no flip). BORDER_WRAP,
which filter2D does not take, is cv2.copyMakeBorder(..., BORDER_WRAP) followed by a filter2D whose result is cropped
to the valid region. manifest.json lists every case.
"""
import json
import sys

import cv2
import numpy as np

data = sys.argv[1]
gray = cv2.imread(f"{data}/camera.png", cv2.IMREAD_GRAYSCALE)[200:236, 240:284].astype(np.float32) / 255
rgb = cv2.cvtColor(cv2.imread(f"{data}/chelsea.png", cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)[100:124, 200:230]
rgb = np.ascontiguousarray((rgb.astype(np.float32) / 255).transpose(2, 0, 1))
g = cv2.getGaussianKernel(5, 1.2).astype(np.float64)
kernels = {
    "gaussian5": (g @ g.T).astype(np.float32),
    # Asymmetric, even width: catches flips and the anchor of even kernels.
    "ramp3x4": (np.arange(12, dtype=np.float32).reshape(3, 4) - 5.5) / 10,
}
modes = {"reflect": cv2.BORDER_REFLECT_101, "symmetric": cv2.BORDER_REFLECT, "edge": cv2.BORDER_REPLICATE,
         "wrap": cv2.BORDER_WRAP}
np.save("input_gray.npy", gray)
np.save("input_rgb.npy", rgb)
cases = []
for kname, k in kernels.items():
    np.save(f"kernel_{kname}.npy", k)
    kh, kw = k.shape
    top, left = kh // 2, kw // 2
    bottom, right = kh - 1 - top, kw - 1 - left
    for mname, mode in modes.items():
        for iname, image in (("gray", gray), ("rgb", rgb)):
            planes = [image] if image.ndim == 2 else list(image)
            out = []
            for p in planes:
                if mode == cv2.BORDER_WRAP:
                    padded = cv2.copyMakeBorder(p, top, bottom, left, right, cv2.BORDER_WRAP)
                    full = cv2.filter2D(padded, cv2.CV_32F, k, borderType=cv2.BORDER_ISOLATED)
                    out.append(full[top:top + p.shape[0], left:left + p.shape[1]])
                else:
                    out.append(cv2.filter2D(p, cv2.CV_32F, k, borderType=mode))
            y = np.stack(out) if image.ndim == 3 else out[0]
            name = f"{iname}_{kname}_{mname}"
            np.save(f"expected_{name}.npy", y.astype(np.float32))
            cases.append({"name": name, "input": f"input_{iname}.npy", "kernel": f"kernel_{kname}.npy", "border": mname,
                          "pads": [top, left, bottom, right], "expected": f"expected_{name}.npy"})
json.dump({"generator": f"opencv-python-headless {cv2.__version__}, numpy {np.__version__}", "cases": cases},
          open("manifest.json", "w"), indent=1)
