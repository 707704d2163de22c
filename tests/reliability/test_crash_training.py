"""A real training process killed with SIGKILL, then resumed (docs/reliability.md, 'Checkpoints and resume').

One chain of runs: a fresh `mner train` killed mid-epoch, each `--resume` of it killed
at the next named crash point (mid-checkpoint swap, checkpoint written but not swapped
in, metrics row written but no checkpoint) and two at random times, and a last resume
that finishes. After every kill the run folder must be usable; at the end the weights
must equal, bit for bit, those of a run that was never interrupted.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from crash_runs import KILLED, kill_at_random_time, run_mner
from mner.checkpoint import from_pretrained, recover_directory
from mner.data.readers import write_posts
from posts_factory import make_posts

pytestmark = pytest.mark.slow  # 8 child processes of a tiny model (imports dominate)

# Kill points of the chain, in order; "random" is a kill from outside at a random moment.
CHAIN = ["train.step:6", "best.swap:1", "checkpoint.swap:1", "checkpoint.written:1", "metrics.written:1", "random"]
EPOCHS = 4


def write_config(folder: Path, tiny_bert_dir: Path, name: str) -> Path:
    posts = make_posts(8)
    write_posts(posts, folder / "train.jsonl")
    write_posts(posts[:4], folder / "dev.jsonl")
    config = {
        "data": {"format": "jsonl", "train": str(folder / "train.jsonl"), "dev": str(folder / "dev.jsonl")},
        "model": {"encoder": {"name": "encoder.hf.v1", "model": str(tiny_bert_dir)}, "dropout": 0.1},
        "train": {"epochs": EPOCHS, "batch_size": 2, "lr": {"encoder": 3e-3, "head": 3e-2}, "patience": 0,
                  "threads": 1, "seed": 3, "scheduler": {"name": "linear", "warmup": 0.1}},
        "output_dir": str(folder / name),
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def assert_usable(run: Path) -> None:
    """What a user may do with a killed run folder: load its best model, resume its checkpoint."""
    recover_directory(run / "best")
    recover_directory(run / "checkpoint")
    if (run / "best").exists():
        from_pretrained(run / "best")
    if (run / "checkpoint").exists():
        load_file(str(run / "checkpoint" / "model.safetensors"))
        load_file(str(run / "checkpoint" / "trainer.safetensors"))
        json.loads((run / "checkpoint" / "trainer_state.json").read_text())
    if (run / "metrics.csv").exists():
        list(csv.DictReader((run / "metrics.csv").open()))


def test_killed_and_resumed_training_reaches_the_uninterrupted_weights(tmp_path: Path, tiny_bert_dir: Path) -> None:
    reference = run_mner(["train", str(write_config(tmp_path, tiny_bert_dir, "straight")), "--quiet"])
    assert reference.returncode == 0, reference.stderr[-2000:]
    config = write_config(tmp_path, tiny_bert_dir, "killed")
    run = tmp_path / "killed"
    rng = random.Random(18)
    outcomes = []
    for i, point in enumerate(CHAIN):
        args = ["train", str(config), "--quiet", *(["--resume"] if i else [])]
        if point == "random":
            code = kill_at_random_time(args, run / "config.yaml", rng, within=3.0)
        else:
            result = run_mner(args, crash_at=point)
            code = result.returncode
            assert code == KILLED, (point, result.stderr[-2000:])  # every named point is reached
        outcomes.append((point, code))
        assert_usable(run)
        if code == 0:
            break  # finished before the kill: nothing left to resume
    final = run_mner(["train", str(config), "--quiet", "--resume"])
    assert final.returncode == 0, final.stderr[-2000:]

    for part in ("checkpoint", "best"):
        a = load_file(str(tmp_path / "straight" / part / "model.safetensors"))
        b = load_file(str(run / part / "model.safetensors"))
        assert a.keys() == b.keys()
        for name in a:
            assert torch.equal(a[name], b[name]), f"{part}/{name} differs after resuming"
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert [int(r["epoch"]) for r in rows] == list(range(1, EPOCHS + 1))  # none lost, none twice
    straight = list(csv.DictReader((tmp_path / "straight" / "metrics.csv").open()))
    assert [r["f1"] for r in rows] == [r["f1"] for r in straight]
    assert not list(run.glob(".*.tmp-*")) and not list(run.glob(".*.old"))
    print("crash chain outcomes:", outcomes)  # reported in BENCHMARKS.md via -s
