"""Twitter-GMNER: the twitter CoNLL text plus Pascal-VOC boxes in ``xml/<image_id>.xml``.

    <object><name>Basic Instincts</name>
      <bndbox><xmin>41</xmin><ymin>105</ymin><xmax>99</xmax><ymax>379</ymax></bndbox>
    </object>

The xml folder is ``xml/`` beside the text file unless `xml_dir` says
otherwise. Boxes reach entities by name:

- an entity's name is its tokens joined by one space; an xml ``<name>`` is
  compared after collapsing runs of whitespace, case-sensitively;
- one entity may have several ``<object>``s: it gets every box, in xml order;
- when the same name occurs more than once in a post, EVERY entity with that
  name gets the boxes (the xml cannot say which occurrence is meant, and the
  GMNER scorer treats the occurrences alike);
- a post with no xml file has no grounded entity (all ``boxes`` empty: GMNER's
  "no region"); entity types come from the tags, never from the xml;
- a ``<name>`` that matches no entity of the post is logged as a warning and
  its box is dropped (`mner data validate` lists these).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from xml.parsers import expat

from mner.data.errors import DataFormatError
from mner.data.post import Box, Post
from mner.data.readers.lines import ProblemSink, raise_problems
from mner.data.readers.twitter import read_twitter
from mner.data.safe_paths import UnsafePathError, resolve_inside

log = logging.getLogger(__name__)

COORDINATES = ("xmin", "ymin", "xmax", "ymax")


class StopParsing(Exception):
    """Raised from an expat handler to abandon a file already reported as bad."""


@dataclass(frozen=True)
class NamedBox:
    """One ``<object>`` of a VOC file: the entity name it grounds and its xyxy box."""

    name: str
    box: Box
    line: int  # line of the <object> element


def normalize_name(name: str) -> str:
    return " ".join(name.split())


def default_xml_dir(text_path: str | PathLike[str]) -> Path:
    return Path(text_path).parent / "xml"


def read_voc_boxes(xml_path: str | PathLike[str], report: ProblemSink | None = None) -> list[NamedBox]:
    """The named boxes of one Pascal-VOC file.

    Parsed with expat so every problem carries its line. `report` gets
    (line, message) for each problem; by default the first one raises a
    `DataFormatError`. A DOCTYPE is refused: VOC files never need one and it
    is how entity-expansion attacks get in.
    """
    report = report or raise_problems(xml_path)
    boxes: list[NamedBox] = []
    parser = expat.ParserCreate()
    stack: list[str] = []
    text: list[str] = []
    current: dict[str, object] | None = None

    def start(tag: str, _attrs: dict[str, str]) -> None:
        nonlocal current
        stack.append(tag)
        text.clear()
        if tag == "object":
            current = {"line": parser.CurrentLineNumber}
        elif current is not None and (tag in COORDINATES or tag == "name"):
            current[f"{tag}_line"] = parser.CurrentLineNumber

    def end(tag: str) -> None:
        nonlocal current
        stack.pop()
        value = "".join(text).strip()
        text.clear()
        if current is None:
            return
        if tag == "name" and stack and stack[-1] == "object":
            current["name"] = value
        elif tag in COORDINATES and "bndbox" in stack:
            current[tag] = value
        elif tag == "object":
            finish_object(current)
            current = None

    def finish_object(obj: dict[str, object]) -> None:
        line = int(obj["line"])  # type: ignore[arg-type]
        name = normalize_name(str(obj.get("name", "")))
        if not name:
            report(line, "<object> without a <name>")
            return
        missing = [c for c in COORDINATES if c not in obj]
        if missing:
            report(line, f"<object> {name!r} has no {'/'.join(missing)} in its <bndbox>")
            return
        coords: list[float] = []
        for c in COORDINATES:
            try:
                coords.append(float(str(obj[c])))
            except ValueError:
                at = int(obj.get(f"{c}_line", line))  # type: ignore[arg-type]
                report(at, f"<{c}> of {name!r} is not a number: {obj[c]!r}")
                return
        x0, y0, x1, y1 = coords
        if x1 <= x0 or y1 <= y0:
            report(line, f"box of {name!r} is empty or inverted: {coords}")
            return
        boxes.append(NamedBox(name=name, box=(x0, y0, x1, y1), line=line))

    def refuse_doctype(*_args: object) -> None:
        report(parser.CurrentLineNumber, "bad xml: a DOCTYPE is not allowed in a VOC file")
        raise StopParsing

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text.append
    parser.StartDoctypeDeclHandler = refuse_doctype
    try:
        parser.Parse(Path(xml_path).read_bytes(), True)
    except StopParsing:
        return []
    except expat.ExpatError as err:
        report(err.lineno, f"bad xml: {expat.errors.messages[err.code]} (column {err.offset + 1})")
    return boxes


def unmatched_names(post: Post, boxes: list[NamedBox]) -> list[NamedBox]:
    names = {normalize_name(post.entity_text(e)) for e in post.entities}
    return [b for b in boxes if b.name not in names]


def attach_boxes(post: Post, boxes: list[NamedBox]) -> None:
    """Give each entity the boxes whose name equals its text (every occurrence)."""
    for entity in post.entities:
        name = normalize_name(post.entity_text(entity))
        entity.boxes = [b.box for b in boxes if b.name == name]


def read_gmner(
    path: str | PathLike[str],
    *,
    images_dir: str | PathLike[str] | None = None,
    type_map: Mapping[str, str] | None = None,
    repair: str = "begin",
    xml_dir: str | PathLike[str] | None = None,
) -> list[Post]:
    xml_dir = Path(xml_dir) if xml_dir is not None else default_xml_dir(path)
    if not xml_dir.is_dir():
        raise DataFormatError(
            path, None, f"GMNER boxes folder {xml_dir} not found (expected xml/<image_id>.xml beside the text file)"
        )
    posts = read_twitter(path, images_dir=images_dir, type_map=type_map, repair=repair)
    for post in posts:
        try:
            xml_path = resolve_inside(xml_dir, f"{post.id}.xml")
        except UnsafePathError as err:
            line = post.source.line if post.source else None
            raise DataFormatError(path, line, f"post {post.id!r}: xml {err}") from None
        if not xml_path.is_file():
            continue
        boxes = read_voc_boxes(xml_path)
        attach_boxes(post, boxes)
        for box in unmatched_names(post, boxes):
            log.warning(
                "%s:%d: box name %r matches no entity of post %r; box dropped", xml_path, box.line, box.name, post.id
            )
    return posts
