"""Helpers shared by the two-process tests: posts, a config file, `python -m mner` with this checkout's
code. A module of its own, imported by name: `from conftest import` collides when several test
folders are given to one pytest call."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import torch
import yaml
from safetensors.torch import load_file

from mner.data.post import Post
from posts_factory import make_posts

SRC = Path(__file__).resolve().parents[2] / "src"


def varied_posts(n: int, prefix: str) -> list[Post]:
    """`make_posts` with 0-2 extra words per post, so no two neighbours in a length-bucketed
    batch are the same post (identical posts would hide how a batch's parts are weighted)."""
    extra = ["with", "fans", "day"]
    return [Post(id=p.id, tokens=p.tokens + extra[: i % 3], tags=p.tags + ["O"] * (i % 3),
                 visual_text=p.visual_text) for i, p in enumerate(make_posts(n, prefix))]


def write_config(path: Path, output_dir: Path, encoder: Path, train: Path, dev: Path, epochs: int,
                 extra: tuple[str, ...] = ()) -> Path:
    from mner.config import load_config

    cfg = load_config(None, [f"output_dir={output_dir}", f"train.epochs={epochs}", "train.batch_size=4",
                             "train.patience=0", "train.lr.encoder=1e-3", "train.lr.head=1e-2",
                             "train.scheduler.name=constant", "train.scheduler.warmup=0", "model.dropout=0",
                             f"data.train={train}", f"data.dev={dev}", "data.format=jsonl", *extra])
    cfg["model"]["encoder"] = {"name": "encoder.hf.v1", "model": str(encoder)}
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def run_mner(*args: str, timeout: int = 300, module: str = "mner") -> subprocess.CompletedProcess:
    """`python -m mner ARGS` (`python ARGS` with `module=""`) with this checkout's code, offline."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    result = subprocess.run([sys.executable, *(["-m", module] if module else []), *args], env=env, capture_output=True, text=True,
                            timeout=timeout, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def train_in_one_and_two_processes(root: Path, encoder: Path, train: Path, dev: Path, epochs: int,
                                   extra: tuple[str, ...] = ()) -> None:
    """The same config (`extra` overrides added) trained in this process into ROOT/single and in two
    processes (`mner train --processes 2`) into ROOT/double."""
    from mner.config import load_config
    from mner.training.run import train_run

    single = write_config(root / "single.yaml", root / "single", encoder, train, dev, epochs, extra)
    train_run(load_config(single, []), progress_bar=False, log=lambda *_: None)
    double = write_config(root / "double.yaml", root / "double", encoder, train, dev, epochs, extra)
    run_mner("train", str(double), "--processes", "2", "--quiet")


def losses(run: Path) -> list[float]:
    with open(run / "metrics.csv", encoding="utf-8") as handle:
        return [float(r["train_loss"]) for r in csv.DictReader(handle)]


def weights(run: Path) -> dict[str, torch.Tensor]:
    return load_file(str(run / "checkpoint" / "model.safetensors"))
