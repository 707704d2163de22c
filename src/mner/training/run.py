"""`mner train`: config -> data -> model -> loop, with a run folder that survives interruption.

RUN_DIR/
  config.yaml      the resolved config (what was actually run)
  metrics.csv      one row per evaluation (epoch, loss, dev P/R/F1, lr scale, seconds)
  best/            the best model so far (an mner model directory, see checkpoint.py)
  checkpoint/      the last epoch's weights + optimiser + progress, for --resume
  summary.json     best dev scores, epochs run, training time
"""

from __future__ import annotations

import csv
import dataclasses
import json
import random
from pathlib import Path
from typing import Any

import torch
import yaml

from mner.builders import build_model
from mner.checkpoint import atomic_write_text, recover_directory, save_pretrained
from mner.config import config_differences
from mner.crash_points import crash_point
from mner.data.extra_train import load_extra_train
from mner.data.post import Post
from mner.data.tags import bio_labels, entity_types, repair_bio
from mner.distributed.context import ProcessContext, launcher_precision, process_context
from mner.training.init_from import initialise_from
from mner.training.loop import Evaluation, train_epochs
from mner.training.mixed_precision import TrainingPrecision
from mner.training.objectives import build_objective
from mner.training.optim import build_optimizer
from mner.training.schedule import LrSchedule
from mner.training.state import cuda_rng_state, load_training_checkpoint, save_training_checkpoint

CSV_FIELDS = ["epoch", "step", "train_loss", "precision", "recall", "f1", "token_macro_f1", "lr_scale",
              "train_seconds", "is_best"]


def load_split(data_cfg: dict[str, Any], split: str) -> list[Post]:
    from mner.data.loading import load_posts

    path = data_cfg.get(split)
    if not path:
        raise ValueError(f"data.{split} is not set: give a file in the config or as data.{split}=PATH")
    regions = data_cfg.get("regions") or {}  # VinVL npz files, one per image: {dir: ..., top_k: 16}
    return load_posts(path, data_cfg.get("format"), images_dir=data_cfg.get("images"),
                      type_map=data_cfg.get("type_map"),
                      visual_text={name: (files or {}).get(split) for name, files in
                                   (data_cfg.get("visual_text") or {}).items()},
                      regions_dir=regions.get("dir"), regions_top_k=regions.get("top_k"))


def well_formed_targets(posts: list[Post]) -> list[Post]:
    """Training targets in well-formed BIO: a stray `I-X` becomes `B-X` (the 'begin' reading).

    Why: the CRF forbids `O -> I-X`, so an ill-formed gold path (Twitter-2015 has 239)
    would cost ~10^4 in the loss and swamp every batch it is in. The entities are the
    same ones the evaluator reads from the original tags.
    """
    fixed = []
    for post in posts:
        if post.tags is not None:
            repaired = repair_bio(post.tags)
            if repaired != post.tags:
                post = dataclasses.replace(post, tags=repaired)
        fixed.append(post)
    return fixed


def seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def _csv_row(ev: Evaluation) -> dict[str, Any]:
    s = ev.scores
    return {"epoch": ev.epoch, "step": ev.step, "train_loss": round(ev.train_loss, 5),
            "precision": round(s["precision"], 3), "recall": round(s["recall"], 3), "f1": round(s["f1"], 3),
            "token_macro_f1": round(s["token_macro_f1"], 3), "lr_scale": round(ev.lr_scale, 5),
            "train_seconds": round(ev.seconds, 1), "is_best": int(ev.is_best)}


# what a resumed run may change: train for longer, or stop differently
RESUMABLE_CHANGES = ("train.epochs", "train.patience")


def checkpoint_config_changes(run_dir: Path, config: dict[str, Any]) -> list[str]:
    """Keys in which `config` differs from the one the run folder's checkpoint was trained
    with (none when there is no checkpoint or no saved config)."""
    saved = run_dir / "config.yaml"
    if not (run_dir / "checkpoint").exists() or not saved.exists():
        return []
    return config_differences(yaml.safe_load(saved.read_text(encoding="utf-8")) or {}, config)


def train_run(config: dict[str, Any], resume: bool = False, progress_bar: bool = True,
              log: Any = print, train_posts: list[Post] | None = None, dev_posts: list[Post] | None = None,
              context: ProcessContext | None = None) -> dict[str, Any]:
    """Train per `config`; return the summary (best dev scores, timing).

    Under a launcher (`mner.distributed`) every process runs this; only the main one logs and
    writes, all of them read the same data, start from the same weights and stop together.
    A process group this call set up is closed when it returns (a caller's `context` is left open).
    """
    opened = context is None
    context = context or process_context(config["train"].get("device"))
    try:
        return _train_in_context(config, resume, progress_bar, log, train_posts, dev_posts, context)
    finally:
        if opened:
            context.close()


def _train_in_context(config: dict[str, Any], resume: bool, progress_bar: bool, log: Any,
                      train_posts: list[Post] | None, dev_posts: list[Post] | None,
                      context: ProcessContext) -> dict[str, Any]:
    if not context.is_main:
        log = _silent
    precision = launcher_precision(config["train"].get("precision"))  # or `accelerate launch --mixed_precision`'s
    if precision != config["train"].get("precision", "fp32"):
        config["train"]["precision"] = precision
    # checked before any data is read or model built; the model trains on context.device
    mixed_precision = TrainingPrecision(precision, context.device, config["train"].get("loss_scale"))
    run_dir = Path(config["output_dir"])
    checkpoint_dir = run_dir / "checkpoint"
    tcfg = config["train"]
    if tcfg.get("threads"):
        torch.set_num_threads(int(tcfg["threads"]))
    if resume:  # a kill mid-save: the previous complete checkpoint/ and best/ come back
        for folder in (checkpoint_dir, run_dir / "best"):
            recover_directory(folder, remove_leftovers=True)
    if not resume and checkpoint_dir.exists():
        raise FileExistsError(f"{run_dir} already holds a run: pass --resume to continue it, or choose another "
                              "output_dir")
    if resume:
        differ = [k for k in checkpoint_config_changes(run_dir, config) if k not in RESUMABLE_CHANGES]
        if differ:  # resuming would continue another experiment's epochs under this config's name
            raise ValueError(f"{run_dir}: its checkpoint was trained with another config ({', '.join(differ[:6])} "
                             "differ); resume with the same config, or start a new output_dir")
    seed_everything(int(tcfg["seed"]))
    train = train_posts if train_posts is not None else load_split(config["data"], "train")
    dev = dev_posts if dev_posts is not None else load_split(config["data"], "dev")
    if config["data"].get("max_train_posts"):
        train = train[: int(config["data"]["max_train_posts"])]
    if config["data"].get("extra_train"):  # labelled posts of other files, never a dev or excluded post
        train = train + load_extra_train(config["data"], train, dev, log)
    train = well_formed_targets(train)
    skipped = sum(1 for p in train if not p.tokens)
    train = [p for p in train if p.tokens]
    if skipped:
        log(f"skipped {skipped} empty training posts (an empty post has no entities to learn)")
    train, objective = build_objective(config, train, dev, log, context.device)  # distillation may add teacher-labelled posts
    labels = bio_labels(sorted(entity_types([t for p in train + dev for t in (p.tags or [])])))
    model = build_model(config["model"], labels, train, use_class_weights=bool(tcfg.get("class_weighting")))
    model.config = {**config, "model": config["model"]}
    if tcfg.get("init_from") and not (resume and checkpoint_dir.exists()):
        initialise_from(model, tcfg["init_from"], labels, log)
    model.to(context.device)
    if context.world_size > 1:
        context.broadcast_parameters(model)
        torch.manual_seed(int(tcfg["seed"]) + 7919 * context.rank)  # each process its own dropout masks
    optimizer = build_optimizer(model, tcfg["lr"], float(tcfg.get("weight_decay", 0.0)))
    steps_per_epoch = -(-len(train) // int(tcfg["batch_size"]))
    schedule = LrSchedule(tcfg.get("scheduler") or {}, steps_per_epoch * int(tcfg["epochs"]), steps_per_epoch)

    start_epoch, best_f1, bad_epochs, elapsed = 0, -1.0, 0, 0.0
    if resume and checkpoint_dir.exists():
        progress = load_training_checkpoint(checkpoint_dir, model, optimizer, context.rank)
        start_epoch, best_f1 = progress["epoch"], progress["best_f1"]
        bad_epochs, elapsed = progress["bad_epochs"], progress["train_seconds"]
        schedule.state = progress["schedule"]
        mixed_precision.load_state_dict(progress.get("grad_scaler"), str(checkpoint_dir / "trainer_state.json"))
        log(f"resuming {run_dir} after epoch {start_epoch} (best dev F1 so far {best_f1:.2f})")
    if context.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(run_dir / "config.yaml", yaml.safe_dump(config, sort_keys=False))
    log(f"training on {len(train)} posts, evaluating on {len(dev)}; labels: {', '.join(labels)}")

    metrics_csv = run_dir / "metrics.csv"
    history: list[dict[str, Any]] = []
    if start_epoch and metrics_csv.exists():
        with open(metrics_csv, encoding="utf-8") as handle:
            history = [r for r in csv.DictReader(handle) if int(r["epoch"]) <= start_epoch]
    stopped_early = False
    for ev in train_epochs(model, optimizer, schedule, train, dev, tcfg, start_epoch, best_f1, progress_bar,
                           objective, context, mixed_precision):
        elapsed += ev.seconds
        history.append(_csv_row(ev))
        if context.is_main:
            _write_csv(metrics_csv, history)
        crash_point("metrics.written")
        if ev.is_best:
            best_f1, bad_epochs = ev.scores["f1"], 0
            if context.is_main:
                save_pretrained(model, run_dir / "best", {"epoch": ev.epoch, "dev": ev.scores})
        else:
            bad_epochs += 1
        log(f"epoch {ev.epoch}: loss {ev.train_loss:.4f}  dev P {ev.scores['precision']:.2f} "
            f"R {ev.scores['recall']:.2f} F1 {ev.scores['f1']:.2f}{'  (best)' if ev.is_best else ''}  "
            f"[{ev.seconds:.0f}s]" + (f"  fp16 loss scale {ev.extra['loss_scale']:g}, {ev.extra['skipped_steps']} "
                                       "steps skipped" if ev.extra else ""))
        progress = {"epoch": ev.epoch, "best_f1": best_f1, "bad_epochs": bad_epochs, "train_seconds": elapsed,
                    "schedule": schedule.state, "last_scores": {"epoch": ev.epoch, "dev": ev.scores}}
        if mixed_precision.scaler is not None:  # fp16's loss scale, so a resumed run continues with it
            progress["grad_scaler"] = mixed_precision.state_dict()
        rng_states = context.gather_tensor(torch.get_rng_state())
        cuda_state = cuda_rng_state()  # None on a CPU; every process agrees (they run alike): a collective
        cuda_states = context.gather_tensor(cuda_state) if cuda_state is not None else None
        if context.is_main:
            save_training_checkpoint(checkpoint_dir, model, optimizer, progress, rng_states, cuda_states)
        if context.main_decides(bad_epochs >= int(tcfg.get("patience", 0) or 10**9)):
            log(f"early stop: no better dev F1 for {bad_epochs} epochs")
            stopped_early = True
            break
    context.barrier()  # best/ is written
    best = json.loads((run_dir / "best" / "metrics.json").read_text(encoding="utf-8"))
    summary = {"best_epoch": best["epoch"], "dev": best["dev"], "epochs_run": len(history),
               "train_seconds": round(elapsed, 1), "stopped_early": stopped_early}
    if context.is_main:
        atomic_write_text(run_dir / "summary.json", json.dumps(summary, indent=2))
    return summary


def _silent(*_: Any) -> None:
    pass


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue())
