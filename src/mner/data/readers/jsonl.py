"""mner's own interchange format: one `Post.to_dict()` per line (UTF-8 JSON lines).

    {"id": "17_06_2932", "tokens": ["Kawhi", "Leonard", "scores"],
     "tags": ["B-PER", "I-PER", "O"], "images": ["17_06_2932.jpg"],
     "visual_text": {"caption": "a basketball player"},
     "entities": [{"start": 0, "end": 2, "type": "PER", "text": "Kawhi Leonard"}]}

Only ``id`` and ``tokens`` are required. When ``tags`` are present they are
the truth: entities are derived from them, and stored ``entities`` (which may
carry GMNER ``boxes``) must have exactly the same spans or the line is an
error. Without tags (unlabelled input, or predictions) stored entities are
taken as they are. Region features are not written: they stay in their npz.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from mner.data.errors import DataFormatError
from mner.data.post import Entity, Post, Region
from mner.data.readers.building import build_post
from mner.data.readers.conll import is_empty_token
from mner.data.readers.lines import iter_json_objects, raise_problems
from mner.data.tags import normalize_type


def check_string_list(path: str | PathLike[str], line: int, obj: dict[str, Any], key: str) -> list[str]:
    value = obj[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DataFormatError(path, line, f"{key!r} must be a list of strings")
    return value


def check_tokens(path: str | PathLike[str], line: int, tokens: list[str]) -> None:
    if not tokens:
        raise DataFormatError(path, line, "post has no tokens")
    for i, token in enumerate(tokens):
        if is_empty_token(token):
            raise DataFormatError(path, line, f"empty token at index {i}")


def merge_stored_entities(
    path: str | PathLike[str], line: int, derived: list[Entity], stored: list[Entity]
) -> list[Entity]:
    """Entities from tags, enriched with boxes/score/text of the stored entity of the same span."""
    by_span = {e.span: e for e in stored}
    if set(by_span) != {e.span for e in derived}:
        raise DataFormatError(
            path,
            line,
            f"'entities' {sorted(by_span)} disagree with the spans of 'tags' {sorted(e.span for e in derived)}",
        )
    for entity in derived:
        match = by_span[entity.span]
        entity.boxes, entity.score = list(match.boxes), match.score
        entity.text = match.text or entity.text
    return derived


def post_from_json(
    path: str | PathLike[str],
    line: int,
    obj: dict[str, Any],
    *,
    images_dir: str | PathLike[str] | None,
    type_map: Mapping[str, str] | None,
    repair: str,
) -> Post:
    for key in ("id", "tokens"):
        if key not in obj:
            raise DataFormatError(path, line, f"missing key {key!r}")
    tokens = check_string_list(path, line, obj, "tokens")
    check_tokens(path, line, tokens)
    tags = check_string_list(path, line, obj, "tags") if obj.get("tags") is not None else None
    try:
        images = [str(p) for p in obj.get("images", [])]
        visual_text = {str(k): str(v) for k, v in obj.get("visual_text", {}).items()}
        regions = [Region.from_dict(r) for r in obj.get("regions", [])]
        stored = [Entity.from_dict(e) for e in obj.get("entities", [])]
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise DataFormatError(path, line, f"malformed post field: {err!r}") from None
    post = build_post(
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
    for entity in stored:
        entity.type = normalize_type(entity.type, type_map)
        if not 0 <= entity.start < entity.end <= len(tokens):
            raise DataFormatError(path, line, f"entity {entity.span} outside a post of {len(tokens)} tokens")
    if tags is None:
        post.entities = stored
    elif "entities" in obj:  # no `entities` key: the tags alone say what the entities are
        post.entities = merge_stored_entities(path, line, post.entities, stored)
    post.visual_text = visual_text
    post.regions = regions
    return post


def read_jsonl(
    path: str | PathLike[str],
    *,
    images_dir: str | PathLike[str] | None = None,
    type_map: Mapping[str, str] | None = None,
    repair: str = "begin",
) -> list[Post]:
    return [
        post_from_json(path, line, obj, images_dir=images_dir, type_map=type_map, repair=repair)
        for line, obj in iter_json_objects(path, raise_problems(path))
    ]


def write_jsonl(posts: Iterable[Post], path: str | PathLike[str]) -> None:
    lines = [json.dumps(post.to_dict(), ensure_ascii=False) + "\n" for post in posts]
    Path(path).write_text("".join(lines), encoding="utf-8", newline="\n")
