"""Everything about tag schemes, in one place.

- BIO <-> spans, BIO <-> BIOES.
- Repair policy for ill-formed BIO (an `I-X` that does not continue an `X`):
  * ``"begin"`` (default): the `I-X` starts a new entity, exactly as
    conlleval and seqeval's default mode read it. Scores computed by
    `mner.metrics` therefore equal conlleval/seqeval on any tag sequence.
  * ``"drop"``: the stray `I-X` is read as `O`.
- Type normalisation: the field uses `OTHER` (Twitter-2015, GMNER) and `MIS`
  (MNER-MI) for what Twitter-2017 calls `MISC`. Readers map them to `MISC`
  by default; pass another map (or ``{}``) to keep the original names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Span = tuple[int, int, str]  # [start, end) and type

DEFAULT_TYPE_MAP: dict[str, str] = {"OTHER": "MISC", "MIS": "MISC", "OTH": "MISC"}
REPAIR_POLICIES = ("begin", "drop")


class TagError(ValueError):
    """A tag that is not `O`, `B-<type>` or `I-<type>`."""


def parse_tag(tag: str) -> tuple[str, str]:
    """Split a BIO/BIOES tag into (prefix, type); `O` gives ("O", "")."""
    if tag == "O":
        return "O", ""
    if len(tag) >= 3 and tag[1] == "-" and tag[0] in "BIES" and tag[2:].strip() == tag[2:]:
        return tag[0], tag[2:]
    raise TagError(f"unknown tag {tag!r} (expected O, B-<type> or I-<type>)")


def normalize_type(entity_type: str, type_map: Mapping[str, str] | None = None) -> str:
    type_map = DEFAULT_TYPE_MAP if type_map is None else type_map
    return type_map.get(entity_type, entity_type)


def normalize_tag(tag: str, type_map: Mapping[str, str] | None = None) -> str:
    prefix, entity_type = parse_tag(tag)
    if prefix == "O":
        return "O"
    return f"{prefix}-{normalize_type(entity_type, type_map)}"


def bio_to_spans(tags: Sequence[str], policy: str = "begin") -> list[Span]:
    """Entity spans from BIO tags, with the repair policy for stray `I-`."""
    if policy not in REPAIR_POLICIES:
        raise ValueError(f"unknown repair policy {policy!r}; choose from {REPAIR_POLICIES}")
    spans: list[Span] = []
    start, current = -1, ""
    for i, tag in enumerate(tags):
        prefix, entity_type = parse_tag(tag)
        continues = prefix == "I" and current == entity_type and start >= 0
        if continues:
            continue
        if start >= 0:
            spans.append((start, i, current))
            start, current = -1, ""
        if prefix == "B" or (prefix == "I" and policy == "begin"):
            start, current = i, entity_type
    if start >= 0:
        spans.append((start, len(tags), current))
    return spans


def spans_to_bio(length: int, spans: Sequence[Span]) -> list[str]:
    tags = ["O"] * length
    for start, end, entity_type in sorted(spans):
        if not 0 <= start < end <= length:
            raise ValueError(f"span {(start, end, entity_type)} outside a post of {length} tokens")
        if any(t != "O" for t in tags[start:end]):
            raise ValueError(f"span {(start, end, entity_type)} overlaps another span")
        tags[start] = f"B-{entity_type}"
        for i in range(start + 1, end):
            tags[i] = f"I-{entity_type}"
    return tags


def repair_bio(tags: Sequence[str], policy: str = "begin") -> list[str]:
    """Well-formed BIO with the same entities as `bio_to_spans(tags, policy)`."""
    return spans_to_bio(len(tags), bio_to_spans(tags, policy))


def bio_problems(tags: Sequence[str]) -> list[tuple[int, str]]:
    """(token index, message) for each unknown tag or `I-` without its `B-`."""
    problems: list[tuple[int, str]] = []
    previous = ("O", "")
    for i, tag in enumerate(tags):
        try:
            prefix, entity_type = parse_tag(tag)
        except TagError as err:
            problems.append((i, str(err)))
            previous = ("O", "")
            continue
        if prefix in "ES":
            problems.append((i, f"tag {tag!r} is BIOES, expected BIO"))
        elif prefix == "I" and (previous[0] not in "BI" or previous[1] != entity_type):
            problems.append((i, f"{tag!r} without a preceding B-{entity_type} or I-{entity_type}"))
        previous = (prefix, entity_type)
    return problems


def bio_to_bioes(tags: Sequence[str]) -> list[str]:
    out = ["O"] * len(tags)
    for start, end, entity_type in bio_to_spans(tags):
        if end - start == 1:
            out[start] = f"S-{entity_type}"
            continue
        out[start] = f"B-{entity_type}"
        for i in range(start + 1, end - 1):
            out[i] = f"I-{entity_type}"
        out[end - 1] = f"E-{entity_type}"
    return out


def bioes_to_bio(tags: Sequence[str]) -> list[str]:
    out = []
    for tag in tags:
        prefix, entity_type = parse_tag(tag)
        if prefix == "O":
            out.append("O")
        elif prefix in "BS":
            out.append(f"B-{entity_type}")
        else:
            out.append(f"I-{entity_type}")
    return out


def entity_types(tags: Sequence[str]) -> set[str]:
    return {parse_tag(t)[1] for t in tags if t != "O"}


def bio_labels(types: Sequence[str]) -> list[str]:
    """The label list a tagger predicts: O first, then B-/I- per sorted type."""
    labels = ["O"]
    for entity_type in sorted(set(types)):
        labels += [f"B-{entity_type}", f"I-{entity_type}"]
    return labels
