"""The one image loader, and the policy for posts whose images cannot be used.

`load_image` is what every part of mner uses to turn a file into pixels:

- the format is read from the content, never the extension: the Twitter
  releases hold PNG (even RGBA) files named ``.jpg``;
- EXIF orientation is applied (phone photos are stored rotated);
- every mode becomes RGB; transparency is composited on white, not black,
  because PIL's plain ``convert("RGB")`` turns transparent pixels black and
  logos on transparent backgrounds would vanish;
- a truncated file is an error (`ImageError`), not a half-grey picture: PIL's
  global ``LOAD_TRUNCATED_IMAGES`` is left off, and changing it would affect
  every thread. Handle bad files per post with `ImagePolicy` instead;
- more than `max_pixels` pixels is an error, checked from the header before
  decoding, so a decompression bomb is refused without relying on PIL's
  global limit or its warning (PIL's own hard error past ~179 MP also
  becomes an `ImageError`);
- a malformed EXIF block only loses the rotation (the pixels are fine).

`apply_image_policy(posts, mode)` checks every image of every post once and
applies one of three modes to the unusable ones (image paths are used as
they are: read the posts with ``images_dir`` so they are full paths):

- ``fail``       raise `ImagePolicyError` listing every bad image (default: no surprises);
- ``skip-post``  drop the posts that have a bad image;
- ``no-image``   keep the posts, remove only the bad images (and their regions).

It returns the kept posts and an `ImagePolicyReport` (counts and the list of
(post id, image, reason)), and logs a one-line summary when anything was affected.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from mner.data.errors import ImageError
from mner.data.post import Post

log = logging.getLogger(__name__)

DEFAULT_MAX_PIXELS = 50_000_000  # far above any tweet image (Twitter serves <= 4096x4096 = 16.8 MP)
IMAGE_POLICIES = ("fail", "skip-post", "no-image")
# Formats PIL may open; a short list keeps rarely used (and rarely audited) decoders out.
ALLOWED_FORMATS = ("JPEG", "MPO", "PNG", "GIF", "WEBP", "BMP", "TIFF")
MAGIC_BYTES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
)
EXTENSION_FORMATS = {".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png", ".gif": "gif", ".webp": "webp",
                     ".bmp": "bmp", ".tif": "tiff", ".tiff": "tiff"}  # fmt: skip


def registered_formats() -> tuple[str, ...]:
    """`ALLOWED_FORMATS` that this Pillow build can open (`Image.init` registers all plugins)."""
    Image.init()
    return tuple(f for f in ALLOWED_FORMATS if f in Image.OPEN)


def sniff_image_format(path: str | PathLike[str]) -> str | None:
    """'jpeg', 'png', 'gif', 'webp', 'bmp' or 'tiff' from the file's first bytes; None if unknown."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except FileNotFoundError:
        raise ImageError(path, "image file not found") from None
    except OSError as err:
        raise ImageError(path, f"cannot read image file: {err.strerror or err}") from None
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    for magic, name in MAGIC_BYTES:
        if head.startswith(magic):
            return name
    return None


def extension_mismatch(path: str | PathLike[str]) -> str | None:
    """A message when the bytes say one format and the extension another (e.g. PNG named .jpg)."""
    expected = EXTENSION_FORMATS.get(Path(path).suffix.lower())
    actual = sniff_image_format(path)
    if expected and actual and expected != actual:
        return f"{actual.upper()} bytes under a {Path(path).suffix} name (loads fine: mner decodes by content)"
    return None


def to_rgb(image: Image.Image) -> Image.Image:
    """Any PIL mode -> RGB; alpha (also palette transparency) is composited on white."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode.startswith("I") or image.mode == "F":
        # 16-bit/32-bit grey: scale to 8 bits instead of letting convert() clip to white.
        values = np.asarray(image, dtype=np.float64)
        peak = values.max() if values.size else 0.0
        scale = 255.0 / (65535.0 if peak > 255 else 255.0)
        grey = np.clip(values * scale, 0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")  # uint8 2-D: mode L
    return image.convert("RGB")  # L, 1, P, CMYK, YCbCr, LAB, HSV


def load_image(path: str | PathLike[str], max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """A fully decoded RGB image, or `ImageError` naming the path and the reason."""
    path = Path(path)
    if not path.is_file():
        raise ImageError(path, "image file not found")
    try:
        # PIL may warn (or raise, past twice its own limit) about huge images while opening;
        # the warning is left alone (silencing it would touch global, thread-unsafe state),
        # and the decision is ours: `max_pixels`, checked from the header before decoding.
        with Image.open(path, formats=registered_formats()) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise ImageError(path, f"{width}x{height} = {width * height} pixels exceeds max_pixels={max_pixels}")
            image.load()  # decode now: a truncated file fails here, inside this try
            try:
                oriented = ImageOps.exif_transpose(image)  # always a new, detached image
            except Exception:  # noqa: BLE001 - malformed EXIF must not cost the pixels
                log.debug("ignoring unreadable EXIF orientation of %s", path)
                oriented = image.copy()
            return to_rgb(oriented)
    except ImageError:
        raise
    except Image.DecompressionBombError as err:
        raise ImageError(path, f"too many pixels: {err}") from None
    except UnidentifiedImageError:
        raise ImageError(path, "not an image PIL can decode (unknown or unsupported format)") from None
    except OSError as err:
        reason = str(err)
        if "truncated" in reason.lower():
            reason = f"truncated image file ({reason})"
        raise ImageError(path, reason) from None
    except (ValueError, SyntaxError) as err:  # PIL raises these for some corrupt headers
        raise ImageError(path, f"corrupt image: {err}") from None


@dataclass(frozen=True)
class ImageIssue:
    post_id: str
    image: str
    reason: str

    def __str__(self) -> str:
        return f"post {self.post_id!r}: {self.image}: {self.reason}"


@dataclass
class ImagePolicyReport:
    """What `apply_image_policy` found and did."""

    mode: str
    posts_checked: int = 0
    images_checked: int = 0
    posts_without_images: int = 0
    posts_skipped: int = 0
    images_removed: int = 0
    issues: list[ImageIssue] = field(default_factory=list)

    @property
    def images_bad(self) -> int:
        return len(self.issues)

    def summary(self) -> str:
        line = (
            f"image policy {self.mode!r}: {self.images_checked} images in {self.posts_checked} posts checked, "
            f"{self.images_bad} unusable; {self.posts_skipped} posts skipped, {self.images_removed} images removed"
        )
        return "\n".join([line, *(f"  {issue}" for issue in self.issues)])

    def to_dict(self) -> dict[str, object]:
        return {**dataclasses.asdict(self), "images_bad": self.images_bad}


class ImagePolicyError(ImageError):
    """Raised by the ``fail`` policy; `report` lists every unusable image."""

    def __init__(self, report: ImagePolicyReport) -> None:
        first = report.issues[0]
        ValueError.__init__(self, f"{report.images_bad} unusable image(s); first: {first}\n{report.summary()}")
        self.path, self.reason, self.report = first.image, first.reason, report


def image_problem(path: str, max_pixels: int, decode: bool) -> str | None:
    """Why the image cannot be used, or None. `decode=False` only checks existence and magic bytes."""
    try:
        if decode:
            load_image(path, max_pixels=max_pixels)
        elif sniff_image_format(path) is None:
            return "not a known image format"
    except ImageError as err:
        return err.reason
    return None


def without_images(post: Post, bad: set[int]) -> Post:
    """A copy of `post` without the images at indices `bad`; regions re-indexed or dropped."""
    kept = [i for i in range(len(post.images)) if i not in bad]
    new_index = {old: new for new, old in enumerate(kept)}
    regions = [
        dataclasses.replace(r, image_index=new_index[r.image_index]) for r in post.regions if r.image_index in new_index
    ]
    return dataclasses.replace(post, images=[post.images[i] for i in kept], regions=regions)


@dataclass
class ImagePolicy:
    """How to treat posts whose images cannot be loaded; see the module docstring."""

    mode: str = "fail"
    max_pixels: int = DEFAULT_MAX_PIXELS
    decode: bool = True  # full decode finds truncated files; False is fast but only checks headers

    def __post_init__(self) -> None:
        if self.mode not in IMAGE_POLICIES:
            raise ValueError(f"unknown image policy {self.mode!r}; choose from {', '.join(IMAGE_POLICIES)}")

    def apply(self, posts: Iterable[Post]) -> tuple[list[Post], ImagePolicyReport]:
        report = ImagePolicyReport(mode=self.mode)
        kept: list[Post] = []
        for post in posts:
            report.posts_checked += 1
            if not post.images:
                report.posts_without_images += 1
            bad: set[int] = set()
            for index, image in enumerate(post.images):
                report.images_checked += 1
                reason = image_problem(image, self.max_pixels, self.decode)
                if reason is not None:
                    bad.add(index)
                    report.issues.append(ImageIssue(post.id, image, reason))
            if not bad:
                kept.append(post)
            elif self.mode == "skip-post":
                report.posts_skipped += 1
            elif self.mode == "no-image":
                report.images_removed += len(bad)
                kept.append(without_images(post, bad))
        if report.issues and self.mode == "fail":
            raise ImagePolicyError(report)
        if report.issues:
            log.warning("%s", report.summary().splitlines()[0])
        return kept, report


def apply_image_policy(
    posts: Sequence[Post], mode: str = "fail", *, max_pixels: int = DEFAULT_MAX_PIXELS, decode: bool = True
) -> tuple[list[Post], ImagePolicyReport]:
    """Check every image of `posts` and apply `mode` (``fail``, ``skip-post``, ``no-image``)."""
    return ImagePolicy(mode=mode, max_pixels=max_pixels, decode=decode).apply(posts)


__all__ = [
    "DEFAULT_MAX_PIXELS",
    "IMAGE_POLICIES",
    "ImageError",
    "ImageIssue",
    "ImagePolicy",
    "ImagePolicyError",
    "ImagePolicyReport",
    "apply_image_policy",
    "extension_mismatch",
    "load_image",
    "sniff_image_format",
]
