#!/usr/bin/env python3
"""Regenerates the JPEG fixtures of JPEGTests.swift with Pillow, the independent decoder the tests compare with.

    pip install pillow numpy
    python3 Tests/CNNKitTests/Fixtures/jpeg/make_fixtures.py [SOURCE_FOLDER]

SOURCE_FOLDER holds astronaut.png (public domain, NASA) and camera.png (CC0, Lav Varshney), the scikit-image 0.26
sample photos (default: /work/shared/data). Every .jpg here is a small crop of one of them, written by Pillow;
every .npy next to it is what Pillow decodes from that .jpg (after PIL.ImageOps.exif_transpose for the
orientation variants), as uint8 [C, H, W] in C order. Pillow's decoder is libjpeg-turbo with the accurate integer
IDCT and fancy up-sampling, the same settings CNNKit uses, so the tests expect a difference of at most 1/255.
"""
import os
import sys

import numpy as np
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data"


def save_expected(image, name):
    """What Pillow decodes, upright, as uint8 [C, H, W]."""
    array = np.asarray(image)
    array = array[None, :, :] if array.ndim == 2 else array.transpose(2, 0, 1)
    np.save(os.path.join(HERE, name), np.ascontiguousarray(array, dtype=np.uint8))


def decoded(name):
    with Image.open(os.path.join(HERE, name)) as image:
        upright = ImageOps.exif_transpose(image)
        upright.load()
        return upright


# The inverse of each EXIF orientation: what a camera stores so that the viewer's transform shows the upright image.
STORED = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,   # stored rotated 90° counter-clockwise; shown rotated 90° clockwise
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,  # stored rotated 90° clockwise; shown rotated 90° counter-clockwise
}


def main():
    astronaut = Image.open(os.path.join(SOURCE, "astronaut.png")).convert("RGB")
    camera = Image.open(os.path.join(SOURCE, "camera.png")).convert("L")

    # 64×48 crops (not multiples of the 16×16 MCU, so partial blocks are exercised too).
    rgb = astronaut.crop((170, 60, 234, 108))        # the face
    gray = camera.crop((200, 80, 264, 128))          # the photographer's head and camera
    rgb.save(os.path.join(HERE, "rgb.jpg"), quality=90)                       # 4:2:0, baseline
    rgb.save(os.path.join(HERE, "rgb444-progressive.jpg"), quality=95, subsampling=0, progressive=True)
    gray.save(os.path.join(HERE, "gray.jpg"), quality=90)
    for name in ["rgb.jpg", "rgb444-progressive.jpg", "gray.jpg"]:
        save_expected(decoded(name), name.replace(".jpg", ".npy"))

    # Orientation variants: a 24×16 crop (non-square, so a wrong rotation changes the shape), stored transformed,
    # with the EXIF orientation tag after two other IFD0 tags.
    small = astronaut.crop((190, 70, 214, 86))
    for orientation, transpose in STORED.items():
        stored = small if transpose is None else small.transpose(transpose)
        exif = Image.Exif()
        exif[0x010F] = "CNNKit"        # Make
        exif[0x0110] = "fixture"       # Model
        exif[0x0112] = orientation     # Orientation
        name = f"orientation-{orientation}.jpg"
        stored.save(os.path.join(HERE, name), quality=95, exif=exif.tobytes())
        save_expected(decoded(name), f"orientation-{orientation}.npy")
    print("wrote", sorted(f for f in os.listdir(HERE) if f.endswith((".jpg", ".npy"))))


if __name__ == "__main__":
    main()
