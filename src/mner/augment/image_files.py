"""Images for augmentation: listing a folder, content hashes (cache keys), data URLs."""

from __future__ import annotations

import base64
import hashlib
import io
from os import PathLike
from pathlib import Path

from mner.data.readers.visual_text import IMAGE_EXTENSIONS

DATA_URL_MAX_SIDE = 1024  # larger images are scaled down before sending: vision models resize anyway


def list_images(paths: list[Path]) -> list[Path]:
    """Image files from folders (sorted, by extension) and files, in the order given; no duplicates."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS))
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such image file or folder")
    seen: set[Path] = set()
    unique = [p for p in found if not (p.resolve() in seen or seen.add(p.resolve()))]  # type: ignore[func-returns-value]
    if not unique:
        raise FileNotFoundError(f"no image files ({', '.join(IMAGE_EXTENSIONS)}) in {', '.join(map(str, paths))}")
    return unique


def content_hash(path: str | PathLike[str]) -> str:
    """SHA-256 of the file's bytes: the same picture under two names is described once."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def image_data_url(path: str | PathLike[str], max_side: int = DATA_URL_MAX_SIDE) -> str:
    """``data:image/jpeg;base64,...``: decoded (EXIF-oriented, RGB), longest side at most
    `max_side`, re-encoded as JPEG so a PNG named .jpg or a CMYK file reaches the model intact.
    `mner.data.images.ImageError` (naming the path) for a file that is not a readable image."""
    from mner.data.images import load_image

    image = load_image(path)
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
