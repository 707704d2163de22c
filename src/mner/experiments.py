"""A grid of runs (variants x seeds) and one markdown table of mean ± std dev F1.

Grid file (YAML):
    base: configs/twitter2017/text_minilm.yaml    # a config file (relative to the grid file or cwd)
    output_dir: runs/grid-twitter2017
    seeds: [1, 2, 3]
    variant_seeds: {context-caption: [1, 2, 3, 4, 5]}   # optional: a variant's own seed list
    overrides: ["train.epochs=6"]                 # applied to every variant (optional)
    variants:
      text-only: []
      context-caption: ["model.second_segment=caption", "data.visual_text.caption.train=...", ...]
    ledger: benchmarks/grids/twitter2017_visual_text.json   # optional, see below
    shared_ledgers: [benchmarks/grids/other_grid.json]     # optional, read only, see below
Each run goes to OUTPUT_DIR/<variant>/seed-<n>; a run with a summary.json is reused, so an
interrupted grid continues where it stopped. The table is written to OUTPUT_DIR/results.md
(and results.json) after every run trained and at the end, each time read from the run
folders and the ledger on disk: with several processes on one grid, the last to end writes
it whole.

The ledger (optional, a path from the working directory) is a small JSON file meant to be
committed: every finished run's summary, keyed by variant and seed, with a digest of the
run's full resolved config. Run folders hold gigabytes and stay on one machine; the
ledger travels with the repository, so a grid that takes longer than one sitting (or one
machine) continues elsewhere: a (variant, seed) whose config digest matches a ledger
entry is not trained again. Change anything in the config and the digest no longer
matches, so stale results are never reused. The digest covers the config, not mner's
code: each entry also records the commit that trained it (`code`), so a change to the
training code is visible in the ledger; such a change should come with a config change
(or a new grid) if finished runs must not be mixed with new ones. A run folder whose
config.yaml differs from the grid's current config, finished or not, is neither reused
nor resumed: `--report-only` leaves it out, and training renames it `<run>.stale-<n>`
and starts the run afresh.

`shared_ledgers` (optional) names other grids' ledgers, read only: a run of this grid whose
config digest equals a run finished in one of them (the same base, overrides and seed under
another grid's variant name, e.g. the text-only baseline that several grids compare against)
is that run, and is not trained again. New runs are recorded in this grid's own ledger only.

`variant_seeds` (optional) gives a variant its own seed list in place of `seeds`: more seeds
for the one variant whose mean sits near a target, without asking every other variant of
the grid for them. Its table row then reports over those seeds.
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml

from mner.checkpoint import atomic_write_text
from mner.config import config_differences, config_digest, load_config
from mner.crash_points import crash_point
from mner.distill.prepare import TeacherNotReady, teacher_list
from mner.file_lock import exclusive_lock
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
    grid.setdefault("ledger", None)
    grid["variant_seeds"] = _checked_variant_seeds(path, grid)
    return grid


def _checked_variant_seeds(path: Path, grid: dict[str, Any]) -> dict[str, list[int]]:
    given = grid.get("variant_seeds") or {}
    if not isinstance(given, dict):
        raise ValueError(f"{path}: 'variant_seeds' must map variant names to seed lists")
    if unknown := sorted(set(given) - set(grid["variants"])):
        raise ValueError(f"{path}: 'variant_seeds' names variant(s) {unknown} that the grid does not have")
    for variant, seeds in given.items():
        if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and not isinstance(s, bool)
                                                              for s in seeds):
            raise ValueError(f"{path}: variant_seeds.{variant} must be a non-empty list of integers, not {seeds!r}")
    return given


def variant_seeds(grid: dict[str, Any], variant: str) -> list[int]:
    """The seeds a variant runs: its own `variant_seeds` entry, else the grid's `seeds`."""
    return (grid.get("variant_seeds") or {}).get(variant, grid["seeds"])


class Ledger:
    """Finished runs of one grid, in a JSON file: {"runs": {"<variant>/seed-<n>": entry}}, and
    the read-only ledgers of other grids it shares runs with (found by config digest)."""

    def __init__(self, path: Path | None, shared: list[Path] | None = None):
        self.path = path
        self.runs = _read_ledger(path) if path is not None and path.exists() else {}
        self.shared_by_digest: dict[str, dict[str, Any]] = {}
        for other in shared or []:
            if not other.exists():
                raise ValueError(f"shared_ledgers: {other} does not exist")
            for entry in _read_ledger(other).values():
                if isinstance(entry, dict) and entry.get("config_digest"):
                    self.shared_by_digest.setdefault(entry["config_digest"], entry)

    def find(self, variant: str, seed: int, digest: str) -> dict[str, Any] | None:
        entry = self.runs.get(f"{variant}/seed-{seed}")
        if entry and entry.get("config_digest") == digest:
            return entry["summary"]
        shared = self.shared_by_digest.get(digest)
        return shared["summary"] if shared else None

    def record(self, variant: str, seed: int, digest: str, summary: dict[str, Any], code: str | None = None) -> None:
        if self.path is None:
            return
        key = f"{variant}/seed-{seed}"
        if self.runs.get(key, {}).get("config_digest") == digest:
            return  # already there (a reused run folder): keep its original date
        entry = {"config_digest": digest, "summary": summary,
                 "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                 "machine": machine_description(), "code": code or code_version()}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # several `mner experiment` processes may share one ledger: take a lock, re-read the
        # file (what is on disk is current, this process's copy may be stale), add this
        # entry, write atomically
        with exclusive_lock(self.path.with_name(self.path.name + ".lock")):
            if self.path.exists():
                self.runs = json.loads(self.path.read_text(encoding="utf-8"))["runs"]
            self.runs[key] = entry
            atomic_write_text(self.path, json.dumps({"runs": dict(sorted(self.runs.items()))}, indent=1) + "\n")


def _read_ledger(path: Path) -> dict[str, dict[str, Any]]:
    try:
        runs = json.loads(path.read_text(encoding="utf-8"))["runs"]
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise ValueError(f"{path}: not a grid ledger ({err})") from err
    if not isinstance(runs, dict):
        raise ValueError(f"{path}: not a grid ledger ('runs' is not a mapping)")
    return runs


def grid_ledger(grid: dict[str, Any]) -> Ledger:
    """The grid's ledger (`ledger`, may be absent) with the other grids' it reads (`shared_ledgers`)."""
    return Ledger(Path(grid["ledger"]) if grid.get("ledger") else None,
                  [Path(p) for p in grid.get("shared_ledgers") or []])


def code_version() -> str:
    """Which mner trained a run: the git commit of its source tree (+ "-dirty" with uncommitted
    changes), else the package version. The digest covers the config, not the code; this
    says which code a ledger entry came from."""
    import subprocess

    import mner

    source = Path(mner.__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=source, capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "."], cwd=source,
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return f"mner {getattr(mner, '__version__', 'unknown')}"


def machine_description() -> str:
    """What a ledger entry records of the machine: its CPUs, and the GPU a run would take (`train.device` auto)."""
    import torch

    gpu = f", {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ""
    return f"{platform.machine()}, {_cpu_count()} CPUs{gpu}"


def _cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def run_grid(grid: dict[str, Any], log: Callable[[str], None] = print, progress_bar: bool = False,
             train: bool = True, seeds: list[int] | None = None, threads: int | None = None,
             variants: list[str] | None = None) -> str:
    """Train what is not finished yet (`train=False`: only tabulate what is) and return the table.

    `seeds`: train only these of the grid's seeds (e.g. one process per seed, each with
    `train.threads=1`, on a machine with spare cores); the table still shows every seed
    that is finished. `variants`: likewise, train only these variants. `threads`: torch
    threads per run (`train.threads`; not part of the digest).
    """
    unknown = sorted(set(variants or []) - set(grid["variants"]))
    if unknown:
        raise ValueError(f"unknown variant(s) {unknown}; the grid has {list(grid['variants'])}")
    out = Path(grid["output_dir"])
    ledger = grid_ledger(grid)
    code = code_version()  # now, not when a run ends: the tree may move on while this process trains
    claimed_elsewhere = waiting = 0
    cells = list(_grid_runs(grid, threads))
    by_folder = {run_dir.resolve(): (variant, seed, run_dir, config) for variant, seed, run_dir, config in cells}

    def teacher_cells(config: dict[str, Any]) -> list[tuple[str, int, Path, dict[str, Any]]]:
        """The runs of this grid that teach this run (`distill.teacher`)."""
        teachers = (config.get("distill") or {}).get("teacher")
        folders = [Path(t).resolve() for t in teacher_list(teachers)] if teachers else []
        return [by_folder[folder] for folder in folders if folder in by_folder]

    # students after the runs that teach them, so that one process trains a grid in one go
    cells.sort(key=lambda cell: bool(teacher_cells(cell[3])))
    for variant, seed, run_dir, config in cells:
        digest = config_digest(config)
        if (summary := _finished_here(run_dir, config)) is not None:
            ledger.record(variant, seed, digest, summary, code)  # a run folder the ledger may not have yet
        elif ledger.find(variant, seed, digest) is not None:
            log(f"[{variant} seed {seed}] finished earlier (ledger {grid.get('ledger')} or a shared one)")
        elif train and (seeds is None or seed in seeds) and (not variants or variant in variants):
            if waits_for := [f"{v} seed {n}" for v, n, folder, cfg in teacher_cells(config)
                             if _finished_here(folder, cfg) is None]:
                log(f"[{variant} seed {seed}] skipped here: its teacher ({', '.join(waits_for)}) has not finished")
                waiting += 1
                continue
            try:
                summary = _train_claimed(run_dir, config, log, progress_bar, f"[{variant} seed {seed}]")
            except TeacherNotReady as err:  # another process trains its teacher: leave the run for later
                log(f"[{variant} seed {seed}] skipped here: {err}")
                waiting += 1
                continue
            if summary is None:
                claimed_elsewhere += 1
                continue
            ledger.record(variant, seed, digest, summary, code)
            _write_results(out, finished_results(grid, threads))  # the table so far, after each run trained here
            crash_point("grid.run_done")
    if waiting:
        log(f"{waiting} run(s) wait for a teacher that has not finished; run the grid again once it has")
    if claimed_elsewhere:
        log(f"{claimed_elsewhere} run(s) were claimed by other processes; the table shows those finished by now")
    # read from disk, not gathered on the way: runs other processes finished while this one
    # trained are in it, so the last process to end writes the whole grid
    results = finished_results(grid, threads)
    if train:
        _write_results(out, results)
    return results_table(results)


def _write_results(out: Path, results: dict[str, list[dict[str, Any]]]) -> None:
    atomic_write_text(out / "results.md", results_table(results))
    atomic_write_text(out / "results.json", json.dumps(results, indent=1))


def finished_results(grid: dict[str, Any], threads: int | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every finished run of the grid under its current config, from the run folders and the
    ledger as they are on disk now, in grid order; trains nothing."""
    results: dict[str, list[dict[str, Any]]] = {}
    for variant, _seed, summary in _finished_runs(grid, threads):
        results.setdefault(variant, []).append(summary)
    return results


def finished_cells(grid: dict[str, Any]) -> set[tuple[str, int]]:
    """The (variant, seed) runs of the grid finished under its current config, on disk now."""
    return {(variant, seed) for variant, seed, _summary in _finished_runs(grid, None)}


def _finished_runs(grid: dict[str, Any], threads: int | None) -> Iterator[tuple[str, int, dict[str, Any]]]:
    ledger = grid_ledger(grid)
    for variant, seed, run_dir, config in _grid_runs(grid, threads):
        summary = _finished_here(run_dir, config) or ledger.find(variant, seed, config_digest(config))
        if summary is not None:
            yield variant, seed, summary


def _grid_runs(grid: dict[str, Any], threads: int | None) -> Iterator[tuple[str, int, Path, dict[str, Any]]]:
    """(variant, seed, run folder, resolved config) of every run, in grid order."""
    out = Path(grid["output_dir"])
    for variant, overrides in grid["variants"].items():
        for seed in variant_seeds(grid, variant):
            run_dir = out / variant / f"seed-{seed}"
            yield variant, seed, run_dir, _run_config(grid, overrides, seed, run_dir, threads)


def _run_config(grid: dict[str, Any], overrides: list[str] | None, seed: int, run_dir: Path,
                threads: int | None) -> dict[str, Any]:
    """One run's resolved config: the base, the grid's overrides, the variant's, seed and folder."""
    return load_config(grid["base"], [*grid["overrides"], *(overrides or []), f"train.seed={seed}",
                                      f"output_dir={run_dir}", *([f"train.threads={threads}"] if threads else [])])


def _train_claimed(run_dir: Path, config: dict[str, Any], log: Callable[[str], None], progress_bar: bool,
                   tag: str) -> dict[str, Any] | None:
    """Train one run unless another `mner experiment` process on this machine is training it.

    The claim is an exclusive lock on OUTPUT_DIR/<variant>/seed-<n>.lock, held for the whole
    run: the operating system drops it when the process ends, however it ends, so a crashed
    worker never blocks the run (the next one resumes from its checkpoint). Several
    processes on one grid (e.g. `--threads 1`, one per core) thus share out its runs.
    Returns None when the run is someone else's.
    """
    from mner.training.run import train_run

    run_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(claim_path(run_dir), "w") as claim:
        try:
            fcntl.flock(claim, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"{tag} being trained by another process: skipped here")
            return None
        if (summary := _finished_here(run_dir, config)) is not None:  # finished by another process meanwhile
            return summary
        _set_aside_if_stale(run_dir, config, log, tag)
        log(f"{tag} training -> {run_dir}")
        return train_run(config, resume=(run_dir / "checkpoint").exists(), progress_bar=progress_bar,
                         log=lambda m: log(f"{tag} {m}"))


def claim_path(run_dir: Path) -> Path:
    """The file whose exclusive lock claims a grid run (OUTPUT_DIR/<variant>/seed-<n>.lock)."""
    return run_dir.with_name(run_dir.name + ".lock")


def _finished_here(run_dir: Path, config: dict[str, Any]) -> dict[str, Any] | None:
    """The summary of a run finished in `run_dir` under this very config; None when the folder
    holds no finished run or one trained under another version of the grid's config (that
    is another experiment: never reported under this config's name)."""
    summary_path = run_dir / "summary.json"
    if not summary_path.exists() or _folder_config_changes(run_dir, config):
        return None
    return json.loads(summary_path.read_text(encoding="utf-8"))


def _folder_config_changes(run_dir: Path, config: dict[str, Any]) -> list[str]:
    saved = run_dir / "config.yaml"
    if not saved.exists():
        return []
    return config_differences(yaml.safe_load(saved.read_text(encoding="utf-8")) or {}, config)


def _set_aside_if_stale(run_dir: Path, config: dict[str, Any], log: Callable[[str], None], tag: str) -> None:
    """A run folder (finished or not) left by an earlier version of the grid's config is not
    resumed nor reused (its epochs were trained as another experiment): it is renamed
    `<run>.stale-<n>`, kept for inspection, and the run starts afresh."""
    differ = _folder_config_changes(run_dir, config)
    if not differ:
        return
    n = 1
    while run_dir.with_name(f"{run_dir.name}.stale-{n}").exists():
        n += 1
    aside = run_dir.with_name(f"{run_dir.name}.stale-{n}")
    run_dir.rename(aside)
    log(f"{tag} {run_dir} was started with another config ({', '.join(differ[:4])} differ): moved to {aside}, "
        "starting afresh")


def results_table(results: dict[str, list[dict[str, Any]]]) -> str:
    """The grid's report: overall dev scores per variant, then dev F1 per entity type."""
    lines = ["| variant | dev F1 | precision | recall | seeds | train time / run (s) |",
             "|---|---|---|---|---|---|"]
    for variant, runs in results.items():
        f1 = [r["dev"]["f1"] for r in runs]
        p = [r["dev"]["precision"] for r in runs]
        r_ = [r["dev"]["recall"] for r in runs]
        seconds, _ = mean_std([r["train_seconds"] for r in runs])
        lines.append(f"| {variant} | {format_mean_std(f1)} | {format_mean_std(p)} | {format_mean_std(r_)} | "
                     f"{len(runs)} | {seconds:.0f} |")
    return "\n".join(lines) + "\n" + per_type_table(results)


def per_type_table(results: dict[str, list[dict[str, Any]]]) -> str:
    """Dev F1 per entity type (mean ± std over seeds), the breakdown MNER papers report:
    it shows which types a visual input helps. Empty when no run recorded per-type scores."""
    types = sorted({t for runs in results.values() for r in runs for t in r["dev"].get("per_type", {})})
    if not types:
        return ""
    support = {t: next(r["dev"]["per_type"][t]["support"] for runs in results.values() for r in runs
                       if t in r["dev"].get("per_type", {})) for t in types}
    lines = ["", "Dev F1 per entity type (gold entities in parentheses):", "",
             "| variant | " + " | ".join(f"{t} ({support[t]})" for t in types) + " |",
             "|---|" + "---|" * len(types)]
    for variant, runs in results.items():
        cells = []
        for t in types:
            f1 = [r["dev"]["per_type"][t]["f1"] for r in runs if t in r["dev"].get("per_type", {})]
            cells.append(format_mean_std(f1) if f1 else "n/a")
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
