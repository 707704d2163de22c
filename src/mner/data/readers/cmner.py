"""CMNER (Chinese Weibo, multi-image): character-level CoNLL with ``WID:`` lines, CRLF.

    WID:LwHJyuvjT
    苹<TAB>B-ORG
    果<TAB>I-ORG
    ...

A post's images are the files ``<wid>_<k>.<ext>`` in the image folder, found
by listing the folder once (k is an opaque key, not a number, so images are
ordered by file name). Without `images_dir` a post has no images: the text
file does not name them. Entity text joins characters with no space.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping
from os import PathLike

from mner.data.post import Post
from mner.data.readers.building import build_post
from mner.data.readers.conll import WID_HEADER, scan_conll
from mner.data.readers.lines import raise_problems

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp")


def index_images_by_post(images_dir: str | PathLike[str]) -> dict[str, list[str]]:
    """wid -> sorted image file names ``<wid>_<k>.<ext>`` found in `images_dir`."""
    by_post: dict[str, list[str]] = defaultdict(list)
    for name in os.listdir(images_dir):
        stem, ext = os.path.splitext(name)
        if ext.lower() in IMAGE_EXTENSIONS and "_" in stem:
            by_post[stem.rsplit("_", 1)[0]].append(name)
    return {wid: sorted(names) for wid, names in by_post.items()}


def read_cmner(
    path: str | PathLike[str],
    *,
    images_dir: str | PathLike[str] | None = None,
    type_map: Mapping[str, str] | None = None,
    repair: str = "begin",
) -> list[Post]:
    blocks = scan_conll(path, WID_HEADER, raise_problems(path))
    images_by_post = index_images_by_post(images_dir) if images_dir is not None else {}
    return [
        build_post(
            path=path,
            line=block.line,
            post_id=block.post_id,
            tokens=block.tokens,
            raw_tags=block.tags,
            images=images_by_post.get(block.post_id, []),
            images_dir=images_dir,
            type_map=type_map,
            repair=repair,
            tag_lines=block.token_lines,
            joiner="",
        )
        for block in blocks
    ]
