"""Entity strings from a model -> word spans of the post.

The model answers with text ("Kawhi Leonard"), the evaluator scores word spans. A mention
matches a run of consecutive words whose concatenation, spaces removed, equals the
mention with spaces removed: exact case first, then case-folded. So "Kawhi Leonard",
"#NBAAwards" (words "#", "NBAAwards") and "U.S." all find their words however the post
was tokenised. A span that starts with a bare "#" or "@" word loses it (the benchmarks
tag the hashtag's word, not the sign).

Every occurrence of a mention is tagged (models list an entity once even when the post
repeats it). Mentions are placed in the model's order; an occurrence overlapping an
earlier placed span is skipped. A mention found nowhere is *unmatched*: counted and
reported, never guessed. A type outside the dataset's types is *unknown type*.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from mner.data.tags import Span, spans_to_bio

TYPE_ALIASES = {"person": "PER", "per": "PER", "people": "PER", "location": "LOC", "loc": "LOC", "place": "LOC",
                "organization": "ORG", "organisation": "ORG", "org": "ORG", "miscellaneous": "MISC",
                "misc": "MISC", "other": "MISC", "mis": "MISC"}
SIGNS = ("#", "@")


@dataclass
class Alignment:
    tags: list[str]
    spans: list[Span] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    unknown_type: list[str] = field(default_factory=list)


def squash(text: str, fold: bool) -> str:
    text = "".join(text.split())
    return text.casefold() if fold else text


def normalise_type(raw: str, types: Sequence[str], aliases: Mapping[str, str] = TYPE_ALIASES) -> str | None:
    if raw in types:
        return raw
    upper = raw.upper()
    if upper in types:
        return upper
    mapped = aliases.get(raw.strip().lower())
    return mapped if mapped in types else None


def occurrences(tokens: Sequence[str], mention: str, fold: bool) -> list[tuple[int, int]]:
    target = squash(mention, fold)
    if not target:
        return []
    pieces = [squash(t, fold) for t in tokens]
    found = []
    for start in range(len(tokens)):
        if not target.startswith(pieces[start]) or not pieces[start]:
            continue
        joined, end = "", start
        while end < len(tokens) and len(joined) < len(target):
            joined += pieces[end]
            end += 1
        if joined == target:
            if end - start > 1 and tokens[start] in SIGNS:
                start += 1
            found.append((start, end))
    return found


def align_mentions(tokens: Sequence[str], mentions: Sequence[tuple[str, str]], types: Sequence[str]) -> Alignment:
    """`mentions`: (text, type) as the model gave them; `types`: the dataset's entity types."""
    result = Alignment(tags=[])
    taken = [False] * len(tokens)
    seen: set[tuple[str, str]] = set()
    for text, raw_type in mentions:
        entity_type = normalise_type(raw_type, types)
        if entity_type is None:
            result.unknown_type.append(f"{text} ({raw_type})")
            continue
        if (text, entity_type) in seen:
            continue
        seen.add((text, entity_type))
        spans = occurrences(tokens, text, fold=False) or occurrences(tokens, text, fold=True)
        if not spans:
            result.unmatched.append(text)
            continue
        for start, end in spans:
            if not any(taken[start:end]):
                taken[start:end] = [True] * (end - start)
                result.spans.append((start, end, entity_type))
    result.tags = spans_to_bio(len(tokens), result.spans)
    return result
