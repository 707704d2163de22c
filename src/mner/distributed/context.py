"""Who am I among the training processes, and the few collectives training needs.

`process_context()` returns `SingleProcess` (no process group, every helper a no-op or
an identity, so one process trains exactly as it always did) unless the process was
started by a launcher (`accelerate launch`, `torchrun`, `mner train --processes N`, SLURM
via either), which sets `WORLD_SIZE`. Then it returns `ProcessGroup`, whose process group
Accelerate's `PartialState` sets up: gloo on CPUs, nccl on CUDA GPUs, one or many nodes.

Gradients are summed with one `all_reduce` over a flat buffer per step rather than by
wrapping the model in DistributedDataParallel: the model is driven through `model.loss`
and `model.batch` (not `forward`), which DDP's hooks do not see, and the flat buffer
also carries the step's loss, so every process learns the global loss (and a NaN on any
process stops all of them together) at no extra cost. Nothing here pickles: objects
travel as JSON bytes in uint8 tensors.
"""

from __future__ import annotations

import json
import os
from typing import Any, Protocol

import torch


class ProcessContext(Protocol):
    rank: int
    world_size: int
    is_main: bool
    device: torch.device

    def barrier(self) -> None: ...
    def sync_gradients(self, model: torch.nn.Module, loss: torch.Tensor | None) -> float: ...
    def gather_json(self, value: Any) -> list[Any]: ...
    def gather_tensor(self, tensor: torch.Tensor) -> list[torch.Tensor]: ...
    def broadcast_parameters(self, model: torch.nn.Module) -> None: ...
    def main_decides(self, flag: bool) -> bool: ...
    def close(self) -> None: ...


class SingleProcess:
    """One process: nothing to synchronise."""

    rank, world_size, is_main = 0, 1, True

    def __init__(self, device: str | torch.device = "cpu"):
        self.device = torch.device(device)

    def barrier(self) -> None:
        pass

    def sync_gradients(self, model: torch.nn.Module, loss: torch.Tensor | None) -> float:
        return float(loss.item()) if loss is not None else 0.0

    def gather_json(self, value: Any) -> list[Any]:
        return [value]

    def gather_tensor(self, tensor: torch.Tensor) -> list[torch.Tensor]:
        return [tensor]

    def broadcast_parameters(self, model: torch.nn.Module) -> None:
        pass

    def main_decides(self, flag: bool) -> bool:
        return flag

    def close(self) -> None:
        pass


class ProcessGroup:
    """One of `world_size` processes of an initialised torch.distributed process group."""

    def __init__(self, rank: int, world_size: int, device: torch.device):
        self.rank, self.world_size, self.device = rank, world_size, device
        self.is_main = rank == 0

    def barrier(self) -> None:
        torch.distributed.barrier()

    def close(self) -> None:
        """Tear the process group down before the interpreter exits. Why: left to exit, gloo's
        worker threads were destroyed while joinable, and a process that had finished its run
        sometimes died with `terminate called without an active exception` (SIGABRT), failing
        the launch (seen in about 1 launch in 4 on a loaded 2-core host)."""
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.barrier()  # no process tears down while another still talks to it
            torch.distributed.destroy_process_group()

    def sync_gradients(self, model: torch.nn.Module, loss: torch.Tensor | None) -> float:
        """Sum every process's gradients (each loss already weighted by its share of the global
        batch, `mner.distributed.sharding`); return the global batch's loss.

        A parameter no process produced a gradient for keeps `grad=None`, as it would in one
        process (AdamW skips it: no decay, no moment update).
        """
        params = [p for p in model.parameters() if p.requires_grad]
        zero = torch.zeros(1, device=self.device)
        grads = [p.grad.reshape(-1).float() if p.grad is not None else zero.expand(p.numel()) for p in params]
        had = torch.tensor([float(p.grad is not None) for p in params], device=self.device)  # (n_tensors,)
        value = loss.detach().reshape(1).float() if loss is not None else zero
        flat = torch.cat(grads + [had, value])  # (n_values + n_tensors + 1,) one collective per step
        torch.distributed.all_reduce(flat)
        offset = 0
        for p, count in zip(params, flat[-1 - len(params) : -1].tolist()):
            n = p.numel()
            p.grad = flat[offset : offset + n].view_as(p).to(p.dtype) if count > 0 else None
            offset += n
        return float(flat[-1].item())

    def gather_json(self, value: Any) -> list[Any]:
        """Every process's `value` (JSON-serialisable), in rank order, on every process."""
        data = torch.frombuffer(bytearray(json.dumps(value).encode("utf-8")), dtype=torch.uint8).to(self.device)
        sizes = self.gather_tensor(torch.tensor([data.numel()], device=self.device))
        width = int(max(s.item() for s in sizes))
        padded = torch.zeros(width, dtype=torch.uint8, device=self.device)
        padded[: data.numel()] = data
        return [json.loads(chunk[: int(n.item())].cpu().numpy().tobytes().decode("utf-8"))
                for chunk, n in zip(self.gather_tensor(padded), sizes)]

    def gather_tensor(self, tensor: torch.Tensor) -> list[torch.Tensor]:
        """Every process's tensor (same shape and dtype on all), in rank order."""
        tensor = tensor.to(self.device)
        out = [torch.empty_like(tensor) for _ in range(self.world_size)]
        torch.distributed.all_gather(out, tensor)
        return out

    def broadcast_parameters(self, model: torch.nn.Module) -> None:
        """Start every process from the main process's weights (what DDP does on wrapping)."""
        for tensor in list(model.parameters()) + list(model.buffers()):
            torch.distributed.broadcast(tensor.data, src=0)

    def main_decides(self, flag: bool) -> bool:
        """The main process's `flag` on every process (e.g. stop early), so none waits alone."""
        value = torch.tensor([1 if flag else 0], device=self.device)
        torch.distributed.broadcast(value, src=0)
        return bool(value.item())


def launched_world_size() -> int:
    """How many processes a launcher started (1 when none did)."""
    for name in ("WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE"):
        if os.environ.get(name):
            return int(os.environ[name])
    return 1


def training_device(choice: str | None = None) -> torch.device:
    """`train.device`: `cpu`, `cuda` / `cuda:N`, or `auto` (also when absent): the GPU when one is visible.

    Why auto by default: a user with a GPU expects `mner train` to use it; before this, a single
    process trained on the CPU even beside an idle GPU, and only launched processes took one."""
    name = str(choice or "auto").strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ValueError(f"train.device is {choice!r} but this torch sees no CUDA device "
                             "(use train.device=cpu, or auto to take a GPU only when there is one)")
        return torch.device(name)
    raise ValueError(f"train.device must be auto, cpu, cuda or cuda:N, not {choice!r}")


def process_context(device: str | None = None) -> SingleProcess | ProcessGroup:
    """The context of this process: a `ProcessGroup` under a launcher (its device the launcher's),
    else `SingleProcess` on `training_device(device)`."""
    if launched_world_size() <= 1:
        return SingleProcess(training_device(device))
    try:
        from accelerate import PartialState
    except ImportError:
        raise ImportError("training across processes needs Hugging Face Accelerate: pip install 'mner[scale]'") from None
    state = PartialState(cpu=not torch.cuda.is_available())
    return ProcessGroup(state.process_index, state.num_processes, torch.device(state.device))


def launcher_precision(config_precision: str | None) -> str:
    """The training precision: the config's, or `accelerate launch --mixed_precision bf16|fp16`'s
    when the config leaves it at fp32 (`mner.training.mixed_precision` checks the name)."""
    chosen = str(config_precision or "fp32")
    launcher = os.environ.get("ACCELERATE_MIXED_PRECISION", "no")
    return launcher if chosen == "fp32" and launcher not in ("no", "") else chosen
