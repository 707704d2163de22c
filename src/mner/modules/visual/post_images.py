"""Which images of a batch of posts get encoded, and what happens to the ones that cannot be.

Bad-image policy (missing, undecodable, truncated, too many pixels -- anything
`mner.data.images.load_image` refuses):

- ``no-image`` (default): the image is left out as if the post never had it;
  a post left with none gets the learned "no image" token. Each bad path is
  logged once and counted (`BadImageLog`), so a run reports how many it lost.
- ``fail``: raise the `ImageError` (names the file and the reason).

This runs inside `featurize`, where a batch is already formed, so dropping a
whole post is not possible here; for that, run `mner.data.images.apply_image_policy`
(mode ``skip-post``) when the data is read.

Slots are compacted: with images [bad, ok] the ok one becomes slot 0. At most
`max_images` usable images per post are kept, in the post's order; the rest
are counted as over the limit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from mner.data.errors import ImageError
from mner.data.safe_paths import UnsafePathError, resolve_inside

log = logging.getLogger(__name__)

BAD_IMAGE_POLICIES = ("no-image", "fail")


@dataclass(frozen=True)
class ImageRef:
    post: int  # index of the post in the batch
    path: Path
    post_id: str


@dataclass
class BadImageLog:
    """Counts of what the policy did; `reasons` has one entry per distinct bad path."""

    policy: str = "no-image"
    bad: int = 0  # every time a bad image was met (once per featurize call)
    over_limit: int = 0  # usable images beyond max_images
    reasons: dict[str, str] = field(default_factory=dict)
    warn_each: bool = True  # False: the caller reports a summary (a bank over thousands of absent images)

    def __post_init__(self) -> None:
        if self.policy not in BAD_IMAGE_POLICIES:
            raise ValueError(f"unknown bad-image policy {self.policy!r}; choose from {', '.join(BAD_IMAGE_POLICIES)}")

    def record(self, ref: ImageRef, error: ImageError) -> None:
        if self.policy == "fail":
            raise error
        self.bad += 1
        if str(ref.path) not in self.reasons:
            self.reasons[str(ref.path)] = error.reason
            if self.warn_each:
                log.warning("post %r: image %s left out (%s)", ref.post_id, ref.path, error.reason)

    def to_dict(self) -> dict[str, Any]:
        return {"policy": self.policy, "bad": self.bad, "over_limit": self.over_limit,
                "distinct_bad": len(self.reasons), "reasons": dict(self.reasons)}


def resolve(image: str, root: Path | None) -> Path:
    """A relative name under `root` (never outside it: `mner.data.safe_paths`); other paths as they are.

    Absolute paths are what readers make of names under ``images_dir``, already checked there.
    """
    path = Path(image)
    return resolve_inside(root, image) if root is not None and not path.is_absolute() else path


def post_image_refs(b: int, post: Any, root: Path | None) -> list[ImageRef]:
    """A name that would leave `root` is a data error under every policy, not a bad image to skip."""
    try:
        return [ImageRef(b, resolve(image, root), str(post.id)) for image in post.images]
    except UnsafePathError as err:
        source = getattr(post, "source", None)
        where = f"{source.path}:{source.line}: " if source is not None else ""
        raise UnsafePathError(err.name, f"{err.reason} ({where}post {post.id!r})") from None


def candidate_images(posts: list[Any], root: Path | None) -> list[list[ImageRef]]:
    """Per post, its images in order (the caller stops after max_images usable ones)."""
    return [post_image_refs(b, post, root) for b, post in enumerate(posts)]


def read_post_images(posts: list[Any], root: Path | None, max_images: int, bad_images: BadImageLog,
                     read: Callable[[ImageRef], Any]) -> tuple[dict[str, torch.Tensor], list[Any]]:
    """Each post's usable images, up to `max_images`, read by `read` (None for a bad image: skipped,
    its slot given to the next one). Returns the index tensors image_post (n,), image_slot (n,),
    has_image (b,) and the n payloads `read` returned, in that order."""
    posts_of, slots, payloads = [], [], []
    for refs in candidate_images(posts, root):
        slot = 0
        for i, ref in enumerate(refs):
            if slot == max_images:
                bad_images.over_limit += len(refs) - i
                break
            payload = read(ref)
            if payload is not None:
                posts_of.append(ref.post)
                slots.append(slot)
                payloads.append(payload)
                slot += 1
    has_image = torch.zeros(len(posts), dtype=torch.bool)  # (b,)
    has_image[posts_of] = True
    return {"image_post": torch.tensor(posts_of, dtype=torch.long),  # (n,)
            "image_slot": torch.tensor(slots, dtype=torch.long),  # (n,)
            "has_image": has_image}, payloads
