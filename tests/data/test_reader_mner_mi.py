"""MNER-MI JSON lines: token list, several images, type MIS."""

from __future__ import annotations

from pathlib import Path

import pytest

from mner.data.errors import DataFormatError
from mner.data.readers import read_posts


def test_reads_tokens_images_and_maps_mis_to_misc(fixtures: Path, tmp_path: Path) -> None:
    posts = read_posts(fixtures / "mner_mi.jsonl", images_dir=tmp_path)  # detected
    assert [p.id for p in posts] == ["m1", "2", "m3"]
    assert posts[0].images == [str(tmp_path / "m1_0.jpg"), str(tmp_path / "m1_1.jpg")]
    assert [e.span for e in posts[0].entities] == [(0, 1, "PER"), (2, 3, "PER"), (4, 5, "ORG")]
    assert posts[1].tags == ["O", "B-MISC", "O"]
    assert posts[2].images == [] and posts[2].entities == []
    assert posts[1].source.line == 2


@pytest.mark.parametrize(("line", "words"), [(2, "bad JSON"), (3, "2 tokens but 1 tags"), (4, "unknown tag 'B_PER'")])
def test_malformed_lines_name_file_and_line(fixtures: Path, tmp_path: Path, line: int, words: str) -> None:
    lines = (fixtures / "mner_mi_bad.jsonl").read_text().splitlines()
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join([lines[0], lines[line - 1]]) + "\n")  # the good line, then one bad one
    with pytest.raises(DataFormatError) as caught:
        read_posts(path, "mner_mi")
    assert str(caught.value).startswith(f"{path}:2: ")
    assert words in str(caught.value)
