"""What every reader does once it has a post's tokens and raw tags.

Kept in one place so all formats agree on: type normalisation (OTHER/MIS ->
MISC by default), the repair policy for a stray ``I-``, how gold entities are
derived from tags, and how image names become paths.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from os import PathLike

from mner.data.errors import DataFormatError
from mner.data.post import Entity, Post, SourceRef
from mner.data.safe_paths import UnsafePathError, check_name, resolve_inside
from mner.data.tags import REPAIR_POLICIES, TagError, bio_to_spans, normalize_tag, parse_tag, repair_bio


def check_repair_policy(repair: str) -> None:
    if repair not in REPAIR_POLICIES:
        raise ValueError(f"unknown repair policy {repair!r}; choose from {REPAIR_POLICIES}")


def resolve_images(names: Sequence[str], images_dir: str | PathLike[str] | None) -> list[str]:
    """Image names as given, or absolute paths under `images_dir` when one is given.

    Names come from the data, so they are untrusted (`mner.data.safe_paths`): one
    that would resolve outside `images_dir` raises `UnsafePathError`.
    """
    if images_dir is None:
        return [check_name(str(n)) for n in names]
    return [str(resolve_inside(images_dir, str(n))) for n in names]


def normalize_tags(
    tags: Sequence[str],
    *,
    path: str | PathLike[str],
    line: int,
    tag_lines: Sequence[int] | None,
    type_map: Mapping[str, str] | None,
) -> list[str]:
    """Type-normalised BIO tags; an unknown or BIOES tag raises at its own line.

    Line-per-token formats give `tag_lines`; one-line-per-post formats (JSON)
    do not, and the message names the token index instead.
    """
    out: list[str] = []
    for i, tag in enumerate(tags):
        try:
            prefix, _ = parse_tag(tag)
            if prefix in "ES":
                raise TagError(f"tag {tag!r} is BIOES; mner reads BIO (B-/I-/O) files")
            out.append(normalize_tag(tag, type_map))
        except TagError as err:
            if tag_lines is not None:
                raise DataFormatError(path, tag_lines[i], str(err)) from None
            raise DataFormatError(path, line, f"token {i}: {err}") from None
    return out


def entities_from_tags(tokens: Sequence[str], tags: Sequence[str], repair: str, joiner: str) -> list[Entity]:
    """Gold entities read from BIO tags under the repair policy (see mner.data.tags)."""
    return [
        Entity(start=s, end=e, type=t, text=joiner.join(tokens[s:e]))
        for s, e, t in bio_to_spans(tags, repair)
    ]


def build_post(
    *,
    path: str | PathLike[str],
    line: int,
    post_id: str,
    tokens: list[str],
    raw_tags: list[str] | None,
    images: Sequence[str],
    images_dir: str | PathLike[str] | None,
    type_map: Mapping[str, str] | None,
    repair: str,
    tag_lines: Sequence[int] | None = None,
    joiner: str = " ",
) -> Post:
    """A `Post` with normalised tags, entities from the tags, and resolved images.

    `joiner` glues an entity's tokens into `Entity.text`: a space for words,
    nothing for character-level Chinese. Under ``repair="drop"`` a stray
    ``I-X`` is also rewritten to ``O`` in `tags`, so tags and entities agree;
    under ``"begin"`` the file's tags are kept (they already mean the same as
    the entities to conlleval/seqeval).
    """
    if len(tokens) == 0:
        raise DataFormatError(path, line, f"post {post_id!r} has no tokens")
    tags: list[str] | None = None
    entities: list[Entity] = []
    if raw_tags is not None:
        if len(raw_tags) != len(tokens):
            raise DataFormatError(
                path, line, f"post {post_id!r} has {len(tokens)} tokens but {len(raw_tags)} tags"
            )
        tags = normalize_tags(raw_tags, path=path, line=line, tag_lines=tag_lines, type_map=type_map)
        if repair == "drop":
            tags = repair_bio(tags, "drop")
        entities = entities_from_tags(tokens, tags, repair, joiner)
    try:
        resolved = resolve_images(images, images_dir)
    except UnsafePathError as err:
        raise DataFormatError(path, line, f"post {post_id!r}: image {err}") from None
    return Post(
        id=post_id,
        tokens=tokens,
        tags=tags,
        images=resolved,
        entities=entities,
        source=SourceRef(str(path), line),
    )
