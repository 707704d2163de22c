"""UTF-8 with or without BOM is read; UTF-16/32 and other encodings are named, with the fix (docs/reliability.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from mner.cli.data import data_app
from mner.data.encoding import sniff_encoding
from mner.data.errors import DataFormatError
from mner.data.readers import read_posts, read_visual_text
from mner.data.readers.detect import detect_format, detect_kind
from mner.data.validate import validate_file

TWITTER = "IMGID:1\nMessi\tB-PER\nin\tO\n\nIMGID:2\nParis\tB-LOC\n\n"
JSONL = '{"id": "a", "tokens": ["Müller", "in", "Zürich"], "tags": ["B-PER", "O", "B-LOC"]}\n'


@pytest.mark.parametrize("text", [TWITTER, JSONL, TWITTER.replace("\n", "\r\n")])
def test_utf8_with_and_without_bom_reads_the_same(tmp_path: Path, text: str) -> None:
    plain, bom = tmp_path / "plain.txt", tmp_path / "bom.txt"
    plain.write_bytes(text.encode("utf-8"))
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    strip = [(p.id, p.tokens, p.tags) for p in read_posts(plain)]
    assert strip == [(p.id, p.tokens, p.tags) for p in read_posts(bom)]


@pytest.mark.parametrize(("codec", "name"), [("utf-16", "UTF-16LE"), ("utf-16-be", "UTF-16BE"), ("utf-32", "UTF-32LE"),
                                             ("utf-16-le", "UTF-16LE")])
def test_utf16_and_utf32_are_named_from_detection_onward(tmp_path: Path, codec: str, name: str) -> None:
    path = tmp_path / "train.txt"
    path.write_bytes(TWITTER.encode(codec))  # utf-16/utf-32 write a BOM; utf-16-le/-be do not
    assert sniff_encoding(path.read_bytes()[:512]) == name or codec == "utf-16-be"
    for call in (detect_format, detect_kind, read_posts, lambda p: read_posts(p, "twitter"), validate_file):
        with pytest.raises(DataFormatError, match=r"train\.txt: this is UTF-(16|32)(LE|BE) text.*iconv -f UTF"):
            call(path)
    result = CliRunner().invoke(data_app, ["validate", str(path)])
    assert result.exit_code == 1 and name in result.output
    assert "pickle" not in result.output and "npz" not in result.output
    stats = CliRunner().invoke(data_app, ["stats", str(path)])
    assert stats.exit_code == 1 and "iconv" in stats.output and "pickle" not in stats.output


def test_caption_files_in_utf16_are_named_too(tmp_path: Path) -> None:
    path = tmp_path / "captions.txt"
    path.write_bytes("1.jpg :a man\n".encode("utf-16"))
    with pytest.raises(DataFormatError, match="UTF-16LE"):
        read_visual_text(path, "blip2")


def test_invalid_utf8_names_line_and_byte_offsets(tmp_path: Path) -> None:
    path = tmp_path / "train.txt"
    latin1 = "IMGID:1\nMessi\tB-PER\n\nIMGID:2\nM\u00fcller\tB-PER\n\n".encode("latin-1")
    path.write_bytes(latin1)
    with pytest.raises(DataFormatError) as caught:
        read_posts(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:5: not UTF-8 text")
    offset = latin1.index("M\u00fc".encode("latin-1")) + 1
    assert "at byte 1 of the line" in message and f"byte {offset} of the file" in message  # 0-based offsets
    assert "iconv -f <ENCODING> -t UTF-8" in message
    problems = [str(p) for p in validate_file(path)]
    assert any(p.startswith(f"{path}:5: not UTF-8") for p in problems)


def test_bom_shifts_the_file_offset(tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b'{"id": "a", "tokens": ["\xff"]}\n')
    with pytest.raises(DataFormatError, match=r"posts\.jsonl:1: .*at byte 24 of the line, byte 27 of the file"):
        read_posts(path, "jsonl")


def test_prediction_input_encoding(tmp_path: Path) -> None:
    from mner.cli.predict_file import read_jsonl_items

    path = tmp_path / "in.jsonl"
    path.write_bytes('{"text": "Messi in Paris"}\n'.encode("utf-16"))
    with pytest.raises(ValueError, match="UTF-16LE"):
        read_jsonl_items(path)
    path.write_bytes(b'\xef\xbb\xbf{"text": "Messi in Paris"}\n')
    assert read_jsonl_items(path) == [{"text": "Messi in Paris"}]
