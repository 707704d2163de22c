"""Reading text files line by line with 1-based line numbers, for every line-based format.

A file is read as bytes and split on ``\\n``; a trailing ``\\r`` is dropped (so
CRLF files read like LF files), a UTF-8 byte-order mark is ignored, and a
line that is not UTF-8 is reported with its number instead of failing the
whole file. Problems go to a `ProblemSink`: strict readers raise at the first
(`raise_problems`), the validator collects them all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from os import PathLike
from pathlib import Path
from typing import Any

from mner.data.encoding import SAMPLE, UTF8_BOM, check_utf8_text, utf8_problem
from mner.data.errors import DataFormatError

ProblemSink = Callable[[int, str], None]  # (1-based line, message)


def raise_problems(path: str | PathLike[str]) -> ProblemSink:
    """A sink that stops at the first problem with a `DataFormatError`."""

    def sink(line: int, message: str) -> None:
        raise DataFormatError(path, line, message)

    return sink


def read_lines(path: str | PathLike[str], report: ProblemSink) -> list[tuple[int, str]]:
    """(line number, text) pairs; CR/BOM dropped; undecodable lines reported and skipped.

    A UTF-16/32 file is refused as a whole (`mner.data.encoding`): its lines would all be noise.
    """
    data = Path(path).read_bytes()
    check_utf8_text(path, data[:SAMPLE])
    offset = 0  # byte offset of the current line in the file, for messages
    if data.startswith(UTF8_BOM):
        data, offset = data[len(UTF8_BOM) :], len(UTF8_BOM)
    lines: list[tuple[int, str]] = []
    raw_lines = data.split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()  # the newline that ends the last line
    for number, raw in enumerate(raw_lines, 1):
        line_offset, offset = offset, offset + len(raw) + 1
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        try:
            lines.append((number, raw.decode("utf-8")))
        except UnicodeDecodeError as err:
            report(number, utf8_problem(path, err, line_offset))
    return lines


def iter_json_objects(path: str | PathLike[str], report: ProblemSink) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line, object) for each non-blank line of a JSON-lines file; bad lines reported."""
    for number, line in read_lines(path, report):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as err:
            report(number, f"bad JSON: {err.msg} (column {err.colno})")
            continue
        if not isinstance(value, dict):
            report(number, f"expected a JSON object, got {type(value).__name__}")
            continue
        yield number, value
