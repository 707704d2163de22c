"""Run mner commands in a child process and kill it at a named crash point or at a random time."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
KILLED = -signal.SIGKILL


def mner_env(crash_at: str | None = None) -> dict[str, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    env.pop("MNER_CRASH_AT", None)
    if crash_at:
        env["MNER_CRASH_AT"] = crash_at
    return env


def run_mner(args: list[str], crash_at: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m mner ARGS`; `crash_at` names the point where the child SIGKILLs itself."""
    return subprocess.run([sys.executable, "-m", "mner", *args], env=mner_env(crash_at), capture_output=True,
                          text=True, timeout=timeout)


def kill_at_random_time(args: list[str], started_marker: Path, rng: random.Random, within: float,
                        timeout: float = 300) -> int:
    """Start `python -m mner ARGS`, wait until `started_marker` is (re)written, then SIGKILL it from
    outside after a random delay in [0, within) s. Returns the exit code (KILLED, or 0 if it finished first)."""
    since = time.time()
    child = subprocess.Popen([sys.executable, "-m", "mner", *args], env=mner_env(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    deadline = since + timeout
    while child.poll() is None and time.time() < deadline:
        if started_marker.exists() and started_marker.stat().st_mtime >= since:
            break
        time.sleep(0.05)
    time.sleep(rng.uniform(0, within))
    if child.poll() is None:
        child.send_signal(signal.SIGKILL)
    return child.wait(timeout=timeout)
