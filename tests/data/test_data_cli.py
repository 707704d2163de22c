"""`mner data` commands through Typer's CliRunner, on fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.error import URLError

import pytest
from typer.testing import CliRunner

from mner.cli.data import data_app
from mner.data import download as download_module
from mner.data.readers import read_posts

runner = CliRunner()


def run(*args: str):  # noqa: ANN201
    return runner.invoke(data_app, [str(a) for a in args])


def test_stats_json_is_one_object(fixtures: Path) -> None:
    result = run("stats", fixtures / "twitter.txt", "--json")
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    assert (stats["posts"], stats["tokens"], stats["entities"]) == (3, 17, {"LOC": 1, "MISC": 2, "ORG": 2, "PER": 1})
    assert stats["format"] == "twitter"


def test_stats_table_with_images(fixtures: Path, tmp_path: Path) -> None:
    (tmp_path / "1002.jpg").write_bytes(b"x")
    result = run("stats", fixtures / "twitter.txt", "--images", tmp_path)
    assert result.exit_code == 0
    lines = [line.split() for line in result.stdout.splitlines()]
    assert ["found", "1"] in lines and ["missing", "2"] in lines


def test_stats_on_a_malformed_file_is_a_clean_error(fixtures: Path) -> None:
    result = run("stats", fixtures / "twitter_missing_tab.txt")
    assert result.exit_code == 1
    assert f"error: {fixtures / 'twitter_missing_tab.txt'}:3: missing tab" in result.output
    assert "Traceback" not in result.output


def test_validate_prints_every_problem_and_exits_1(fixtures: Path) -> None:
    path = fixtures / "twitter_many_problems.txt"
    result = run("validate", path)
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if line.startswith(str(path))]
    assert [line.split(":")[1] for line in lines] == ["4", "9", "12", "14", "16"]


def test_validate_ok_and_warnings(fixtures: Path) -> None:
    clean = run("validate", fixtures / "twitter.txt")
    assert (clean.exit_code, clean.stdout.strip()) == (0, f"OK: {fixtures / 'twitter.txt'}")
    warned = run("validate", fixtures / "twitter_stray_i.txt")
    assert warned.exit_code == 0 and "warning:" in warned.stdout and "(1 warning(s))" in warned.stdout
    assert run("validate", fixtures / "twitter_stray_i.txt", "--strict").exit_code == 1


def test_validate_with_images(fixtures: Path, images_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "posts.txt"
    path.write_text("IMGID:truncated\nword\tO\n")
    result = run("validate", path, "--images", images_dir)
    assert result.exit_code == 1 and f"{path}:1: post 'truncated': image" in result.stdout


@pytest.mark.parametrize("to", ["jsonl", "twitter"])
def test_convert_round_trip(fixtures: Path, tmp_path: Path, to: str) -> None:
    out = tmp_path / f"out.{to}"
    result = run("convert", fixtures / "twitter.txt", out, "--to", to)
    assert result.exit_code == 0 and "wrote 3 posts" in result.stdout
    assert [p.to_dict() for p in read_posts(out, to)] == [p.to_dict() for p in read_posts(fixtures / "twitter.txt")]


def test_convert_to_twitter_says_what_is_lost(fixtures: Path, tmp_path: Path) -> None:
    result = run("convert", fixtures / "gmner" / "dev.txt", tmp_path / "out.txt", "--to", "twitter")
    assert result.exit_code == 0 and "no place for boxes" in result.output


def test_convert_refuses_unknown_target_and_same_file(fixtures: Path, tmp_path: Path) -> None:
    assert run("convert", fixtures / "twitter.txt", tmp_path / "x", "--to", "cmner").exit_code == 1
    assert run("convert", fixtures / "twitter.txt", fixtures / "twitter.txt").exit_code == 1


def test_download_offline_exits_1_with_the_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(request, timeout: float):  # noqa: ANN001, ANN202
        raise URLError("offline")

    monkeypatch.setattr(download_module, "urlopen", unreachable)
    result = run("download", "twitter2015", "--to", tmp_path)
    assert result.exit_code == 1
    assert "could not download twitter2015" in result.output and "--images" in result.output
    assert "Traceback" not in result.output
