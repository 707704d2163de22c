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
from mner.precision import check_precision, precision_context
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


def train_epochs(model: Any, optimizer: torch.optim.Optimizer, schedule: LrSchedule, train: list[Post],
                 dev: list[Post], cfg: dict[str, Any], start_epoch: int = 0, best_f1: float = -1.0,
                 progress_bar: bool = True, objective: Any = None,
                 context: ProcessContext | None = None) -> Iterator[Evaluation]:
    """Train from `start_epoch` to `cfg['epochs']`, evaluating on `dev` after each epoch.

    `objective(model, posts) -> loss` is what each step minimises (`mner.training.objectives`;
    default: the head's loss on the gold tags). `context` (`mner.distributed`): the processes
    that share each global batch; by default this one alone.
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
    precision = check_precision(str(cfg.get("precision") or "fp32"))
    device = next(model.parameters()).device
    all_o_evals = 0
    for epoch in range(start_epoch, int(cfg["epochs"])):
        model.train()
        started = time.perf_counter()
        batches = epoch_batches(lengths, cfg["batch_size"], int(cfg["seed"]), epoch, bool(bucket))
        total_loss, bar = 0.0, tqdm(batches, desc=f"epoch {epoch + 1}", disable=not (progress_bar and context.is_main),
                                leave=False)
        for ids in bar:
            scale = schedule.apply(optimizer, step)
            posts = drop_inputs([train[i] for i in ids], dropout_share, int(cfg["seed"]), epoch, step)
            posts, share = shard_batch(posts, context)  # this process's part of the global batch
            optimizer.zero_grad(set_to_none=True)
            loss = None
            if posts:
                with precision_context(precision, device):  # forward + loss only; backward follows autocast's casts
                    loss = objective(model, posts) * share
                loss.backward()
            step_loss = context.sync_gradients(model, loss)  # the global batch's loss (and gradient)
            if not math.isfinite(step_loss):
                raise TrainingError(f"loss became {step_loss} at epoch {epoch + 1}, step {step}: lower the "
                                    "learning rates (train.lr.*) or keep train.grad_clip > 0")
            if clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
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
        yield Evaluation(epoch + 1, step, total_loss / max(1, len(batches)), scores, scale, train_seconds, is_best)
