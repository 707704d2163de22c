"""Readers and writers: every post format in, `Post` out (and back).

    posts = read_posts("twitter2017/train.txt")                  # format detected
    posts = read_posts("dev.txt", "gmner", images_dir="images/")  # boxes from ./xml
    attach_visual_text(posts, "captions/blip2_twitter2017.txt", "caption")
    write_posts(posts, "train.jsonl")                             # interchange format

Every reader: posts get ``source=SourceRef(path, line)``; tag types are
normalised with `tags.DEFAULT_TYPE_MAP` (OTHER/MIS -> MISC) unless `type_map`
is given (``{}`` keeps the file's names); entities come from the tags via
`tags.bio_to_spans` under the `repair` policy; `images` are file names, or
absolute paths under `images_dir` when it is given. Malformed input raises
`DataFormatError` whose message starts with ``file:line: ``.
See docs/formats.md for each format.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from os import PathLike
from pathlib import Path

from mner.data.errors import DataFormatError
from mner.data.post import Post
from mner.data.readers.building import check_repair_policy
from mner.data.readers.cmner import read_cmner
from mner.data.readers.detect import FORMATS, canonical_format, detect_format
from mner.data.readers.gmner import read_gmner
from mner.data.readers.jsonl import read_jsonl, write_jsonl
from mner.data.readers.mner_mi import read_mner_mi
from mner.data.readers.regions import attach_regions, read_vinvl
from mner.data.readers.twitter import read_twitter, write_twitter
from mner.data.readers.visual_text import VISUAL_TEXT_JOIN, attach_visual_text, read_visual_text, read_visual_texts

READERS: dict[str, Callable[..., list[Post]]] = {
    "twitter": read_twitter,
    "gmner": read_gmner,
    "cmner": read_cmner,
    "mner_mi": read_mner_mi,
    "jsonl": read_jsonl,
}
WRITERS: dict[str, Callable[[Iterable[Post], str | PathLike[str]], None]] = {
    "jsonl": write_jsonl,
    "twitter": write_twitter,
}
WRITE_FORMATS = tuple(WRITERS)


def read_posts(
    path: str | PathLike[str],
    format: str | None = None,
    *,
    images_dir: str | PathLike[str] | None = None,
    type_map: Mapping[str, str] | None = None,
    repair: str = "begin",
) -> list[Post]:
    """All posts of a file; `format` None means detect it from the content."""
    if Path(path).is_dir():
        raise IsADirectoryError(f"{path}: a folder; give a data file")
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if images_dir is not None and not Path(images_dir).is_dir():
        raise FileNotFoundError(f"{images_dir}: images folder not found")
    check_repair_policy(repair)
    name = canonical_format(format) if format else detect_format(path)
    return READERS[name](path, images_dir=images_dir, type_map=type_map, repair=repair)


def write_posts(posts: Iterable[Post], path: str | PathLike[str], format: str = "jsonl") -> None:
    """Write posts as ``jsonl`` (everything but region features) or ``twitter`` (ids, tokens, tags)."""
    name = canonical_format(format)
    if name not in WRITERS:
        raise ValueError(f"cannot write format {format!r}; writable: {', '.join(WRITE_FORMATS)}")
    WRITERS[name](posts, path)


__all__ = [
    "FORMATS",
    "WRITE_FORMATS",
    "VISUAL_TEXT_JOIN",
    "DataFormatError",
    "attach_regions",
    "attach_visual_text",
    "detect_format",
    "read_posts",
    "read_vinvl",
    "read_visual_text",
    "read_visual_texts",
    "write_posts",
]
