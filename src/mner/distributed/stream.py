"""Posts read one at a time from files of any size: memory stays constant whatever the corpus.

Two input kinds, chosen by the file's suffix:
- `.jsonl`: one post per line, `tokens` (a list of words) or `text` (tokenised here), plus
  any `Post` field (`id`, `images`, `visual_text`, ...); the form `mner predict --input` reads;
- `.txt` / `.conll`: CoNLL with `IMGID:<id>` lines (the Twitter-2015/2017 and GMNER
  releases); a token line is `token<TAB>tag` or just `token` (tags are not needed to predict).

Files are read as bytes (so progress can be counted in bytes and a CRLF or BOM reads like
LF), and every problem is a `DataFormatError` naming the file and line.
"""

from __future__ import annotations

import glob
import json
from collections.abc import Iterator
from pathlib import Path

from mner.data.errors import DataFormatError
from mner.data.post import Post
from mner.data.readers.conll import IMGID_HEADER, is_empty_token
from mner.data.readers.jsonl import check_string_list

SUFFIX_KINDS = {".jsonl": "jsonl", ".txt": "conll", ".conll": "conll"}
GLOB_CHARS = set("*?[")


def corpus_files(pattern: str | Path) -> tuple[Path, list[Path]]:
    """(root, files): every `.jsonl`/`.txt`/`.conll` file under a directory (recursively), those a
    glob matches, or one file; sorted, so every process lists the same files in the same order.
    `root` is what output paths are made relative to."""
    text = str(pattern)
    if GLOB_CHARS & set(text):
        files = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
        root = Path(text.split("*")[0].split("?")[0].split("[")[0] or ".")
        root = root if root.is_dir() else root.parent
    elif Path(text).is_dir():
        root = Path(text)
        files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in SUFFIX_KINDS)
    elif Path(text).is_file():
        root, files = Path(text).parent, [Path(text)]
    else:
        raise FileNotFoundError(f"{text}: no such file, directory or matching files")
    unknown = [f for f in files if f.suffix not in SUFFIX_KINDS]
    if unknown:
        raise ValueError(f"{unknown[0]}: unknown input kind (expected {', '.join(SUFFIX_KINDS)})")
    if not files:
        raise FileNotFoundError(f"{text}: no {', '.join(SUFFIX_KINDS)} files found")
    return root, files


def numbered_lines(path: Path) -> Iterator[tuple[int, str, int]]:
    """(1-based line number, text without CR/LF, bytes consumed so far), one line in memory."""
    with open(path, "rb") as handle:
        consumed = 0
        for number, raw in enumerate(handle, 1):
            consumed += len(raw)
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                text = raw.rstrip(b"\n").rstrip(b"\r").decode("utf-8")
            except UnicodeDecodeError as err:
                raise DataFormatError(path, number, f"not UTF-8 text ({err.reason} at byte {err.start})") from None
            yield number, text, consumed


def stream_jsonl(path: Path) -> Iterator[tuple[Post, int]]:
    from mner.predict import as_post

    index = 0
    for number, line, consumed in numbered_lines(path):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataFormatError(path, number, f"not valid JSON ({err.msg})") from None
        if not isinstance(item, dict) or not ("tokens" in item or "text" in item):
            raise DataFormatError(path, number, "expected an object with 'tokens' or 'text'")
        if "tokens" in item:
            check_string_list(path, number, item, "tokens")
        elif not isinstance(item["text"], str):
            raise DataFormatError(path, number, "'text' must be a string")
        try:
            post = as_post(item, index)
        except (KeyError, TypeError, ValueError) as err:
            raise DataFormatError(path, number, f"not a post ({err})") from None
        index += 1
        yield post, consumed


def stream_conll(path: Path) -> Iterator[tuple[Post, int]]:
    post_id, tokens, consumed = None, [], 0
    for number, line, consumed in numbered_lines(path):
        if line.startswith(IMGID_HEADER):
            if post_id is not None and tokens:
                yield Post(id=post_id, tokens=tokens, images=[f"{post_id}.jpg"]), consumed
            post_id, tokens = line[len(IMGID_HEADER) :].strip() or f"line-{number}", []
        elif not line.strip():
            continue  # blank lines separate posts; the next header starts one
        elif post_id is None:
            raise DataFormatError(path, number, f"token line before the first {IMGID_HEADER}<id> line")
        else:
            token = line.split("\t", 1)[0]
            if is_empty_token(token):
                raise DataFormatError(path, number, "empty token")
            tokens.append(token)
    if post_id is not None and tokens:
        yield Post(id=post_id, tokens=tokens, images=[f"{post_id}.jpg"]), consumed


def stream_posts(path: Path) -> Iterator[tuple[Post, int]]:
    """(post, bytes of the file read so far) for each post of `path`, in file order."""
    kind = SUFFIX_KINDS.get(path.suffix)
    if kind is None:
        raise ValueError(f"{path}: unknown input kind (expected {', '.join(SUFFIX_KINDS)})")
    return stream_jsonl(path) if kind == "jsonl" else stream_conll(path)
