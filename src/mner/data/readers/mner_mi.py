"""MNER-MI (multi-image Twitter MNER): JSON lines, one post per line.

    {"id": "1021", "text": ["Messi", "in", "Paris"], "images": ["1021_0.jpg", "1021_1.jpg"],
     "label": ["B-PER", "O", "B-LOC"]}

``text`` is the token list, ``label`` its BIO tags (optional: without it the
post is unlabelled), ``images`` the post's image file names in order. The
dataset calls MISC ``MIS``; readers map it to ``MISC``.
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from typing import Any

from mner.data.errors import DataFormatError
from mner.data.post import Post
from mner.data.readers.building import build_post
from mner.data.readers.jsonl import check_string_list, check_tokens
from mner.data.readers.lines import iter_json_objects, raise_problems

MNER_MI_KEYS = ("id", "text")


def post_from_mner_mi(
    path: str | PathLike[str],
    line: int,
    obj: dict[str, Any],
    *,
    images_dir: str | PathLike[str] | None,
    type_map: Mapping[str, str] | None,
    repair: str,
) -> Post:
    for key in MNER_MI_KEYS:
        if key not in obj:
            raise DataFormatError(path, line, f"missing key {key!r}")
    tokens = check_string_list(path, line, obj, "text")
    check_tokens(path, line, tokens)
    tags = check_string_list(path, line, obj, "label") if obj.get("label") is not None else None
    images = check_string_list(path, line, obj, "images") if obj.get("images") is not None else []
    return build_post(
        path=path,
        line=line,
        post_id=str(obj["id"]),
        tokens=tokens,
        raw_tags=tags,
        images=images,
        images_dir=images_dir,
        type_map=type_map,
        repair=repair,
    )


def read_mner_mi(
    path: str | PathLike[str],
    *,
    images_dir: str | PathLike[str] | None = None,
    type_map: Mapping[str, str] | None = None,
    repair: str = "begin",
) -> list[Post]:
    return [
        post_from_mner_mi(path, line, obj, images_dir=images_dir, type_map=type_map, repair=repair)
        for line, obj in iter_json_objects(path, raise_problems(path))
    ]
