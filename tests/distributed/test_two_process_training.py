"""Two real processes (gloo on this CPU) train what one process trains with the same global batch.

Slow-marked: each two-process run starts two Python processes that import torch and
transformers (about 3 s of CPU each) before training for a second.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from distributed_helpers import losses, run_mner, train_in_one_and_two_processes, weights, write_config
from mner.config import load_config


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_bert_no_dropout, posts_files):
    """One process and two processes, 3 epochs each, same config."""
    root = tmp_path_factory.mktemp("ddp")
    train_in_one_and_two_processes(root, tiny_bert_no_dropout, *posts_files, 3)
    return root


def test_two_processes_match_one_process_with_the_same_global_batch(runs):
    root = runs
    one, two = root / "single", root / "double"
    # metrics.csv rounds the loss to 5 decimals: the two curves agree to that rounding (and far
    # below the loss's own scale of ~1-10), however the 4-, 4- and 3-post batches were split
    assert losses(two) == pytest.approx(losses(one), abs=2e-5)
    assert len(losses(two)) == 3
    a, b = weights(one), weights(two)
    assert a.keys() == b.keys()
    # The only difference is the order of float additions (two partial gradients summed vs one
    # batch), about 1e-7 relative per step; Adam divides by sqrt(v), so an element whose gradient
    # is ~0 can amplify that, but never beyond one step's size (lr = 1e-2 at most). Over 9 steps
    # the weights may then differ by ~1e-5; 1e-4 is that with margin, and ~100x below what
    # training moved them (the next test). Observed: ~1.3e-6. A part weighted by 1/2 instead of
    # its share (2/3, 1/3 of the 3-post batch) moves the loss curve by ~0.04: it cannot pass.
    worst = max((a[k] - b[k]).abs().max().item() for k in a)
    assert worst < 1e-4, worst


def test_training_moved_the_weights_far_more_than_the_tolerance(runs):
    root = runs
    one = weights(root / "single")
    moved = max((one[k] - w).abs().max().item() for k, w in _initial_weights(root / "single").items())
    assert moved > 1e-2


def _initial_weights(run: Path) -> dict[str, torch.Tensor]:
    """The weights `train_run` starts from (same seed, same builder)."""
    from mner.builders import build_model
    from mner.data.loading import load_posts
    from mner.data.tags import bio_labels, entity_types
    from mner.training.run import seed_everything

    cfg = load_config(run / "config.yaml", [])
    seed_everything(int(cfg["train"]["seed"]))
    train = load_posts(cfg["data"]["train"], "jsonl")
    dev = load_posts(cfg["data"]["dev"], "jsonl")
    labels = bio_labels(sorted(entity_types([t for p in train + dev for t in (p.tags or [])])))
    return dict(build_model(cfg["model"], labels, train).state_dict())


def test_a_resumed_two_process_run_ends_where_an_uninterrupted_one_does(runs, tmp_path, tiny_bert_no_dropout,
                                                                        posts_files):
    root = runs
    train, dev = posts_files
    short = write_config(tmp_path / "short.yaml", tmp_path / "resumed", tiny_bert_no_dropout, train, dev, 2)
    # started by Accelerate's launcher (on CPUs its --multi_gpu mode is torchrun with gloo)
    run_mner("-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
             "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "mner", "train", str(short), "--quiet",
             module="")
    assert len(losses(tmp_path / "resumed")) == 2
    # train.epochs may change on resume (the constant schedule makes 2 + 1 epochs the same as 3)
    run_mner("train", str(short), "train.epochs=3", "--processes", "2", "--quiet", "--resume")
    straight, resumed = weights(root / "double"), weights(tmp_path / "resumed")
    for name in straight:  # same processes, same order of additions: equal up to float noise
        assert torch.allclose(straight[name], resumed[name], atol=1e-6), name
    assert losses(tmp_path / "resumed") == losses(root / "double")
    assert (tmp_path / "resumed" / "best" / "model.safetensors").exists()
    assert len((tmp_path / "resumed" / "metrics.csv").read_text().strip().splitlines()) == 1 + 3
