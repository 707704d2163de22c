"""Twitter-2015 / Twitter-2017 (UMT release) and GMNER text: CoNLL with ``IMGID:`` lines.

    IMGID:17_06_2932
    Kawhi<TAB>B-PER
    Leonard<TAB>I-PER
    ...
    <blank line>

The post id is the IMGID value and the post's one image is ``<id>.jpg``.
Twitter-2015 and GMNER call MISC ``OTHER``; readers map it to ``MISC``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path

from mner.data.post import Post
from mner.data.readers.building import build_post
from mner.data.readers.conll import IMGID_HEADER, is_empty_token, scan_conll
from mner.data.readers.lines import raise_problems
from mner.data.tags import spans_to_bio


def read_twitter(
    path: str | PathLike[str],
    *,
    images_dir: str | PathLike[str] | None = None,
    type_map: Mapping[str, str] | None = None,
    repair: str = "begin",
) -> list[Post]:
    blocks = scan_conll(path, IMGID_HEADER, raise_problems(path))
    return [
        build_post(
            path=path,
            line=block.line,
            post_id=block.post_id,
            tokens=block.tokens,
            raw_tags=block.tags,
            images=[f"{block.post_id}.jpg"],
            images_dir=images_dir,
            type_map=type_map,
            repair=repair,
            tag_lines=block.token_lines,
        )
        for block in blocks
    ]


def post_tags_for_writing(post: Post) -> list[str]:
    """The post's tags; for an unlabelled post, tags rebuilt from its entities (all O if none)."""
    if post.tags is not None:
        return list(post.tags)
    return spans_to_bio(len(post.tokens), [e.span for e in post.entities])


def format_twitter_post(post: Post) -> str:
    """One post in CoNLL+IMGID form, ending with its blank separator line.

    Only id, tokens and tags survive: images are implied as ``<id>.jpg`` and
    boxes, visual text and regions have no place in this format (use JSONL).
    """
    if not post.id or any(c in post.id for c in "\t\r\n"):
        raise ValueError(f"post id {post.id!r} cannot be written as an IMGID line")
    tags = post_tags_for_writing(post)
    lines = [f"{IMGID_HEADER}{post.id}"]
    for i, (token, tag) in enumerate(zip(post.tokens, tags)):
        if is_empty_token(token) or any(c in token for c in "\t\r\n"):
            raise ValueError(f"post {post.id!r}: token {i} ({token!r}) cannot be written as a CoNLL line")
        lines.append(f"{token}\t{tag}")
    return "\n".join(lines) + "\n\n"


def write_twitter(posts: Iterable[Post], path: str | PathLike[str]) -> None:
    text = "".join(format_twitter_post(post) for post in posts)  # validate all before writing
    Path(path).write_text(text, encoding="utf-8", newline="\n")
