"""`mner experiment`: variants x seeds -> a mean ± std table; finished runs are reused."""

import yaml
from typer.testing import CliRunner

from mner.cli.main import app
from mner.data.readers import write_posts
from posts_factory import make_posts


def test_grid_trains_each_variant_and_seed_and_reuses_finished_runs(tmp_path, tiny_bert_dir, monkeypatch):
    write_posts(make_posts(4), tmp_path / "train.jsonl")
    base = {"data": {"format": "jsonl", "train": str(tmp_path / "train.jsonl"), "dev": str(tmp_path / "train.jsonl")},
            "model": {"encoder": {"name": "encoder.hf.v1", "model": str(tiny_bert_dir)}},
            "train": {"epochs": 1, "batch_size": 4, "patience": 0}}
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(base))
    grid = {"base": "base.yaml", "output_dir": str(tmp_path / "grid"), "seeds": [1, 2],
            "variants": {"crf": [], "softmax": ["model.head.name=head.softmax.v1"],
                         "context": ["model.second_segment=caption"]}}
    (tmp_path / "grid.yaml").write_text(yaml.safe_dump(grid))
    result = CliRunner().invoke(app, ["experiment", str(tmp_path / "grid.yaml")])
    assert result.exit_code == 0, result.output
    table = (tmp_path / "grid" / "results.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| crf") or line.startswith("| softmax")
            or line.startswith("| context")]
    assert len(rows) == 3 and all("±" in r and "| 2 |" in r for r in rows)
    assert (tmp_path / "grid" / "softmax" / "seed-2" / "best" / "model.safetensors").exists()

    import mner.training.run as run_module

    def no_training(*args, **kwargs):
        raise AssertionError("finished runs must be reused")

    monkeypatch.setattr(run_module, "train_run", no_training)
    again = CliRunner().invoke(app, ["experiment", str(tmp_path / "grid.yaml")])
    assert again.exit_code == 0, again.output
