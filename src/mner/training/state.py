"""Resumable training state without pickle.

The optimiser's tensors and the torch RNG go to `trainer.safetensors`; the
rest (param-group settings, epoch, best F1, schedule state) to
`trainer_state.json`. Written atomically with the weights after every
evaluation, under `RUN_DIR/checkpoint/`.

RNG per training process, in rank order: `rng.torch` (the CPU generator) and, where CUDA is
available, `rng.cuda` (every visible device's generator, one row each: (devices, state bytes)),
with a `.rank{r}` suffix for ranks other than 0. Dropout on a GPU draws from the CUDA
generator, so a resumed GPU run continues its masks instead of replaying its first epoch's.
A checkpoint without `rng.cuda` (written on a CPU, or before the key existed) still loads: the
devices keep the generators the run was seeded with. One written on a GPU loads on a CPU too
(there is no CUDA generator to restore). Python's `random` and numpy's global generators are
not saved: training draws nothing from them (batch order and modality dropout use their own
generators, seeded from (seed, epoch)).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from mner.checkpoint import atomic_directory, write_model_files
from mner.model_files import ModelFileError, load_state_checked, read_json_object, read_safetensors


def optimizer_to_flat(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, entry in state["state"].items():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{pid}.{key}"] = value.detach().contiguous().cpu()
            else:
                scalars.setdefault(str(pid), {})[key] = value
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()} for g in state["param_groups"]]
    return tensors, {"param_groups": groups, "scalars": scalars}


def optimizer_from_flat(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith("optim."):
            _, pid, key = name.split(".", 2)
            state.setdefault(int(pid), {})[key] = value
    for pid, entry in meta["scalars"].items():
        state.setdefault(int(pid), {}).update(entry)
    groups = [{k: (tuple(v) if k == "betas" else v) for k, v in g.items()} for g in meta["param_groups"]]
    optimizer.load_state_dict({"state": state, "param_groups": groups})


def save_training_checkpoint(directory: Path, model: Any, optimizer: torch.optim.Optimizer,
                             progress: dict[str, Any], rng_states: list[torch.Tensor] | None = None,
                             cuda_rng_states: list[torch.Tensor] | None = None) -> None:
    """`rng_states`: every training process's torch CPU RNG, in rank order (default: this one's);
    `cuda_rng_states`: the same for their CUDA generators (`cuda_rng_state()`; default: this
    process's where CUDA is available, else none)."""
    if cuda_rng_states is None and rng_states is None:
        own = cuda_rng_state()
        cuda_rng_states = [own] if own is not None else None

    def write(tmp: Path) -> None:
        write_model_files(model, tmp, progress.get("last_scores"))
        tensors, meta = optimizer_to_flat(optimizer)
        for rank, rng in enumerate(rng_states or [torch.get_rng_state()]):
            tensors[rng_key(rank)] = rng.cpu()
        for rank, rng in enumerate(cuda_rng_states or []):
            tensors[rng_key(rank, "cuda")] = rng.cpu().contiguous()  # (devices, state bytes)
        save_file(tensors, str(tmp / "trainer.safetensors"))
        (tmp / "trainer_state.json").write_text(json.dumps({**meta, "progress": progress}, indent=1), encoding="utf-8")

    atomic_directory(directory, write)


def rng_key(rank: int, generator: str = "torch") -> str:
    """`rng.torch` / `rng.cuda` for rank 0 (its names predate multi-process runs), `rng.<g>.rank<r>` else."""
    return f"rng.{generator}" if rank == 0 else f"rng.{generator}.rank{rank}"


def cuda_rng_state() -> torch.Tensor | None:
    """(devices, state bytes): the generator of every CUDA device this process sees; None without CUDA,
    or when this process never used it (CPU training on a GPU host: its CUDA generators never drew, and
    reading them would start CUDA for nothing)."""
    if not torch.cuda.is_available() or not torch.cuda.is_initialized():
        return None
    return torch.stack([state.cpu() for state in torch.cuda.get_rng_state_all()])


def restore_cuda_rng_state(states: torch.Tensor) -> int:
    """Set the devices' generators from `states` (devices, state bytes); return how many were set.

    A run resumed with fewer or more visible devices restores the ones both have (device i from row i);
    the others keep their seeded generators. Without CUDA, nothing."""
    if not torch.cuda.is_available():
        return 0
    count = min(int(states.shape[0]), torch.cuda.device_count())
    for device in range(count):
        torch.cuda.set_rng_state(states[device].to(torch.uint8).cpu(), device)
    return count


def load_training_checkpoint(directory: Path, model: Any, optimizer: torch.optim.Optimizer,
                             rank: int = 0) -> dict[str, Any]:
    """Restore weights, optimiser and this process's RNG in place; return the saved progress dict.
    (A process the saving run did not have keeps the RNG it was seeded with.)"""
    load_state_checked(model, read_safetensors(directory / "model.safetensors"), directory / "model.safetensors")
    tensors = read_safetensors(directory / "trainer.safetensors")
    meta = read_json_object(directory / "trainer_state.json")
    try:
        optimizer_from_flat(optimizer, tensors, meta)
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFileError(directory / "trainer_state.json", f"does not fit this run's optimizer ({err!r})") from None
    if rng_key(rank) in tensors:
        torch.set_rng_state(tensors[rng_key(rank)])
    if rng_key(rank, "cuda") in tensors:
        restore_cuda_rng_state(tensors[rng_key(rank, "cuda")])
    return meta["progress"]
