"""Seconds per training step at each training precision (fp32, bf16, fp16) for a config's model.

    python scripts/bench_train_precision.py configs/twitter2017/text_minilm.yaml --steps 20 --threads 1

The first `--steps` steps of the config's real run (its training data, model, optimizer, learning-rate
schedule and batch order), after one untimed warm-up step, through the training loop's own `train_step`
(`mner.training.loop`): forward + loss under autocast, backward (loss-scaled in fp16), clipping, AdamW.
Every precision starts from the same seeded weights and sees the same batches. Prints a markdown table:
median and mean seconds per step, the mean loss of the timed steps and its largest per-step difference
from fp32's (same weights, same batch: what the precision changes), whether every loss was finite, and for fp16 the steps skipped for inf/NaN gradients and the final loss scale. Trains nothing
to the end and writes nothing.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from typing import Any


def bench_precision(config: dict[str, Any], train: list[Any], labels: list[str], precision: str,
                    steps: int) -> dict[str, Any]:
    import torch

    from mner.builders import build_model
    from mner.distributed.context import SingleProcess
    from mner.training.loop import bucket_lengths, train_step
    from mner.training.mixed_precision import TrainingPrecision
    from mner.training.objectives import TaggingObjective
    from mner.training.optim import build_optimizer
    from mner.training.order import epoch_batches
    from mner.training.run import seed_everything
    from mner.training.schedule import LrSchedule

    tcfg = config["train"]
    seed_everything(int(tcfg["seed"]))
    model = build_model(config["model"], labels, train, use_class_weights=bool(tcfg.get("class_weighting")))
    optimizer = build_optimizer(model, tcfg["lr"], float(tcfg.get("weight_decay", 0.0)))
    per_epoch = math.ceil(len(train) / int(tcfg["batch_size"]))
    schedule = LrSchedule(tcfg.get("scheduler") or {}, per_epoch * int(tcfg["epochs"]), per_epoch)
    bucket = tcfg.get("bucket_by_length", True)
    batches = epoch_batches(bucket_lengths(model, train, bucket), int(tcfg["batch_size"]), int(tcfg["seed"]), 0,
                            bool(bucket))
    mixed = TrainingPrecision(precision, "cpu", tcfg.get("loss_scale"))
    objective, context, clip = TaggingObjective(), SingleProcess(), float(tcfg.get("grad_clip") or 0.0)
    model.train()
    seconds, losses = [], []
    for step, ids in enumerate(batches[: steps + 1]):
        schedule.apply(optimizer, step)
        started = time.perf_counter()
        loss, _ = train_step(model, optimizer, [train[i] for i in ids], 1.0, objective, mixed, context, clip)
        if step:  # step 0 is warm-up (allocations, kernel choice)
            seconds.append(time.perf_counter() - started)
            losses.append(loss)
        print(f"{precision} step {step}: {time.perf_counter() - started:.2f}s loss {loss:.3f}", file=sys.stderr)
    return {"precision": precision, "median_s": statistics.median(seconds), "mean_s": statistics.fmean(seconds),
            "losses": losses, "finite": all(math.isfinite(v) for v in losses),
            "skipped": mixed.skipped_steps if mixed.scaler is not None else None, "loss_scale": mixed.loss_scale(),
            "steps": len(seconds)}


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| precision | s/step (median) | s/step (mean) | vs fp32 | mean loss | max abs loss diff vs fp32 "
             "| all finite | skipped steps | final loss scale |", "|---|---|---|---|---|---|---|---|---|"]
    base = next((r for r in rows if r["precision"] == "fp32"), None)
    for r in rows:
        ratio = f"{r['median_s'] / base['median_s']:.2f}x" if base else "-"
        diff = f"{max(abs(a - b) for a, b in zip(r['losses'], base['losses'])):.3f}" if base else "-"
        lines.append(f"| {r['precision']} | {r['median_s']:.3f} | {r['mean_s']:.3f} | {ratio} | "
                     f"{statistics.fmean(r['losses']):.3f} | {diff} | {'yes' if r['finite'] else 'NO'} | "
                     f"{'-' if r['skipped'] is None else r['skipped']} | "
                     f"{'-' if r['loss_scale'] is None else format(r['loss_scale'], 'g')} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("config")
    parser.add_argument("overrides", nargs="*", help="key.sub=value config overrides")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per precision (after one warm-up)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16", "fp16"])
    args = parser.parse_args()

    import torch

    from mner.config import load_config
    from mner.data.tags import bio_labels, entity_types
    from mner.training.mixed_precision import check_training_precision
    from mner.training.run import load_split, well_formed_targets

    torch.set_num_threads(args.threads)
    config = load_config(args.config, args.overrides)
    for precision in args.precisions:
        check_training_precision(precision)
    train = [p for p in well_formed_targets(load_split(config["data"], "train")) if p.tokens]
    dev = load_split(config["data"], "dev")  # for the label set only, as `mner train` builds it
    labels = bio_labels(sorted(entity_types([t for p in train + dev for t in (p.tags or [])])))
    rows = [bench_precision(config, train, labels, precision, args.steps) for precision in args.precisions]
    print(f"{args.config}: {args.steps} steps of batch {config['train']['batch_size']} after one warm-up, "
          f"{torch.get_num_threads()} torch thread(s), torch {torch.__version__}\n")
    print(table(rows))


if __name__ == "__main__":
    main()
