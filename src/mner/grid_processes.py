"""`mner experiment GRID --jobs N`: N processes share out a grid's runs on one machine.

Why: one training run leaves most of a GPU (or a many-core CPU) idle; on one H200, eight runs at a
time finished a 42-run grid in minutes. The processes need no coordinator: each is a plain
`mner experiment` whose claim locks (`mner.experiments`) keep two of them off one run. A student
whose teacher another process is still training is left for later (`TeacherNotReady`), so the
processes are started again, round after round, while rounds still finish runs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

from mner.experiments import finished_cells, load_grid, variant_seeds


def unfinished_runs(grid: dict[str, Any], seeds: list[int] | None, variants: list[str] | None) -> int:
    """How many of the selected (variant, seed) runs have no finished result yet."""
    done = finished_cells(grid)
    return sum((variant, seed) not in done for variant in grid["variants"] for seed in variant_seeds(grid, variant)
               if (not variants or variant in variants) and (not seeds or seed in seeds))


def run_grid_in_processes(grid_path: Path, jobs: int, seeds: list[int] | None = None,
                          variants: list[str] | None = None, threads: int | None = None,
                          log: Callable[[str], None] = print, max_rounds: int = 10) -> None:
    """Start `jobs` `mner experiment` processes on the grid, again while a round finishes runs."""
    if jobs < 1:
        raise ValueError(f"--jobs must be at least 1, not {jobs}")
    grid = load_grid(grid_path)
    command = [sys.executable, "-m", "mner", "experiment", str(grid_path)]
    for seed in seeds or []:
        command += ["--seed", str(seed)]
    for variant in variants or []:
        command += ["--variant", variant]
    if threads:
        command += ["--threads", str(threads)]
    left = unfinished_runs(grid, seeds, variants)
    for round_number in range(1, max_rounds + 1):
        if left == 0:
            return
        count = min(jobs, left)
        log(f"round {round_number}: {count} processes, {left} run(s) to train")
        processes = [subprocess.Popen(command) for _ in range(count)]
        failed = sum(process.wait() != 0 for process in processes)
        now = unfinished_runs(grid, seeds, variants)
        if failed:
            raise RuntimeError(f"{failed} of the round's processes failed; their output is above")
        if now == left:  # nothing finished: another round would do the same
            log(f"{now} run(s) left that no process could train (waiting on a teacher trained elsewhere?)")
            return
        left = now
