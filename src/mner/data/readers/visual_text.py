"""Visual text files: image captions and auxiliary knowledge, keyed by image id.

Three formats (the image id is the file stem: ``17_06_9315.jpg`` -> ``17_06_9315``):

- ``blip2``  one line per image, ``<id>.jpg :<caption>``, split on the first ``" :"``;
- ``owl``    mPLUG-Owl descriptions: an entry starts with ``imgid:<id>###<text>``
             and runs over the following lines (blank lines included) until the
             next ``imgid:`` line; lines are kept, joined with ``\\n``, ends stripped;
- ``jsonl``  one ``{"image_id": ..., "text": ...}`` object per line (PGIM knowledge;
             ``knowledge`` is accepted as another name for it).

An id given twice with the same text is fine; with different texts it is an error.

`attach_visual_text` stores the text in ``post.visual_text[name]`` (e.g.
``"caption"``, ``"knowledge"``), replacing what was there. A post's text is
looked up per image, in the post's image order; a post with several images
gets the texts of those that have one joined with ``" | "``. When none of its
images has a text, the post id itself is tried, for files keyed by post
(knowledge is written per post). Empty texts count as missing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from os import PathLike

from mner.data.errors import DataFormatError
from mner.data.post import Post
from mner.data.readers.lines import ProblemSink, iter_json_objects, raise_problems, read_lines

VISUAL_TEXT_FORMATS = ("blip2", "owl", "jsonl")
VISUAL_TEXT_JOIN = " | "
OWL_PREFIX = "imgid:"
OWL_SEPARATOR = "###"
BLIP2_SEPARATOR = " :"
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp")


def image_id(name: str) -> str:
    """``dir/17_06_9315.jpg`` -> ``17_06_9315``; a name without an image extension is kept."""
    base = os.path.basename(name.strip())
    stem, ext = os.path.splitext(base)
    return stem if ext.lower() in IMAGE_EXTENSIONS else base


class TextTable:
    """image id -> text, refusing one id with two different texts."""

    def __init__(self, report: ProblemSink) -> None:
        self.texts: dict[str, str] = {}
        self.first_line: dict[str, int] = {}
        self.report = report

    def add(self, key: str, text: str, line: int) -> None:
        if not key:
            self.report(line, "empty image id")
        elif key in self.texts and self.texts[key] != text:
            self.report(line, f"image id {key!r} already has a different text (line {self.first_line[key]})")
        elif key not in self.texts:
            self.texts[key], self.first_line[key] = text, line


def read_blip2(path: str | PathLike[str], report: ProblemSink) -> dict[str, str]:
    table = TextTable(report)
    for number, line in read_lines(path, report):
        if not line.strip():
            continue
        if BLIP2_SEPARATOR not in line:
            report(number, f"expected '<image>.jpg :<caption>', got {line[:60]!r}")
            continue
        name, caption = line.split(BLIP2_SEPARATOR, 1)
        table.add(image_id(name), caption.strip(), number)
    return table.texts


def read_owl(path: str | PathLike[str], report: ProblemSink) -> dict[str, str]:
    table = TextTable(report)
    entry: tuple[str, int, list[str]] | None = None  # (id, line, text lines)

    def close() -> None:
        if entry is not None:
            table.add(entry[0], "\n".join(entry[2]).strip(), entry[1])

    for number, line in read_lines(path, report):
        if line.startswith(OWL_PREFIX):
            close()
            head = line[len(OWL_PREFIX) :]
            if OWL_SEPARATOR not in head:
                report(number, f"expected 'imgid:<id>###<text>', got {line[:60]!r}")
                entry = None
                continue
            key, text = head.split(OWL_SEPARATOR, 1)
            entry = (image_id(key), number, [text])
        elif entry is not None:
            entry[2].append(line)
        elif line.strip():
            report(number, "text before the first 'imgid:<id>###' line")
    close()
    return table.texts


def read_knowledge_jsonl(path: str | PathLike[str], report: ProblemSink) -> dict[str, str]:
    table = TextTable(report)
    for number, obj in iter_json_objects(path, report):
        if not isinstance(obj.get("image_id"), (str, int)) or not isinstance(obj.get("text"), str):
            report(number, "expected {\"image_id\": <id>, \"text\": <string>}")
            continue
        table.add(image_id(str(obj["image_id"])), obj["text"].strip(), number)
    return table.texts


def detect_visual_text_format(path: str | PathLike[str]) -> str:
    for number, line in read_lines(path, raise_problems(path)):
        if not line.strip():
            continue
        if line.startswith(OWL_PREFIX):
            return "owl"
        if line.lstrip().startswith("{"):
            return "jsonl"
        if BLIP2_SEPARATOR in line:
            return "blip2"
        raise DataFormatError(
            path, number, f"cannot tell the visual-text format; pass format= one of {VISUAL_TEXT_FORMATS}"
        )
    raise DataFormatError(path, None, "empty visual-text file")


VISUAL_TEXT_READERS = {"blip2": read_blip2, "owl": read_owl, "jsonl": read_knowledge_jsonl}


def read_visual_text(
    path: str | PathLike[str], format: str | None = None, *, report: ProblemSink | None = None
) -> dict[str, str]:
    """image id (file stem, no ``.jpg``) -> text. `format` None means detect it from the first line."""
    format = format or detect_visual_text_format(path)
    format = "jsonl" if format == "knowledge" else format
    if format not in VISUAL_TEXT_READERS:
        raise ValueError(f"unknown visual-text format {format!r}; choose from {VISUAL_TEXT_FORMATS}")
    return VISUAL_TEXT_READERS[format](path, report or raise_problems(path))


def read_visual_texts(paths: Iterable[str | PathLike[str]]) -> dict[str, str]:
    """Several visual-text files as one table, e.g. the knowledge files of every split a post set
    was drawn from (Twitter-GMNER's posts come from Twitter-2015's and Twitter-2017's splits).

    An id in two files with the same text is fine; with different texts it is an error naming
    both files, because which one the post should read is the user's call, not ours.
    """
    merged: dict[str, str] = {}
    source: dict[str, str] = {}
    for path in paths:
        for key, text in read_visual_text(path).items():
            if key in merged and merged[key] != text:
                raise DataFormatError(path, None, f"image id {key!r} has a different text in {source[key]}")
            if key not in merged:
                merged[key], source[key] = text, os.fspath(path)
    return merged


def text_for_post(post: Post, texts: Mapping[str, str]) -> str | None:
    """The post's texts in image order joined by " | ", else the text under its id, else None."""
    found = [texts[key] for key in (image_id(img) for img in post.images) if texts.get(key)]
    if not found and texts.get(post.id):
        found = [texts[post.id]]
    return VISUAL_TEXT_JOIN.join(found) if found else None


def attach_visual_text(
    posts: Iterable[Post],
    path_or_mapping: str | PathLike[str] | Sequence[str | PathLike[str]] | Mapping[str, str],
    name: str,
) -> int:
    """Store each post's text under ``visual_text[name]``; returns how many posts got one.
    A list of paths is read as one table (`read_visual_texts`)."""
    if isinstance(path_or_mapping, Mapping):
        texts: Mapping[str, str] = path_or_mapping
    elif isinstance(path_or_mapping, (list, tuple)):
        texts = read_visual_texts(path_or_mapping)
    else:
        texts = read_visual_text(path_or_mapping)
    attached = 0
    for post in posts:
        text = text_for_post(post, texts)
        if text is not None:
            post.visual_text[name] = text
            attached += 1
    return attached
