"""Fixtures of the data-layer tests: fixture files, generated images, the shared data."""

from __future__ import annotations

from pathlib import Path

import pytest
from data_image_factory import jpeg_bytes, noisy_jpeg_bytes, png_bytes
from PIL import Image

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "data"
# The benchmark data lives beside the repository (../shared/data), never inside it.
SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def shared() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED_DATA.resolve()


@pytest.fixture
def images_dir(tmp_path: Path) -> Path:
    """good.jpg, png_named.jpg (PNG bytes), truncated.jpg (half a JPEG); missing.jpg is absent."""
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "good.jpg").write_bytes(jpeg_bytes())
    (folder / "png_named.jpg").write_bytes(png_bytes(Image.new("RGBA", (20, 10), (0, 0, 255, 0))))
    data = noisy_jpeg_bytes()
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 2])
    return folder
