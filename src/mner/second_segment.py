"""The second encoder segment (context fusion): one visual-text field, or several joined.

    model:
      second_segment: knowledge             # one field, cut by encoder.second_max_length
      second_segment: [caption, knowledge]  # several: joined in this order by " | "

With several fields, the fields a post has share `encoder.second_max_length` equally (in the
tagger's subwords, whole words), so that a long knowledge text cannot crowd out the caption
that follows it; a field the post lacks leaves its share to the others. Why several: a
caption says what the image shows, LLM knowledge says what the text's names are; Twitter-GMNER's
groundable-or-not decision reads the first, its entity types the second.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mner.data.post import Post

FIELD_SEP = " | "


def segment_fields(spec: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """`model.second_segment` as a list of visual-text names ([] for none)."""
    if not spec:
        return []
    if isinstance(spec, str):
        return [spec]
    if isinstance(spec, (list, tuple)) and all(isinstance(f, str) and f for f in spec):
        if len(set(spec)) != len(spec):
            raise ValueError(f"model.second_segment names a field twice: {list(spec)}")
        return list(spec)
    raise ValueError(f"model.second_segment must be a visual-text name or a list of names, not {spec!r}")


def capped(words: list[str], cap: int | None, count_pieces: Callable[[str], int]) -> list[str]:
    """The longest prefix of `words` that fits in `cap` subwords."""
    if cap is None:
        return words
    kept, used = [], 0
    for w in words:
        used += count_pieces(w)
        if used > cap:
            break
        kept.append(w)
    return kept


def joined_text(visual_text: dict[str, str] | None, fields: list[str], budget: int | None,
                count_pieces: Callable[[str], int]) -> str | None:
    """The post's second segment: its one field as it is, or its fields each cut to an equal
    share of `budget` subwords (less the separators) and joined; None when it has none of them."""
    texts = [t for t in ((visual_text or {}).get(f) for f in fields) if t]
    if len(fields) == 1 or len(texts) <= 1:
        return texts[0] if texts else None  # one text: the featurizer's own cap cuts it
    share = None if budget is None else max((budget - len(texts) + 1) // len(texts), 1)  # a separator costs 1
    return FIELD_SEP.join(" ".join(capped(t.split(), share, count_pieces)) for t in texts)


def second_texts(encoder: Any, posts: list[Post], spec: str | list[str] | None) -> list[str | None] | None:
    """Each post's second-segment text for `encoder` (None for all when the model reads none)."""
    fields = segment_fields(spec)
    if not fields:
        return None
    featurizer = getattr(encoder, "featurizer", encoder)
    budget = getattr(featurizer, "second_max_length", None)
    word_pieces = getattr(featurizer, "word_pieces", None)
    count_pieces = (lambda w: len(word_pieces(w))) if word_pieces is not None else (lambda w: 1)
    return [joined_text(p.visual_text, fields, budget, count_pieces) for p in posts]
