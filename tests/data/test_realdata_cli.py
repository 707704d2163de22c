"""`mner data stats` and `validate` on every folder of ../shared/data (skipped when absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mner.cli.data import data_app

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
pytestmark = [pytest.mark.realdata, pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is absent")]
FOLDERS = ["captions", "cmner", "images", "knowledge", "twitter2015", "twitter2017", "twitter_gmner", "vinvl_samples"]
runner = CliRunner()


@pytest.mark.parametrize("folder", FOLDERS)
def test_stats_and_validate_work_on_every_folder(shared: Path, folder: str) -> None:
    stats = runner.invoke(data_app, ["stats", str(shared / folder), "--json"])
    assert stats.exit_code == 0, stats.output
    described = json.loads(stats.stdout)
    files = described.get("files", {})
    assert all("error" not in f for f in files.values()), files
    validated = runner.invoke(data_app, ["validate", str(shared / folder)])
    assert validated.exit_code == 0, validated.output  # warnings at most
    assert validated.stdout.splitlines()[-1].startswith(f"OK: {shared / folder}")


def test_stats_json_on_a_real_file(shared: Path) -> None:
    result = runner.invoke(data_app, ["stats", str(shared / "twitter2017" / "train.txt"), "--json"])
    stats = json.loads(result.stdout)
    assert (stats["posts"], stats["tokens"], stats["entities"]["PER"]) == (3373, 53007, 2943)


def test_validate_reports_twitter2015_stray_inside_tags_as_warnings(shared: Path) -> None:
    result = runner.invoke(data_app, ["validate", str(shared / "twitter2015" / "train.txt")])
    warnings = [line for line in result.stdout.splitlines() if ": warning: 'I-" in line]
    assert result.exit_code == 0 and len(warnings) == 186
    assert warnings[0].startswith(f"{shared / 'twitter2015' / 'train.txt'}:410: ")


def test_validate_images_of_real_posts(shared: Path, tmp_path: Path) -> None:
    posts = tmp_path / "posts.txt"
    posts.write_text("IMGID:113\nword\tO\n\nIMGID:106\nword\tO\n\nIMGID:not_there\nword\tO\n")
    result = runner.invoke(data_app, ["validate", str(posts), "--images", str(shared / "images")])
    assert result.exit_code == 1
    assert f"{posts}:1: warning: post '113': image" in result.stdout  # PNG under .jpg
    assert f"{posts}:7: post 'not_there': image" in result.stdout and "missing" in result.stdout
    assert ":4:" not in result.stdout


def test_convert_gmner_dev_to_jsonl_keeps_boxes(shared: Path, tmp_path: Path) -> None:
    out = tmp_path / "dev.jsonl"
    result = runner.invoke(data_app, ["convert", str(shared / "twitter_gmner" / "dev.txt"), str(out), "--to", "jsonl"])
    assert result.exit_code == 0, result.output
    stats = json.loads(runner.invoke(data_app, ["stats", str(out), "--json"]).stdout)
    assert (stats["posts"], stats["grounded_entities"]) == (1059, 714)
