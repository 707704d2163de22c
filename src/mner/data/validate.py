"""List every problem of a data file, not just the first.

The strict readers stop at the first malformed line; `validate_file` reads
the same file with the same line rules (`scan_conll`, `iter_json_objects`,
`read_voc_boxes` given a collecting sink) and goes on, so one run shows all
of them, each as ``file:line: problem``. It also checks caption/knowledge
files, VinVL npz files, image folders and folders of data files, so
``mner data validate`` answers for anything in a dataset folder.

Severity, and why:
- errors: unknown tag, BIOES tag, missing tab, empty token, bad JSON, bad xml
  or box, a post with no tokens, a missing / undecodable / truncated / too
  large image (with `images_dir`);
- warnings (listed, but the file is usable as is): ``I-X`` without ``B-X``
  (Twitter-2015 train + valid have 239; readers repair them by policy),
  a PNG stored under a ``.jpg`` name (`load_image` decodes by content), a
  GMNER box whose name matches no entity (its box is dropped), a repeated
  post id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

from mner.data.errors import DataFormatError, ImageError, Problem
from mner.data.images import EXTENSION_FORMATS, extension_mismatch, load_image, sniff_image_format
from mner.data.readers.building import resolve_images
from mner.data.safe_paths import UnsafePathError, is_inside, name_problem
from mner.data.readers.cmner import index_images_by_post
from mner.data.readers.conll import IMGID_HEADER, WID_HEADER, ConllBlock, scan_conll
from mner.data.readers.detect import data_files, detect_format, resolve_kind
from mner.data.readers.gmner import default_xml_dir, normalize_name, read_voc_boxes
from mner.data.readers.jsonl import post_from_json
from mner.data.readers.lines import ProblemSink, iter_json_objects
from mner.data.readers.mner_mi import post_from_mner_mi
from mner.data.readers.regions import read_vinvl
from mner.data.readers.visual_text import read_visual_text
from mner.data.tags import TagError, bio_problems, bio_to_spans, parse_tag


@dataclass
class PostRecord:
    """Just enough of a post to check its images."""

    id: str
    line: int
    images: list[str]


class ProblemList:
    """Collects problems; `sink(path)` is a `ProblemSink` that records errors for that file."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str | PathLike[str], line: int | None, message: str, severity: str = "error") -> None:
        self.problems.append(Problem(str(path), line, message, severity))

    def sink(self, path: str | PathLike[str]) -> ProblemSink:
        return lambda line, message: self.add(path, line, message)


def check_tag_sequence(
    found: ProblemList, path: str | PathLike[str], tags: list[str], lines: list[int] | None, line: int
) -> None:
    """Unknown and BIOES tags are errors; a stray ``I-`` is a warning (readers repair it)."""
    for index, message in bio_problems(tags):
        at, prefix = (lines[index], "") if lines is not None else (line, f"token {index}: ")
        try:
            kind, _ = parse_tag(tags[index])
        except TagError:
            kind = "?"
        if kind == "I":
            message += "; readers take it as a new entity (repair 'begin') or as O (repair 'drop')"
            found.add(path, at, prefix + message, "warning")
        else:
            found.add(path, at, prefix + message)


def check_duplicate_ids(found: ProblemList, path: str | PathLike[str], records: list[PostRecord]) -> None:
    first: dict[str, int] = {}
    for record in records:
        if record.id in first:
            found.add(path, record.line, f"post id {record.id!r} repeats line {first[record.id]}", "warning")
        else:
            first[record.id] = record.line


def check_gmner_boxes(found: ProblemList, path: Path, blocks: list[ConllBlock]) -> None:
    xml_dir = default_xml_dir(path)
    if not xml_dir.is_dir():
        found.add(path, None, f"GMNER boxes folder {xml_dir} not found (expected xml/<image_id>.xml beside the file)")
        return
    for block in blocks:
        if name_problem(f"{block.post_id}.xml") is not None or not is_inside(xml_dir / f"{block.post_id}.xml", xml_dir):
            continue  # the image check reports the id that climbs out
        xml_path = xml_dir / f"{block.post_id}.xml"
        if not xml_path.is_file():
            continue
        names = {normalize_name(" ".join(block.tokens[s:e])) for s, e, _ in bio_to_spans(block.tags)}
        for box in read_voc_boxes(xml_path, found.sink(xml_path)):
            if box.name not in names:
                message = f"box name {box.name!r} matches no entity of post {block.post_id!r} ({path}:{block.line})"
                found.add(xml_path, box.line, message, "warning")


def check_conll(found: ProblemList, path: Path, fmt: str, images_dir: str | PathLike[str] | None) -> list[PostRecord]:
    header = WID_HEADER if fmt == "cmner" else IMGID_HEADER
    blocks = scan_conll(path, header, found.sink(path))
    for block in blocks:
        check_tag_sequence(found, path, block.tags, block.token_lines, block.line)
    if fmt == "gmner":
        check_gmner_boxes(found, path, blocks)
    if fmt == "cmner":
        by_post = index_images_by_post(images_dir) if images_dir is not None else {}
        return [PostRecord(b.post_id, b.line, by_post.get(b.post_id, [])) for b in blocks]
    return [PostRecord(b.post_id, b.line, [f"{b.post_id}.jpg"]) for b in blocks]


JsonPostBuilder = Callable[..., Any]
JSON_LAYOUTS: Mapping[str, tuple[str, JsonPostBuilder]] = {
    # format -> (tags key, the strict reader's builder of one post)
    "jsonl": ("tags", post_from_json),
    "mner_mi": ("label", post_from_mner_mi),
}


def check_json_lines(
    found: ProblemList, path: Path, fmt: str, images_dir: str | PathLike[str] | None
) -> list[PostRecord]:
    tags_key, build = JSON_LAYOUTS[fmt]
    records: list[PostRecord] = []
    for line, obj in iter_json_objects(path, found.sink(path)):
        tags = obj.get(tags_key)
        tag_problems = ProblemList()
        if isinstance(tags, list) and all(isinstance(t, str) for t in tags):
            check_tag_sequence(tag_problems, path, tags, None, line)
        found.problems += tag_problems.problems
        has_tag_errors = any(p.is_error for p in tag_problems.problems)
        try:  # the strict builder checks everything else; tags only when they had no error above
            post = build(path, line, {**obj, tags_key: None} if has_tag_errors else obj,
                         images_dir=images_dir, type_map=None, repair="begin")  # fmt: skip
        except DataFormatError as err:
            found.add(path, line, err.problem)
            continue
        records.append(PostRecord(post.id, line, post.images))
    return records


def safe_images(
    found: ProblemList, path: Path, record: PostRecord, images_dir: str | PathLike[str] | None
) -> list[str]:
    """The record's images as paths; each name that would leave the folder is a problem instead."""
    images = []
    for name in record.images:
        try:
            images += resolve_images([name], images_dir)
        except UnsafePathError as err:
            found.add(path, record.line, f"post {record.id!r}: image {err}")
    return images


def check_images(
    found: ProblemList, path: Path, records: list[PostRecord], images_dir: str | PathLike[str] | None
) -> None:
    for record in records:
        images = safe_images(found, path, record, images_dir)
        if images_dir is None:
            continue  # names checked; no folder to look for the files in
        for image in images:
            where = f"post {record.id!r}: image {image}"
            if not Path(image).is_file():
                found.add(path, record.line, f"{where}: missing")
                continue
            mismatch = extension_mismatch(image)
            if mismatch:
                found.add(path, record.line, f"{where}: {mismatch}", "warning")
            try:
                load_image(image)
            except ImageError as err:
                found.add(path, record.line, f"{where}: {err.reason}")


def validate_posts(path: Path, fmt: str | None, images_dir: str | PathLike[str] | None) -> list[Problem]:
    fmt = fmt or detect_format(path)
    found = ProblemList()
    if fmt in JSON_LAYOUTS:
        records = check_json_lines(found, path, fmt, images_dir)
    else:
        records = check_conll(found, path, fmt, images_dir)
    check_duplicate_ids(found, path, records)
    check_images(found, path, records, images_dir)
    # The text file first, then its xml files; by line within each file.
    return sorted(found.problems, key=lambda p: (p.path != str(path), p.path, p.line or 0))


def validate_visual_text(path: Path, fmt: str | None) -> list[Problem]:
    found = ProblemList()
    read_visual_text(path, fmt, report=found.sink(path))
    return found.problems


def validate_regions(path: Path) -> list[Problem]:
    try:
        read_vinvl(path)
    except DataFormatError as err:
        return [Problem(str(path), None, err.problem)]
    return []


def validate_image_folder(folder: Path) -> list[Problem]:
    """Every image file of a folder is decoded; non-image files are ignored."""
    found = ProblemList()
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        if path.suffix.lower() not in EXTENSION_FORMATS and sniff_image_format(path) is None:
            continue
        mismatch = extension_mismatch(path)
        if mismatch:
            found.add(path, None, mismatch, "warning")
        try:
            load_image(path)
        except ImageError as err:
            found.add(path, None, err.reason)
    return found.problems


def validate_folder(folder: Path, images_dir: str | PathLike[str] | None) -> list[Problem]:
    """Every data file of a folder (not recursive); a file that cannot be read is one problem."""
    problems: list[Problem] = []
    for file in data_files(folder):
        try:
            problems += validate_file(file, images_dir=images_dir)
        except DataFormatError as err:
            problems.append(Problem(err.path, err.line, err.problem))
    return problems


def validate_file(
    path: str | PathLike[str], format: str | None = None, images_dir: str | PathLike[str] | None = None
) -> list[Problem]:
    """Every problem of a data file, in file order.

    Posts files are checked with their GMNER xml and, when `images_dir` is
    given, their images. Caption/knowledge files, VinVL npz files, image
    folders and folders of data files are recognised too (see `detect_kind`)
    and checked for what they are.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if images_dir is not None and not Path(images_dir).is_dir():
        raise FileNotFoundError(f"{images_dir}: images folder not found")
    kind, fmt = resolve_kind(path, format)
    if kind == "images":
        return validate_image_folder(path)
    if kind == "folder":
        return validate_folder(path, images_dir)
    if kind == "visual_text":
        return validate_visual_text(path, fmt)
    if kind == "regions":
        return validate_regions(path)
    return validate_posts(path, fmt, images_dir)
