"""`mner bench-pixels`: the pixel path's cost split, run on generated images (bad ones included)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mner.bench.pixel_cost import ARCHITECTURES, measure_pixel_cost, write_architecture
from mner.cli.main import app

STAGES = ("decode", "preprocess", "backbone_b1", "backbone_batch", "cold", "warm")


def test_cost_split_covers_every_stage_and_warm_passes_read_the_cache(images, tiny_vit_dir):
    cost = measure_pixel_cost(images, model=str(tiny_vit_dir), batch_size=2)
    # red, green, blue and the PNG named .jpg decode; the truncated file is counted as bad
    assert cost.images == 4 and cost.bad_images == 1
    assert set(cost.ms_per_image) == set(STAGES) and all(v > 0 for v in cost.ms_per_image.values())
    assert cost.cache_hits_per_warm_pass == 4  # later epochs read every good image from the feature cache
    assert cost.parameters > 0 and cost.tokens == "pooled"


def test_cli_writes_table_and_json(images, tiny_resnet_dir, tmp_path):
    result = CliRunner().invoke(app, ["bench-pixels", str(images), "--model", str(tiny_resnet_dir), "--tokens",
                                      "patches", "--output", str(tmp_path / "out"), "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert "first epoch ms/img" in result.output
    rows = json.loads((tmp_path / "out" / "pixels.json").read_text())
    assert rows[0]["tokens"] == "patches" and rows[0]["images"] == 4
    assert (tmp_path / "out" / "pixels.md").read_text().startswith("| model |")


def test_bad_folders_and_names_fail_clearly(tmp_path):
    missing = CliRunner().invoke(app, ["bench-pixels", str(tmp_path / "nope"), "--arch", "vit-s16"])
    assert missing.exit_code == 1 and "no such image folder" in missing.output
    (tmp_path / "empty").mkdir()
    empty = CliRunner().invoke(app, ["bench-pixels", str(tmp_path / "empty"), "--arch", "vit-s16"])
    assert empty.exit_code == 1 and "no image files" in empty.output
    with pytest.raises(ValueError, match="unknown architecture"):
        write_architecture("vgg-16", tmp_path / "x")
    assert set(ARCHITECTURES) == {"vit-s16", "resnet-50", "clip-b32"}
