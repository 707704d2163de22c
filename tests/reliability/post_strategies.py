"""Hypothesis strategies for posts that every writable format can hold, and test-side writers.

The test writers (`format_cmner`, `format_mner_mi`, `format_voc_xml`, ...) write
the read-only formats by their documented layout (docs/formats.md), so the
property "written posts read back identical" covers every reader, not only the
two that mner itself writes.
"""

from __future__ import annotations

import io
import json
import os
from xml.sax.saxutils import escape

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

from mner.data.post import Entity, Post, Region
from mner.data.tags import bio_to_spans

# Every reader gets this many generated cases by default; MNER_FUZZ_EXAMPLES raises it for the measured run.
EXAMPLES = int(os.environ.get("MNER_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None)
TYPES = ("PER", "LOC", "ORG", "MISC")

# Letters, numbers, punctuation and symbols of any script (no control, separator, surrogate or
# unassigned code points): what tokens of real posts are made of.
TOKEN_CHARS = st.characters(whitelist_categories=("L", "N", "P", "S"))
tokens_st = st.text(TOKEN_CHARS, min_size=1, max_size=8).filter(
    lambda t: not t.startswith(("IMGID:", "WID:", "imgid:"))
)
# Ids also name files (`<id>.jpg`, `<id>.xml`), so they are file-name safe.
ids_st = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789_-"), min_size=1, max_size=12)


@st.composite
def bio_tags(draw: st.DrawFn, length: int) -> list[str]:
    """Well-formed BIO tags of `length` tokens (random entity spans, random types)."""
    tags = ["O"] * length
    i = 0
    while i < length:
        if draw(st.booleans()):
            end = draw(st.integers(i + 1, min(length, i + 3)))
            entity_type = draw(st.sampled_from(TYPES))
            tags[i:end] = [f"B-{entity_type}"] + [f"I-{entity_type}"] * (end - i - 1)
            i = end
        else:
            i += 1
    return tags


finite = st.floats(min_value=0, max_value=4096, allow_nan=False, width=32)


@st.composite
def boxes_st(draw: st.DrawFn) -> tuple[float, float, float, float]:
    x0, y0 = draw(finite), draw(finite)
    w, h = draw(st.floats(1, 512, width=32)), draw(st.floats(1, 512, width=32))
    return (float(x0), float(y0), float(np.float32(x0 + w)), float(np.float32(y0 + h)))


@st.composite
def posts_st(draw: st.DrawFn, rich: bool = False, labelled: bool | None = None, chars: bool = False) -> Post:
    """A post; `rich` adds images, visual text, regions and entity boxes (what only JSONL keeps)."""
    length = draw(st.integers(1, 12))
    token = st.text(TOKEN_CHARS, min_size=1, max_size=1) if chars else tokens_st
    tokens = draw(st.lists(token, min_size=length, max_size=length))
    has_tags = draw(st.booleans()) if labelled is None else labelled
    tags = draw(bio_tags(length)) if has_tags else None
    post = Post(id=draw(ids_st), tokens=tokens, tags=tags)
    if rich:
        post.images = draw(st.lists(ids_st.map(lambda s: f"{s}.jpg"), max_size=3))
        post.visual_text = draw(st.dictionaries(st.sampled_from(["caption", "ocr", "knowledge"]),
                                                st.text(max_size=30).filter(lambda t: "\x00" not in t), max_size=2))
        post.regions = [Region(box=draw(boxes_st()), label=draw(st.none() | tokens_st),
                               score=draw(st.none() | st.floats(0, 1)), image_index=0)
                        for _ in range(draw(st.integers(0, 2)))]
        if tags is None:  # predictions: entities with scores, no tags
            post.entities = [Entity(s, e, t, score=round(draw(st.floats(0, 1)), 6))
                             for s, e, t in bio_to_spans(draw(bio_tags(length)))]
        for entity in post.entities:
            entity.boxes = draw(st.lists(boxes_st(), max_size=2))
    return post


def unique_ids(posts: list[Post]) -> list[Post]:
    seen: set[str] = set()
    return [p for p in posts if not (p.id in seen or seen.add(p.id))]


def format_cmner(posts: list[Post]) -> bytes:
    """CMNER: ``WID:<id>``, one character and tag a line, CRLF (as in the release)."""
    lines = []
    for post in posts:
        lines.append(f"WID:{post.id}")
        lines += [f"{c}\t{t}" for c, t in zip(post.tokens, post.tags or ["O"] * len(post.tokens))]
        lines.append("")
    return "\r\n".join(lines).encode("utf-8") + b"\r\n"


def format_mner_mi(posts: list[Post]) -> bytes:
    rows = [{"id": p.id, "text": p.tokens, "images": p.images, **({"label": p.tags} if p.tags else {})}
            for p in posts]
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def format_voc_xml(named_boxes: list[tuple[str, tuple[float, ...]]]) -> bytes:
    objects = "".join(
        f"<object><name>{escape(name)}</name><bndbox><xmin>{b[0]!r}</xmin><ymin>{b[1]!r}</ymin>"
        f"<xmax>{b[2]!r}</xmax><ymax>{b[3]!r}</ymax></bndbox></object>\n"
        for name, b in named_boxes
    )
    return f"<annotation>\n{objects}</annotation>\n".encode("utf-8")


def format_blip2(texts: dict[str, str]) -> bytes:
    return "".join(f"{key}.jpg :{text}\n" for key, text in texts.items()).encode("utf-8")


def format_owl(texts: dict[str, str]) -> bytes:
    return "".join(f"imgid:{key}###{text}\n" for key, text in texts.items()).encode("utf-8")


def format_knowledge(texts: dict[str, str]) -> bytes:
    return "".join(json.dumps({"image_id": k, "text": v}, ensure_ascii=False) + "\n"
                   for k, v in texts.items()).encode("utf-8")


def vinvl_npz(boxes: np.ndarray, scores: np.ndarray, features: np.ndarray, labels: list[str]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, bounding_boxes=boxes, scores=scores, box_features=features,
             objects=np.array(labels, dtype=str), num_boxes=np.array(len(scores)))
    return buffer.getvalue()


# Bytes that mean something to the readers: field and line separators, post headers, BOMs, NUL.
SEPARATORS = [b"\t", b"\n", b"\r\n", b"IMGID:", b"WID:", b"{", b"\xef\xbb\xbf", b"\xff\xfe", b"B-", b"I-X", b"\x00"]


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """`data` after a few random byte flips, insertions, deletions and a possible truncation."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "duplicate"]))
        at = draw(st.integers(0, max(0, len(out) - 1)))
        if kind == "flip" and out:
            out[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=8) | st.sampled_from(SEPARATORS))
        elif kind == "delete" and out:
            del out[at : at + draw(st.integers(1, 16))]
        elif kind == "truncate":
            del out[at:]
        elif kind == "duplicate" and out:
            out[at:at] = out[at : at + draw(st.integers(1, 32))]
    return bytes(out)
