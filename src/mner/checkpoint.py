"""save_pretrained / from_pretrained for MnerModel, and atomic file writes.

A model directory holds:
  config.json        the full run config (model section used to rebuild)
  labels.json        the label list, in output order
  model.safetensors  every weight (encoder included): no pickle, ever
  metrics.json       the dev scores it was selected on
  encoder_config/, tokenizer/ (HF encoders) or vocab.json (BiLSTM)
Directories are written to a temporary sibling and renamed into place, so a
crash never leaves a half-written model where a good one was.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from mner.crash_points import crash_point
from mner.model import MnerModel
from mner.model_files import ModelFileError, load_state_checked, read_json_file, read_json_object, read_safetensors


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def previous_copy(target: Path) -> Path:
    """Where `atomic_directory` parks the old `target` for the instant of the swap."""
    return target.with_name(f".{target.name}.old")


def recover_directory(target: str | Path, remove_leftovers: bool = False) -> bool:
    """Undo a crash in the middle of `atomic_directory`'s swap; True if something was recovered.

    A kill between its two renames leaves `target` missing and its previous
    version at ``.<name>.old``: that complete copy is put back. With
    `remove_leftovers` (only the run's owner, on resume: a reader must not delete
    what a live writer is writing) half-written ``.<name>.tmp-*`` siblings go too.
    """
    target = Path(target)
    recovered = False
    old = previous_copy(target)
    if not target.exists() and old.is_dir():
        os.replace(old, target)
        recovered = True
    if remove_leftovers and target.parent.is_dir():
        for leftover in target.parent.glob(f".{target.name}.tmp-*"):
            shutil.rmtree(leftover, ignore_errors=True)
    return recovered


def atomic_directory(target: Path, write: Any) -> None:
    """Call `write(tmp_dir)`, then swap tmp_dir into `target` by rename.

    A kill at any moment leaves either the old or the new complete directory:
    before the swap `target` is untouched; between the two renames the old one
    waits at ``.<name>.old``, which `recover_directory` puts back.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    recover_directory(target)  # an earlier crash mid-swap: put the complete copy back first
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.tmp-"))
    try:
        write(tmp)
        crash_point(f"{target.name}.written")
        old = previous_copy(target)
        if old.exists():
            shutil.rmtree(old)
        if target.exists():
            os.replace(target, old)
        crash_point(f"{target.name}.swap")
        os.replace(tmp, target)
        if old.exists():
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def state_dict_for_saving(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}


def write_model_files(model: MnerModel, directory: Path, metrics: dict[str, Any] | None = None) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(model.config, indent=2), encoding="utf-8")
    (directory / "labels.json").write_text(json.dumps(model.labels), encoding="utf-8")
    (directory / "metrics.json").write_text(json.dumps(metrics or {}, indent=2), encoding="utf-8")
    save_file(state_dict_for_saving(model), str(directory / "model.safetensors"), metadata={"format": "pt"})
    model.text_encoder.save_assets(directory)
    if model.visual is not None and hasattr(model.visual, "save_assets"):
        model.visual.save_assets(directory)
    if getattr(model, "context", None) is not None:  # the retrieval index the model reads from
        model.context.save_assets(directory)
    if getattr(model, "knn", None) is not None:  # the kNN-tagging word datastore
        model.knn.save_assets(directory)


def save_pretrained(model: MnerModel, directory: str | Path, metrics: dict[str, Any] | None = None) -> None:
    atomic_directory(Path(directory), lambda tmp: write_model_files(model, tmp, metrics))


def from_pretrained(directory: str | Path, device: str = "cpu") -> MnerModel:
    from mner.builders import build_model
    from mner.modules.int8_linear import maybe_quantize

    directory = Path(directory)
    recover_directory(directory)
    for name in ("config.json", "labels.json", "model.safetensors"):
        if not (directory / name).exists():
            raise FileNotFoundError(f"{directory} is not an mner model directory: {name} is missing")
    config = read_json_object(directory / "config.json")
    labels = read_json_file(directory / "labels.json")
    if not isinstance(labels, list) or not labels or not all(isinstance(label, str) for label in labels):
        raise ModelFileError(directory / "labels.json", "expected a non-empty JSON list of label strings")
    if not isinstance(config.get("model"), dict):
        raise ModelFileError(directory / "config.json", "has no 'model' section: not an mner model config")
    try:
        model = build_model(config["model"], labels, saved_dir=directory)
        model = maybe_quantize(model, directory)  # int8 exports: swap in Int8Linear before loading their weights
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, OSError) as err:  # a config edited into something unbuildable
        raise ModelFileError(directory / "config.json", f"does not describe a loadable model ({err!r})") from None
    state = read_safetensors(directory / "model.safetensors", device=device)
    load_state_checked(model, state, directory / "model.safetensors")
    model.config = config
    return model.to(device).eval()
