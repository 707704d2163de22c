"""What a saved item must satisfy, checked before it reaches the store: every failure is a 422
naming the request field (`entities[2].end`), never a half-saved item.

Tokens are non-empty words without whitespace or tabs (the CoNLL exports write one per line);
entities lie inside the tokens, do not overlap (BIO cannot say overlapping spans), carry one of the
project's types, and their boxes are xyxy with x0 < x1, y0 < y1.
"""

from __future__ import annotations

from typing import Any

from mner.annotate.schemas import EntityIn
from mner.serve.errors import RequestError
from mner.serve.limits import Limits


def check_tokens(tokens: list[str], limits: Limits) -> list[str]:
    if len(tokens) > limits.max_words:
        raise RequestError(413, "tokens", f"{len(tokens)} tokens, more than max_words={limits.max_words}")
    for i, token in enumerate(tokens):
        if not token or any(c.isspace() for c in token):
            raise RequestError(422, f"tokens[{i}]", f"{token!r}: a token is one non-empty word without spaces "
                               "(split it into several tokens)")
        if len(token) > limits.max_text_chars:
            raise RequestError(413, f"tokens[{i}]", f"longer than max_text_chars={limits.max_text_chars}")
    return tokens


def check_entities(entities: list[EntityIn], n_tokens: int, types: list[str]) -> list[dict[str, Any]]:
    """The entities as stored (sorted by start), or a RequestError naming the first bad field."""
    checked: list[tuple[int, dict[str, Any]]] = []
    for i, entity in enumerate(entities):
        field = f"entities[{i}]"
        if entity.end > n_tokens or entity.start >= entity.end:
            raise RequestError(422, f"{field}.end", f"span [{entity.start}, {entity.end}) is not inside the "
                               f"{n_tokens} tokens (start < end <= number of tokens)")
        if entity.type not in types:
            raise RequestError(422, f"{field}.type", f"{entity.type!r} is not a type of this project "
                               f"({', '.join(types)})")
        for k, box in enumerate(entity.boxes):
            if len(box) != 4 or not (box[0] < box[2] and box[1] < box[3]) or min(box) < 0:
                raise RequestError(422, f"{field}.boxes[{k}]", f"{box}: a box is [x0, y0, x1, y1] in image pixels "
                                   "with x0 < x1 and y0 < y1, none negative")
        checked.append((i, {"start": entity.start, "end": entity.end, "type": entity.type,
                            "boxes": [[float(x) for x in box] for box in entity.boxes], "score": entity.score}))
    checked.sort(key=lambda pair: pair[1]["start"])
    for (_, previous), (i, current) in zip(checked, checked[1:]):
        if current["start"] < previous["end"]:
            raise RequestError(422, f"entities[{i}]", f"span [{current['start']}, {current['end']}) overlaps "
                               f"[{previous['start']}, {previous['end']}); entities may not overlap")
    return [entity for _, entity in checked]
