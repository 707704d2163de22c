"""The decoder and the CNN through `mner experiment`; the shipped thesis grid resolves to known components."""

from __future__ import annotations

from pathlib import Path

import yaml
from PIL import Image
from typer.testing import CliRunner

from mner.builders import ENCODERS
from mner.builders_visual import VISUALS
from mner.cli.main import app
from mner.config import load_config
from mner.data.post import Post
from mner.data.readers import write_posts
from mner.experiments import load_grid
from mner.modules.fusion import FUSIONS

GRID = Path(__file__).resolve().parents[2] / "configs" / "experiments" / "thesis_grid.yaml"


def test_a_decoder_x_cnn_grid_trains_and_tabulates(tmp_path, tiny_llama_dir):
    Image.new("RGB", (30, 20), (200, 40, 40)).save(tmp_path / "im.jpg", "JPEG")
    rows = [(["Alice", "wins"], ["B-PER", "O"]), (["in", "Paris"], ["O", "B-LOC"]), (["Google", "fans"], ["B-ORG", "O"]),
            (["bob", "smith"], ["B-PER", "I-PER"])]
    posts = [Post(str(i), words, tags, images=["im.jpg"] if i % 2 else []) for i, (words, tags) in enumerate(rows)]
    write_posts(posts, tmp_path / "train.jsonl")
    base = {"data": {"format": "jsonl", "train": str(tmp_path / "train.jsonl"), "dev": str(tmp_path / "train.jsonl"),
                     "images": str(tmp_path)},
            "model": {"encoder": {"name": "encoder.hf_decoder.v1", "model": str(tiny_llama_dir), "lora": {"r": 2}},
                      "word_shape_dim": 0},
            "train": {"epochs": 1, "batch_size": 4, "patience": 0}}
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(base))
    cnn = "model.visual={name: visual.cnn.v1, widths: [4], image_size: 8, output_dim: 8}"
    grid = {"base": "base.yaml", "output_dir": str(tmp_path / "grid"), "seeds": [1],
            "variants": {"lora": [], "lora+cnn+cross": [cnn, "model.fusion={name: fusion.cross_attention.v1, "
                                                            "hidden: 8, num_heads: 2}"]}}
    (tmp_path / "grid.yaml").write_text(yaml.safe_dump(grid))
    result = CliRunner().invoke(app, ["experiment", str(tmp_path / "grid.yaml")])
    assert result.exit_code == 0, result.output
    table = (tmp_path / "grid" / "results.md").read_text()
    assert "| lora |" in table and "| lora+cnn+cross |" in table
    saved = tmp_path / "grid" / "lora+cnn+cross" / "seed-1" / "best"
    assert (saved / "decoder" / "decoder.json").exists()


def test_the_thesis_grid_names_only_known_components():
    grid = load_grid(GRID)
    cells = set()
    for name, overrides in grid["variants"].items():
        model = load_config(grid["base"], list(grid.get("overrides") or []) + list(overrides))["model"]
        assert model["encoder"]["name"] in ENCODERS, name
        visual, fusion = model.get("visual"), model.get("fusion")
        assert (visual is None) == (fusion is None), name
        if visual:
            assert visual["name"] in VISUALS and fusion["name"] in FUSIONS, name
        cells.add((model["encoder"]["name"], visual and visual["name"], fusion and fusion["name"]))
    assert len(cells) == len(grid["variants"]) == 3 + 3 * 2 * 3  # text alone, and text x image x fusion
