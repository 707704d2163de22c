"""The training loop: yields one `Evaluation` per epoch; the caller logs and saves.

Kept free of file I/O (spaCy's habit): `mner.training.run` decides what to
write, so tests can drive the loop directly.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch

from mner.crash_points import crash_point
from mner.data.post import Post
from mner.distributed.context import ProcessContext, SingleProcess
from mner.distributed.sharding import evaluate_sharded, shard_batch
from mner.evaluation import encoder_lengths
from mner.training.mixed_precision import TrainingPrecision
from mner.training.modality_dropout import drop_inputs
from mner.training.objectives import TaggingObjective
from mner.training.order import epoch_batches
from mner.training.schedule import LrSchedule


class TrainingError(RuntimeError):
    """Training cannot go on usefully (NaN loss, a model that only predicts O)."""


@dataclass
class Evaluation:
    epoch: int
    step: int
    train_loss: float
    scores: dict[str, Any]
    lr_scale: float
    seconds: float
    is_best: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def bucket_lengths(model: Any, posts: list[Post], bucket: bool | str) -> list[int]:
    """The length that `train.bucket_by_length` buckets by: word count (`true`, the original
    setting, kept so finished runs keep their meaning) or the encoder row width (`"subwords"`:
    on Twitter-2017, batch-16 buckets then pad 2% of the subword slots instead of 22%)."""
    if bucket == "subwords":
        return encoder_lengths(model, posts)
    if bucket not in (True, False, "words"):
        raise ValueError(f"train.bucket_by_length must be true, false, \"words\" or \"subwords\", not {bucket!r}")
    return [len(p.tokens) for p in posts]


def train_step(model: Any, optimizer: torch.optim.Optimizer, posts: list[Post], share: float, objective: Any,
               mixed_precision: TrainingPrecision, context: ProcessContext, clip: float) -> tuple[float, bool]:
    """One global batch: this process's `posts` (weighted by their `share` of it) forward under
    autocast, backward, gradients summed over the processes, unscaled (fp16), clipped, applied.

    Returns the global batch's loss and whether the optimizer stepped (False: fp16 found an
    inf/NaN gradient and skipped it, or the loss is not finite and nothing was applied, which
    the caller must stop on).
    """
    optimizer.zero_grad(set_to_none=True)
    loss = None
    if posts:
        with mixed_precision.autocast():  # forward + loss only; backward follows autocast's casts
            loss = objective(model, posts) * share
        mixed_precision.backward(loss)
    step_loss = context.sync_gradients(model, loss)  # the global batch's loss (and gradient)
    if not math.isfinite(step_loss):
        return step_loss, False
    mixed_precision.unscale(optimizer)  # fp16: clip the true gradients, not the scaled ones
    if clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    return step_loss, mixed_precision.step(optimizer)


def train_epochs(model: Any, optimizer: torch.optim.Optimizer, schedule: LrSchedule, train: list[Post],
                 dev: list[Post], cfg: dict[str, Any], start_epoch: int = 0, best_f1: float = -1.0,
                 progress_bar: bool = True, objective: Any = None,
                 context: ProcessContext | None = None,
                 mixed_precision: TrainingPrecision | None = None) -> Iterator[Evaluation]:
    """Train from `start_epoch` to `cfg['epochs']`, evaluating on `dev` after each epoch.

    `objective(model, posts) -> loss` is what each step minimises (`mner.training.objectives`;
    default: the head's loss on the gold tags). `context` (`mner.distributed`): the processes
    that share each global batch; by default this one alone. `mixed_precision`: the autocast and
    (fp16) loss scaler, whose state the caller checkpoints; by default built from `cfg['precision']`.
    """
    from tqdm.auto import tqdm

    objective = objective or TaggingObjective()
    context = context or SingleProcess()
    dropout_share = float(cfg.get("modality_dropout") or 0.0)

    bucket = cfg.get("bucket_by_length", True)
    lengths = bucket_lengths(model, train, bucket)
    steps_per_epoch = math.ceil(len(train) / cfg["batch_size"])
    step = start_epoch * steps_per_epoch
    clip = float(cfg.get("grad_clip") or 0.0)
    device = next(model.parameters()).device
    mixed_precision = mixed_precision or TrainingPrecision(str(cfg.get("precision") or "fp32"), device,
                                                           cfg.get("loss_scale"))
    precision = mixed_precision.precision
    all_o_evals = 0
    for epoch in range(start_epoch, int(cfg["epochs"])):
        model.train()
        started = time.perf_counter()
        batches = epoch_batches(lengths, cfg["batch_size"], int(cfg["seed"]), epoch, bool(bucket))
        total_loss, bar = 0.0, tqdm(batches, desc=f"epoch {epoch + 1}", disable=not (progress_bar and context.is_main),
                                leave=False)
        for ids in bar:
            scale = schedule.apply(optimizer, step)  # by batch index, applied or skipped (mixed_precision.py)
            posts = drop_inputs([train[i] for i in ids], dropout_share, int(cfg["seed"]), epoch, step)
            posts, share = shard_batch(posts, context)  # this process's part of the global batch
            step_loss, _ = train_step(model, optimizer, posts, share, objective, mixed_precision, context, clip)
            if not math.isfinite(step_loss):
                overflow = " (fp16 overflows above 65504: train in bf16 or fp32)" if precision == "fp16" else ""
                raise TrainingError(f"loss became {step_loss} at epoch {epoch + 1}, step {step}{overflow}: lower "
                                    "the learning rates (train.lr.*) or keep train.grad_clip > 0")
            total_loss += step_loss
            step += 1
            crash_point("train.step")
            bar.set_postfix(loss=f"{step_loss:.3f}", best_f1=f"{max(best_f1, 0):.2f}")
        train_seconds = time.perf_counter() - started
        # dev is scored in fp32 whatever the training precision: the figure a user loading the model gets
        scores = evaluate_sharded(model, dev, cfg.get("eval_batch_size", 64), context)
        schedule.on_evaluation(scores["f1"])
        if scores["n_pred"] == 0 and scores["n_gold"] > 0:
            all_o_evals += 1
            if all_o_evals >= int(cfg.get("all_o_patience", 3)):
                raise TrainingError(f"the model has predicted only O on dev for {all_o_evals} evaluations: "
                                    "the learning rate is likely too high (or far too low), or the tags are all O")
        else:
            all_o_evals = 0
        is_best = scores["f1"] > best_f1
        best_f1 = max(best_f1, scores["f1"])
        scaler = ({"loss_scale": mixed_precision.loss_scale(), "skipped_steps": mixed_precision.skipped_steps}
                  if mixed_precision.scaler is not None else {})
        yield Evaluation(epoch + 1, step, total_loss / max(1, len(batches)), scores, scale, train_seconds, is_best,
                         scaler)
