"""Image bytes made on the fly, so no binary image is committed for the data tests."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def jpeg_bytes(size: tuple[int, int] = (32, 24), color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def noisy_jpeg_bytes(size: tuple[int, int] = (64, 64)) -> bytes:
    """A JPEG whose scan data is long enough that cutting it in half loses pixels."""
    pixels = np.random.default_rng(0).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()
