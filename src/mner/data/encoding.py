"""Which text encoding a data file is in, and what to tell the user when it is not UTF-8.

mner reads UTF-8, with or without a byte-order mark. Files saved by Windows
tools are often UTF-16 (Notepad's "Unicode") and older Chinese corpora GBK;
before this module such a file surfaced as whatever failed first (a UTF-16
file has NUL bytes, so it was taken for a binary VinVL npz and reported with
numpy's pickle message). Now:

- `sniff_encoding(head)` names UTF-32/UTF-16 from their byte-order marks, and
  BOM-less UTF-16 from its NUL-byte pattern (every other byte NUL in ASCII text);
- `check_utf8_text(path, head)` raises a `DataFormatError` naming the encoding
  and the command that converts the file; format detection calls it first, so
  the message is the same whichever command met the file;
- `utf8_problem(raw, err, offset)` words an undecodable line: the byte offset
  within the line and within the file, and the same conversion hint.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

from mner.data.errors import DataFormatError

UTF8_BOM = b"\xef\xbb\xbf"
# Longest first: the UTF-32-LE mark starts with the UTF-16-LE one.
BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\x00\x00\xfe\xff", "UTF-32BE"),
    (b"\xff\xfe\x00\x00", "UTF-32LE"),
    (b"\xfe\xff", "UTF-16BE"),
    (b"\xff\xfe", "UTF-16LE"),
)
SAMPLE = 512  # bytes looked at for the BOM-less UTF-16 pattern


def sniff_encoding(head: bytes) -> str | None:
    """'UTF-16LE', 'UTF-32BE', ... when `head` (a file's first bytes) is not UTF-8; None for UTF-8/unknown."""
    for bom, name in BOMS:
        if head.startswith(bom):
            return name
    sample = head[:SAMPLE]
    if len(sample) >= 8:
        even, odd = sample[0::2], sample[1::2]
        # ASCII text in UTF-16 has a NUL in every other byte; binary formats (zip, npz) do not look like this.
        if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
            return "UTF-16LE"
        if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
            return "UTF-16BE"
    return None


def conversion_hint(path: str | PathLike[str], encoding: str) -> str:
    """The commands that turn `path` into UTF-8 (iconv, or Python where iconv is missing)."""
    source = Path(path)
    target = source.with_name(f"{source.stem}.utf8{source.suffix}")
    python = "utf-16" if encoding.startswith("UTF-16") else encoding.lower()
    return (
        f"convert it to UTF-8: iconv -f {encoding} -t UTF-8 '{source}' > '{target}' "
        f"(or: python -c \"import pathlib as p; p.Path('{target}').write_text("
        f"p.Path('{source}').read_text(encoding='{python}'), encoding='utf-8')\")"
    )


def check_utf8_text(path: str | PathLike[str], head: bytes) -> None:
    """`DataFormatError` (no line: the whole file) when `head` shows a UTF-16/32 text file."""
    encoding = sniff_encoding(head)
    if encoding is not None:
        marked = any(head.startswith(bom) for bom, _ in BOMS)
        how = "byte-order mark" if marked else "NUL-byte pattern, no byte-order mark"
        raise DataFormatError(
            path, None, f"this is {encoding} text ({how}); mner reads UTF-8 -- {conversion_hint(path, encoding)}"
        )


def utf8_problem(path: str | PathLike[str], err: UnicodeDecodeError, line_offset: int) -> str:
    """What is wrong with a line that is not UTF-8: where (line byte, file byte) and how to fix the file."""
    return (
        f"not UTF-8 text ({err.reason} at byte {err.start} of the line, byte {line_offset + err.start} of the "
        f"file); if the file is in another encoding (Latin-1, cp1252, GBK, ...), "
        f"{conversion_hint(path, '<ENCODING>')}"
    )


__all__ = ["check_utf8_text", "conversion_hint", "sniff_encoding", "utf8_problem"]
