"""load_image: content sniffing, EXIF, modes to RGB, truncated files, pixel limit."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from data_image_factory import jpeg_bytes, png_bytes
from PIL import Image

from mner.data.images import ImageError, load_image, sniff_image_format


def test_png_named_jpg_loads_by_content(images_dir: Path) -> None:
    path = images_dir / "png_named.jpg"
    assert sniff_image_format(path) == "png"
    image = load_image(path)
    assert (image.mode, image.size) == ("RGB", (20, 10))


def test_transparent_pixels_become_white_not_black(images_dir: Path) -> None:
    pixels = np.asarray(load_image(images_dir / "png_named.jpg"))  # fully transparent blue
    assert pixels[0, 0].tolist() == [255, 255, 255]


def test_half_transparent_pixel_is_blended_on_white(tmp_path: Path) -> None:
    path = tmp_path / "la.png"
    path.write_bytes(png_bytes(Image.new("LA", (2, 2), (0, 128))))
    assert np.asarray(load_image(path))[0, 0].tolist() == [127, 127, 127]


def test_palette_with_transparency_and_cmyk_become_rgb(tmp_path: Path) -> None:
    palette = Image.new("P", (4, 4), 0)
    palette.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    palette.info["transparency"] = 0
    (tmp_path / "p.png").write_bytes(png_bytes(palette))
    assert np.asarray(load_image(tmp_path / "p.png"))[0, 0].tolist() == [255, 255, 255]
    buffer = io.BytesIO()
    Image.new("CMYK", (4, 4), (0, 255, 255, 0)).save(buffer, "JPEG")
    (tmp_path / "cmyk.jpg").write_bytes(buffer.getvalue())
    image = load_image(tmp_path / "cmyk.jpg")
    assert image.mode == "RGB"
    red, green, blue = np.asarray(image)[0, 0].tolist()
    assert red > 200 and green < 60 and blue < 60


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    image = Image.new("RGB", (40, 20), (0, 0, 255))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    (tmp_path / "rotated.jpg").write_bytes(buffer.getvalue())
    assert load_image(tmp_path / "rotated.jpg").size == (20, 40)


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path: Path) -> None:
    path = tmp_path / "deep.png"
    Image.fromarray(np.full((2, 2), 32768, dtype=np.uint16)).save(path)
    assert np.asarray(load_image(path))[0, 0].tolist() == [127, 127, 127]


def test_truncated_jpeg_is_an_error(images_dir: Path) -> None:
    with pytest.raises(ImageError, match="truncated") as caught:
        load_image(images_dir / "truncated.jpg")
    assert str(caught.value).startswith(f"{images_dir / 'truncated.jpg'}: ")


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=rf"^{tmp_path / 'nope.jpg'}: image file not found"):
        load_image(tmp_path / "nope.jpg")


def test_not_an_image(tmp_path: Path) -> None:
    (tmp_path / "text.jpg").write_text("hello")
    with pytest.raises(ImageError, match="not an image"):
        load_image(tmp_path / "text.jpg")


def test_pixel_limit(tmp_path: Path) -> None:
    (tmp_path / "big.jpg").write_bytes(jpeg_bytes((100, 100)))
    with pytest.raises(ImageError, match="exceeds max_pixels=5000"):
        load_image(tmp_path / "big.jpg", max_pixels=5000)
    assert load_image(tmp_path / "big.jpg", max_pixels=10_000).size == (100, 100)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width x height but carries no pixel data: a bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # PIL's own, left on by design
@pytest.mark.parametrize("side", [10_000, 100_000])  # above our limit; above PIL's own hard limit
def test_decompression_bomb_is_refused_from_the_header(tmp_path: Path, side: int) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(side, side))
    with pytest.raises(ImageError, match="pixels"):
        load_image(path)


def test_sniff_known_formats(tmp_path: Path) -> None:
    for fmt, name in [("GIF", "a.gif"), ("WEBP", "a.webp"), ("BMP", "a.bmp"), ("JPEG", "a.png")]:
        Image.new("RGB", (4, 4)).save(tmp_path / name, fmt)
    assert [sniff_image_format(tmp_path / n) for n in ("a.gif", "a.webp", "a.bmp", "a.png")] == ["gif", "webp", "bmp", "jpeg"]
    (tmp_path / "x.bin").write_bytes(b"\x00\x01")
    assert sniff_image_format(tmp_path / "x.bin") is None
