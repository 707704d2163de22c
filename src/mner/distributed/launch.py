"""Starting N processes on this machine, and a started process's place among them.

`mner train --processes N` and `mner predict ... --processes N` re-run the same command
under `torch.distributed.run` (torchrun, which `accelerate launch` itself uses for
multi-GPU jobs), so one code path serves the shortcut, `accelerate launch -m mner ...`,
`torchrun -m mner ...` and SLURM jobs that start either (docs/scale.md).
"""

from __future__ import annotations

import os
import subprocess
import sys

import torch

from mner.distributed.context import launched_world_size


def launcher_command(processes: int, mner_args: list[str]) -> list[str]:
    """torchrun on one node with a free rendezvous port (`--standalone`)."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}",
            "-m", "mner", *mner_args]


def launch(processes: int, mner_args: list[str]) -> int:
    """Run `mner MNER_ARGS` in `processes` processes; their exit status (0: all succeeded)."""
    if processes < 1:
        raise ValueError(f"--processes must be at least 1, not {processes}")
    if launched_world_size() > 1:
        raise ValueError("--processes is for starting processes; this one was already started by a launcher")
    return subprocess.run(launcher_command(processes, mner_args), check=False).returncode


def launched_rank() -> tuple[int, int]:
    """(rank, world size) of this process as its launcher set them; (0, 1) without one."""
    for rank_name, size_name in (("RANK", "WORLD_SIZE"), ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),
                                 ("PMI_RANK", "PMI_SIZE")):
        if os.environ.get(size_name):
            return int(os.environ.get(rank_name, "0")), int(os.environ[size_name])
    return 0, 1


def worker_device() -> str:
    """The GPU of this process's LOCAL_RANK when there are GPUs, else the CPU."""
    if torch.cuda.is_available():
        return f"cuda:{int(os.environ.get('LOCAL_RANK', '0')) % torch.cuda.device_count()}"
    return "cpu"
