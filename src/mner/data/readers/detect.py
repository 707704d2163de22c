"""Which format a file is in, from its content.

`detect_kind` sorts paths into posts, visual text (captions, knowledge),
regions (VinVL npz) and image folders. `detect_format` then names the post
format. Only the first non-blank line is looked at, and only rules that
cannot misfire are used:

- ``IMGID:<id>`` -> ``gmner`` when an ``xml/`` folder with ``.xml`` files
  sits beside the file (the GMNER release layout), else ``twitter``;
- ``WID:<id>`` -> ``cmner``;
- a JSON object with ``tokens`` -> ``jsonl``; with a ``text`` token list and
  ``label`` or ``images`` -> ``mner_mi``.

Anything else (plain CoNLL without id lines, caption or knowledge files, a
JSON array) is an error that says what was seen and asks for ``--format``.
"""

from __future__ import annotations

import json
import re
from os import PathLike
from pathlib import Path

from mner.data.encoding import UTF8_BOM, check_utf8_text
from mner.data.errors import DataFormatError

FORMATS = ("twitter", "gmner", "cmner", "mner_mi", "jsonl")
FORMAT_ALIASES = {
    "twitter2015": "twitter",
    "twitter2017": "twitter",
    "twitter-2015": "twitter",
    "twitter-2017": "twitter",
    "umt": "twitter",
    "twitter-gmner": "gmner",
    "twitter_gmner": "gmner",
    "mner-mi": "mner_mi",
    "mnermi": "mner_mi",
    "json": "jsonl",
}
HEAD_BYTES = 1 << 16
FILE_KINDS = ("posts", "visual_text", "regions", "images", "folder")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff")
DATA_FILE_SUFFIXES = (".txt", ".jsonl", ".json", ".npz", "")  # CMNER's example_text has none
# "<image>.jpg :<caption>" (BLIP-2 caption files)
CAPTION_LINE = re.compile(r"^\S+\.(jpe?g|png|gif|webp|bmp) :", re.IGNORECASE)


def is_binary(head: bytes) -> bool:
    return b"\x00" in head[:1024] or head.startswith(b"PK\x03\x04")


def data_files(folder: str | PathLike[str]) -> list[Path]:
    """The files of a folder that may be data (not hidden, not docs), sorted; no recursion."""
    return sorted(
        p for p in Path(folder).iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in DATA_FILE_SUFFIXES
    )  # fmt: skip


def detect_kind(path: str | PathLike[str]) -> str:
    """What a path holds: ``posts``, ``visual_text`` (captions, knowledge), ``regions`` (npz),
    ``images`` (a folder with image files) or ``folder`` (a folder of data files)."""
    path = Path(path)
    if path.is_dir():
        has_images = any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.iterdir() if p.is_file())
        return "images" if has_images else "folder"
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
    if path.suffix.lower() == ".npz":
        return "regions"
    check_utf8_text(path, head)  # UTF-16 has NUL bytes: without this it would pass for a binary npz
    if is_binary(head):
        return "regions"
    found = first_line(path)
    if found is not None:
        line = found[1]
        if line.startswith("imgid:") or CAPTION_LINE.match(line):
            return "visual_text"
        if line.lstrip().startswith("{"):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                return "posts"
            if isinstance(obj, dict) and "image_id" in obj and "tokens" not in obj:
                return "visual_text"
    return "posts"


def canonical_format(name: str) -> str:
    """A format name or alias -> its canonical name in `FORMATS`."""
    key = name.strip().lower()
    key = FORMAT_ALIASES.get(key, key)
    if key not in FORMATS:
        raise ValueError(f"unknown format {name!r}; choose from {', '.join(FORMATS)}")
    return key


VISUAL_TEXT_FORMAT_NAMES = ("blip2", "owl", "knowledge")
REGION_FORMAT_NAMES = ("vinvl", "npz")


def resolve_kind(path: str | PathLike[str], format: str | None) -> tuple[str, str | None]:
    """(kind, format) from an explicit `format` name, or detected from the path when None.

    ``jsonl`` always means posts; the PGIM knowledge JSON lines are ``knowledge``.
    """
    if format is None:
        return detect_kind(path), None
    key = format.strip().lower()
    if key in VISUAL_TEXT_FORMAT_NAMES:
        return "visual_text", key
    if key in REGION_FORMAT_NAMES:
        return "regions", key
    if key == "images":
        return "images", None
    if Path(path).is_dir():
        raise ValueError(f"{path} is a folder: --format applies to a file")
    try:
        return "posts", canonical_format(key)
    except ValueError:
        names = [*FORMATS, *VISUAL_TEXT_FORMAT_NAMES, *REGION_FORMAT_NAMES, "images"]
        raise ValueError(f"unknown format {format!r}; choose from {', '.join(names)}") from None


def first_line(path: str | PathLike[str]) -> tuple[int, str] | None:
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
    check_utf8_text(path, head)
    text = head.removeprefix(UTF8_BOM).decode("utf-8", errors="replace")
    for number, line in enumerate(text.split("\n"), 1):
        if line.strip():
            return number, line.rstrip("\r")
    return None


def has_xml_folder(path: Path) -> bool:
    xml_dir = path.parent / "xml"
    return xml_dir.is_dir() and next(xml_dir.glob("*.xml"), None) is not None


def detect_json_format(path: str | PathLike[str], number: int, line: str) -> str:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        message = "starts like JSON but its first line is not a JSON object; pass --format"
        raise DataFormatError(path, number, message) from None
    if isinstance(obj, dict):
        if "tokens" in obj:
            return "jsonl"
        if isinstance(obj.get("text"), list) and ("label" in obj or "images" in obj):
            return "mner_mi"
        if "image_id" in obj:
            message = "this is a visual-text (knowledge) file keyed by image id, not posts; attach it to posts instead"
            raise DataFormatError(path, number, message)
    keys = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
    raise DataFormatError(path, number, f"unrecognised JSON post ({keys}); pass --format one of {', '.join(FORMATS)}")


def detect_format(path: str | PathLike[str]) -> str:
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(1024)
    check_utf8_text(path, head)
    if is_binary(head):
        raise DataFormatError(path, None, "a binary file (zip/npz?), not a text file of posts")
    found = first_line(path)
    if found is None:
        raise DataFormatError(path, None, "empty file: nothing to detect a format from")
    number, line = found
    if line.startswith("IMGID:"):
        return "gmner" if has_xml_folder(path) else "twitter"
    if line.startswith("WID:"):
        return "cmner"
    if line.lstrip().startswith("{"):
        return detect_json_format(path, number, line.strip())
    if line.startswith("imgid:") or CAPTION_LINE.match(line):
        raise DataFormatError(
            path, number, "this looks like a caption file (image id -> text), not posts; attach it to posts instead"
        )
    raise DataFormatError(
        path,
        number,
        f"cannot detect the format from {line[:40]!r}; pass --format one of {', '.join(FORMATS)}",
    )
