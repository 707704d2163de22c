"""fp16 training: autocast + dynamic loss scaling learns, skips inf steps, clips true gradients,
and its loss scale survives a checkpoint; fp32/bf16 keep their scaler-free path."""

from __future__ import annotations

import csv
import json

import pytest
import torch

from mner.config import load_config
from mner.distributed.context import SingleProcess
from mner.precision import check_precision
from mner.training.loop import train_step
from mner.training.mixed_precision import SCALER_KEYS, TrainingPrecision
from mner.training.run import train_run
from posts_factory import make_posts


def _config(tmp_path, tiny_bert_dir, epochs, precision="fp16", extra=()):
    cfg = load_config(None, [f"output_dir={tmp_path / 'run'}", f"train.epochs={epochs}", "train.batch_size=4",
                             "train.lr.encoder=3e-3", "train.lr.head=3e-2", "train.patience=0",
                             "train.scheduler.name=constant", "train.scheduler.warmup=0.0", "model.dropout=0.0",
                             f"train.precision={precision}", *extra])
    cfg["model"]["encoder"] = {"name": "encoder.hf.v1", "model": str(tiny_bert_dir)}
    return cfg


def _losses(run) -> list[float]:
    with open(run / "metrics.csv", encoding="utf-8") as handle:
        return [float(r["train_loss"]) for r in csv.DictReader(handle)]


def _progress(run) -> dict:
    return json.loads((run / "checkpoint" / "trainer_state.json").read_text())["progress"]


def test_fp16_training_learns_and_checkpoints_its_loss_scale(tmp_path, tiny_bert_dir):
    posts, lines = make_posts(8), []
    train_run(_config(tmp_path, tiny_bert_dir, 6), train_posts=posts, dev_posts=posts, progress_bar=False,
              log=lines.append)
    losses = _losses(tmp_path / "run")
    assert all(v == v and v < 1e4 for v in losses)  # finite
    assert losses[-1] < 0.5 * losses[0], losses
    scaler = _progress(tmp_path / "run")["grad_scaler"]
    assert set(scaler) == set(SCALER_KEYS)
    assert scaler["scale"] > 0 and scaler["_growth_tracker"] >= 0
    assert any("fp16 loss scale" in line for line in lines)
    weights = (tmp_path / "run" / "best" / "model.safetensors")
    from safetensors.torch import load_file
    assert {t.dtype for t in load_file(str(weights)).values()} == {torch.float32}  # saved model is plain fp32


def test_a_resumed_fp16_run_continues_with_the_saved_loss_scale(tmp_path, tiny_bert_dir):
    posts = make_posts(8)  # 2 steps per epoch
    train_run(_config(tmp_path, tiny_bert_dir, 1), train_posts=posts, dev_posts=posts, progress_bar=False,
              log=lambda *_: None)
    state_file = tmp_path / "run" / "checkpoint" / "trainer_state.json"
    state = json.loads(state_file.read_text())
    # a scale and a streak the run could not reach by itself in 2 steps (it starts at 65536, tracker 2)
    state["progress"]["grad_scaler"].update(scale=1024.0, _growth_tracker=5)
    state_file.write_text(json.dumps(state))
    train_run(_config(tmp_path, tiny_bert_dir, 2), resume=True, train_posts=posts, dev_posts=posts,
              progress_bar=False, log=lambda *_: None)
    scaler = _progress(tmp_path / "run")["grad_scaler"]
    # continued from the saved numbers: no overflow at 1024, so the scale stays and the streak grows by 2
    assert scaler["scale"] == 1024.0 and scaler["_growth_tracker"] == 7, scaler


def test_a_malformed_loss_scale_is_a_clear_error():
    mixed = TrainingPrecision("fp16")
    with pytest.raises(ValueError, match="trainer_state.json: grad_scaler must hold the numbers scale"):
        mixed.load_state_dict({"scale": "big"}, "run/checkpoint/trainer_state.json")
    state = {"scale": 256.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 100, "_growth_tracker": 3}
    mixed.load_state_dict(json.loads(json.dumps(state)))
    assert mixed.state_dict() == state and mixed.loss_scale() == 256.0
    assert TrainingPrecision("fp16", init_scale=1024).loss_scale() == 1024.0
    with pytest.raises(ValueError, match="train.loss_scale must be a number above 0"):
        TrainingPrecision("fp16", init_scale=0)
    with pytest.raises(ValueError, match="train.loss_scale must be a number above 0, not 'big'"):
        TrainingPrecision("fp16", init_scale="big")


def _linear_step(mixed: TrainingPrecision, clip: float, inject_inf: bool = False):
    torch.manual_seed(0)
    model = torch.nn.Linear(16, 4)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    x, y = torch.randn(8, 16), torch.randn(8, 4)

    def objective(m, _posts):
        return ((m(x).float() - y) ** 2).mean()

    if inject_inf:  # the first backward yields an inf gradient, as an fp16 overflow would
        handle = model.weight.register_hook(lambda g: g * float("inf"))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    loss, applied = train_step(model, optimizer, ["post"], 1.0, objective, mixed, SingleProcess(), clip)
    if inject_inf:
        handle.remove()
    return model, optimizer, before, loss, applied, objective


def test_a_step_with_an_inf_gradient_is_skipped_and_the_scale_halves():
    mixed = TrainingPrecision("fp16")
    start = mixed.loss_scale()
    model, optimizer, before, loss, applied, objective = _linear_step(mixed, clip=1.0, inject_inf=True)
    assert loss == loss and loss < float("inf")  # the loss itself was finite: training goes on
    assert not applied and mixed.skipped_steps == 1
    assert mixed.loss_scale() == start / 2
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # weights untouched
    assert not optimizer.state  # AdamW's moments and step count untouched
    _, applied = train_step(model, optimizer, ["post"], 1.0, objective, mixed, SingleProcess(), 1.0)
    assert applied and mixed.loss_scale() == start / 2 and mixed.skipped_steps == 1
    assert not torch.equal(before["weight"], model.weight.detach())


def _fp32_gradients(clip: float) -> list[torch.Tensor]:
    model, *_ = _linear_step(TrainingPrecision("fp32"), clip)
    return [p.grad for p in model.parameters()]


def test_clipping_sees_the_unscaled_gradients():
    # no clipping: the gradients AdamW saw are the fp32 ones up to fp16 rounding, not 65536 times them
    model, *_ = _linear_step(TrainingPrecision("fp16"), clip=0.0)
    for fp16_grad, fp32_grad in zip([p.grad for p in model.parameters()], _fp32_gradients(0.0)):
        torch.testing.assert_close(fp16_grad, fp32_grad, rtol=2e-2, atol=1e-3)
    # clipping to 0.1: the applied gradient's norm is 0.1 (clipped after unscaling, not 0.1 / 65536)
    model, *_ = _linear_step(TrainingPrecision("fp16"), clip=0.1)
    norm = torch.linalg.vector_norm(torch.cat([p.grad.reshape(-1) for p in model.parameters()]))
    assert norm.item() == pytest.approx(0.1, rel=1e-3)


def test_fp32_and_bf16_run_without_a_scaler_and_save_none(tmp_path, tiny_bert_dir):
    for precision in ("fp32", "bf16"):
        mixed = TrainingPrecision(precision)
        assert mixed.scaler is None and mixed.state_dict() is None and mixed.loss_scale() is None
    posts = make_posts(4)
    train_run(_config(tmp_path, tiny_bert_dir, 1, "fp32"), train_posts=posts, dev_posts=posts, progress_bar=False,
              log=lambda *_: None)
    assert "grad_scaler" not in _progress(tmp_path / "run")


def test_an_unknown_training_precision_is_refused_before_any_data_is_read(tmp_path, tiny_bert_dir):
    cfg = _config(tmp_path, tiny_bert_dir, 1, "fp8", extra=[f"data.train={tmp_path / 'absent.jsonl'}"])
    with pytest.raises(ValueError, match="train.precision: unknown precision 'fp8'.*fp32, bf16, fp16"):
        train_run(cfg, progress_bar=False, log=lambda *_: None)
    # inference precisions are a separate list: a model is not run in fp16 (no scaler to protect it)
    with pytest.raises(ValueError, match="unknown precision 'fp16'"):
        check_precision("fp16")


def test_accelerate_launch_mixed_precision_fp16_trains_in_fp16(tmp_path, tiny_bert_dir, monkeypatch):
    monkeypatch.setenv("ACCELERATE_MIXED_PRECISION", "fp16")
    posts = make_posts(4)
    train_run(_config(tmp_path, tiny_bert_dir, 1, "fp32"), train_posts=posts, dev_posts=posts, progress_bar=False,
              log=lambda *_: None)
    assert "grad_scaler" in _progress(tmp_path / "run")
    assert "precision: fp16" in (tmp_path / "run" / "config.yaml").read_text()
