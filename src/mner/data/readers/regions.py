"""Object regions from VinVL ``.npz`` files (the proposals H-Index consumes).

One file per image, named ``<image file name>.npz`` (``1953977.jpg.npz``) or
``<image id>.npz``, with at least

    bounding_boxes (N, 4) float  xyxy pixels
    box_features   (N, 2048) float
    scores         (N,) float
    objects        (N,) str      (optional: the detector's label per box)

and usually ``attr_obj``, ``image_h``, ``image_w``, ``num_boxes``. Files are
loaded with ``allow_pickle=False``: an npz that needs pickle is refused.
`top_k` keeps the k highest-scoring boxes (ties keep file order). Features
are float32 and large (8 KB a box): pass ``with_features=False`` when only
boxes are needed.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterable
from os import PathLike
from pathlib import Path

import numpy as np

from mner.data.errors import DataFormatError
from mner.data.post import Post, Region
from mner.data.readers.visual_text import image_id
from mner.data.safe_paths import UnsafePathError, resolve_inside

REQUIRED_KEYS = ("bounding_boxes", "box_features", "scores")
# What numpy and zipfile raise for a damaged archive: besides the usual, an unsupported or
# flipped compression method / zip version (NotImplementedError), an "encrypted" flag
# (RuntimeError), a bad deflate stream (zlib.error) -- found by the fuzz tests.
NPZ_ERRORS = (ValueError, OSError, EOFError, zipfile.BadZipFile, NotImplementedError, RuntimeError, KeyError,
              zlib.error)


def read_vinvl(
    path: str | PathLike[str],
    *,
    top_k: int | None = None,
    with_features: bool = True,
    image_index: int = 0,
) -> list[Region]:
    """The regions of one image, best score first, at most `top_k` of them."""
    try:
        loaded = np.load(path, allow_pickle=False)
    except NPZ_ERRORS as err:
        raise DataFormatError(path, None, f"cannot read VinVL npz: {err}") from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise DataFormatError(path, None, "expected an .npz archive, found a single .npy array")
    with loaded as npz:
        missing = [k for k in REQUIRED_KEYS if k not in npz.files]
        if missing:
            raise DataFormatError(path, None, f"VinVL npz without {', '.join(missing)} (has {npz.files})")
        try:
            boxes = np.asarray(npz["bounding_boxes"], dtype=np.float64)
            scores = np.asarray(npz["scores"], dtype=np.float64).reshape(-1)
            labels = npz["objects"] if "objects" in npz.files else None
            features = npz["box_features"] if with_features else None
        except NPZ_ERRORS as err:  # pickled object arrays land here
            raise DataFormatError(path, None, f"cannot read VinVL npz: {err}") from None
    n = len(scores)
    if boxes.shape != (n, 4):
        raise DataFormatError(path, None, f"bounding_boxes has shape {boxes.shape}, expected ({n}, 4)")
    if features is not None and (features.ndim != 2 or features.shape[0] != n):
        raise DataFormatError(path, None, f"box_features has shape {features.shape}, expected ({n}, d)")
    if labels is not None and labels.shape != (n,):
        raise DataFormatError(path, None, f"objects has shape {labels.shape}, expected ({n},)")
    order = np.argsort(-scores, kind="stable")[: top_k if top_k is not None else n]
    return [
        Region(
            box=tuple(float(x) for x in boxes[i]),  # type: ignore[arg-type]
            label=str(labels[i]) if labels is not None else None,
            score=float(scores[i]),
            feature=np.asarray(features[i], dtype=np.float32) if features is not None else None,
            image_index=image_index,
        )
        for i in order
    ]


def find_region_file(regions_dir: Path, image: str) -> Path | None:
    """The npz of `image` in `regions_dir`, or None; `UnsafePathError` if it would lie outside the folder."""
    name = Path(image).name
    for candidate in (f"{name}.npz", f"{image_id(name)}.npz"):
        path = resolve_inside(regions_dir, candidate)  # a symlink out of the folder is refused
        if path.is_file():
            return path
    return None


def attach_regions(
    posts: Iterable[Post],
    regions_dir: str | PathLike[str],
    *,
    top_k: int | None = None,
    with_features: bool = True,
) -> int:
    """Replace each post's regions with those of its images' npz files; returns posts that got any.

    A post whose images have no npz keeps its regions untouched; `image_index`
    says which of the post's images each region is on.
    """
    regions_dir = Path(regions_dir)
    attached = 0
    for post in posts:
        regions: list[Region] = []
        for index, image in enumerate(post.images):
            try:
                path = find_region_file(regions_dir, image)
            except UnsafePathError as err:
                source = post.source
                raise DataFormatError(source.path if source else regions_dir, source.line if source else None,
                                      f"post {post.id!r}: regions {err}") from None
            if path is not None:
                regions += read_vinvl(path, top_k=top_k, with_features=with_features, image_index=index)
        if regions:
            post.regions = regions
            attached += 1
    return attached
