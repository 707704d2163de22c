"""A grid of runs (variants x seeds) and one markdown table of mean ± std dev F1.

Grid file (YAML):
    base: configs/twitter2017/text_minilm.yaml    # a config file (relative to the grid file or cwd)
    output_dir: runs/grid-twitter2017
    seeds: [1, 2, 3]
    overrides: ["train.epochs=6"]                 # applied to every variant (optional)
    variants:
      text-only: []
      context-caption: ["model.second_segment=caption", "data.visual_text.caption.train=...", ...]
Each run goes to OUTPUT_DIR/<variant>/seed-<n>; a run with a summary.json is reused, so an
interrupted grid continues where it stopped. The table is written to OUTPUT_DIR/results.md
(and results.json) after every run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import yaml

from mner.checkpoint import atomic_write_text
from mner.config import load_config
from mner.metrics import format_mean_std, mean_std


def load_grid(path: Path) -> dict[str, Any]:
    grid = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for key in ("base", "variants"):
        if key not in grid:
            raise ValueError(f"{path}: a grid needs '{key}'")
    base = Path(grid["base"])
    if not base.exists() and (path.parent / base).exists():
        base = path.parent / base
    grid["base"] = base
    grid.setdefault("seeds", [42])
    grid.setdefault("overrides", [])
    grid.setdefault("output_dir", f"runs/{path.stem}")
    return grid


def run_grid(grid: dict[str, Any], log: Callable[[str], None] = print, progress_bar: bool = False) -> str:
    from mner.training.run import train_run

    out = Path(grid["output_dir"])
    results: dict[str, list[dict[str, Any]]] = {}
    for variant, overrides in grid["variants"].items():
        for seed in grid["seeds"]:
            run_dir = out / variant / f"seed-{seed}"
            summary_path = run_dir / "summary.json"
            if summary_path.exists():
                summary = json.loads(summary_path.read_text(encoding="utf-8"))
            else:
                config = load_config(grid["base"], [*grid["overrides"], *(overrides or []),
                                                    f"train.seed={seed}", f"output_dir={run_dir}"])
                log(f"[{variant} seed {seed}] training -> {run_dir}")
                summary = train_run(config, resume=(run_dir / "checkpoint").exists(), progress_bar=progress_bar,
                                    log=lambda m, v=variant, s=seed: log(f"[{v} seed {s}] {m}"))
            results.setdefault(variant, []).append(summary)
            table = results_table(results)
            atomic_write_text(out / "results.md", table)
            atomic_write_text(out / "results.json", json.dumps(results, indent=1))
    return results_table(results)


def results_table(results: dict[str, list[dict[str, Any]]]) -> str:
    lines = ["| variant | dev F1 | precision | recall | seeds | train time / run (s) |",
             "|---|---|---|---|---|---|"]
    for variant, runs in results.items():
        f1 = [r["dev"]["f1"] for r in runs]
        p = [r["dev"]["precision"] for r in runs]
        r_ = [r["dev"]["recall"] for r in runs]
        seconds, _ = mean_std([r["train_seconds"] for r in runs])
        lines.append(f"| {variant} | {format_mean_std(f1)} | {format_mean_std(p)} | {format_mean_std(r_)} | "
                     f"{len(runs)} | {seconds:.0f} |")
    return "\n".join(lines) + "\n"
