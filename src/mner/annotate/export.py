"""`mner annotate export PROJECT --to jsonl|twitter|gmner OUT`: the finished items as data mner reads.

- ``jsonl``: mner's interchange format (tokens, tags, entities with their boxes, images named as in
  the images folder, the OCR text as visual text ``ocr``): `mner data validate OUT --images DIR`.
- ``twitter``: CoNLL with ``IMGID:`` lines (ids, tokens, tags; the image is implied as ``<id>.jpg``).
- ``gmner``: the twitter file plus Pascal-VOC ``xml/<id>.xml`` beside it, one ``<object>`` per box of a
  grounded entity, named by the entity's words (how the GMNER reader attaches boxes; as in the
  release, same-named entities of one post share their boxes).

Only items marked done are written unless `include_unfinished`; an item without words is skipped
(CoNLL has no empty post). Every file is written to a temporary sibling and renamed into place.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from mner.annotate.store import AnnotationStore, Item
from mner.data.post import Entity, Post
from mner.data.readers import write_posts
from mner.data.tags import spans_to_bio

EXPORT_FORMATS = ("jsonl", "twitter", "gmner")


@dataclass
class ExportReport:
    written: int = 0
    unfinished: int = 0
    empty: list[str] = field(default_factory=list)
    xml_files: int = 0


def item_post(item: Item) -> Post:
    """The item as a labelled `Post` (tags from its entities; entities keep their boxes)."""
    spans = [(e["start"], e["end"], e["type"]) for e in item.entities]
    entities = [Entity(e["start"], e["end"], e["type"], boxes=[tuple(b) for b in e.get("boxes", [])])  # type: ignore[misc]
                for e in item.entities]
    return Post(id=item.id, tokens=list(item.tokens), tags=spans_to_bio(len(item.tokens), spans),
                images=list(item.images), visual_text=dict(item.visual_text), entities=entities)


def voc_xml(post: Post) -> str | None:
    """Pascal-VOC boxes of the post's grounded entities (None when no entity has a box)."""
    objects = []
    for entity in post.entities:
        name = escape(post.entity_text(entity))
        for x0, y0, x1, y1 in entity.boxes:
            objects.append(f"  <object>\n    <name>{name}</name>\n    <bndbox><xmin>{x0:.10g}</xmin><ymin>{y0:.10g}</ymin>"
                           f"<xmax>{x1:.10g}</xmax><ymax>{y1:.10g}</ymax></bndbox>\n  </object>\n")
    if not objects:
        return None
    filename = escape(post.images[0] if post.images else f"{post.id}.jpg")
    return f"<annotation>\n  <filename>{filename}</filename>\n{''.join(objects)}</annotation>\n"


def replace_atomically(target: Path, write: Callable[[str], None]) -> None:
    """`write(tmp)` a temporary sibling of `target`, then rename it into place (mner.checkpoint has the same
    for model files, but importing it loads torch; an export needs none)."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def export_posts(posts: list[Post], to: str, out: Path) -> int:
    """Write `posts` as `to` at `out` (and `out`'s sibling ``xml/`` for gmner); returns xml files written."""
    if to not in EXPORT_FORMATS:
        raise ValueError(f"--to {to!r}: choose one of {', '.join(EXPORT_FORMATS)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    replace_atomically(out, lambda tmp: write_posts(posts, tmp, "jsonl" if to == "jsonl" else "twitter"))
    xml_files = 0
    if to == "gmner":
        xml_dir = out.parent / "xml"  # where the GMNER reader looks (`default_xml_dir`)
        xml_dir.mkdir(exist_ok=True)
        for post in posts:
            text = voc_xml(post)
            target = xml_dir / f"{post.id}.xml"
            if text is not None:
                replace_atomically(target, lambda tmp, text=text: Path(tmp).write_text(text, encoding="utf-8"))
                xml_files += 1
            elif target.exists():
                target.unlink()  # an earlier export's boxes for an entity since unboxed
    return xml_files


def export_project(project_dir: str | Path, to: str, out: str | Path, include_unfinished: bool = False) -> ExportReport:
    store = AnnotationStore(project_dir)
    report = ExportReport()
    posts = []
    for item in store.items():
        if not item.done and not include_unfinished:
            report.unfinished += 1
            continue
        if not item.tokens:
            report.empty.append(item.id)
            continue
        posts.append(item_post(item))
    report.xml_files = export_posts(posts, to, Path(out))
    report.written = len(posts)
    return report
