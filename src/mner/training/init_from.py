"""`train.init_from: RUN_OR_MODEL_DIR`: start training from another mner model's weights.

Continue a trained model on new labelled posts (another domain, more annotation), or start a
distilled student from its teacher's weights. Every tensor whose name and shape the two models
share is copied; the rest keep their fresh initialisation, and a line says how many of each.
The tagging head (emission layer and CRF) is indexed by label, so it is copied only when both
models have the same labels in the same order; otherwise it starts afresh (a line says so).
Runs that resume from their own checkpoint ignore it (the checkpoint holds the weights).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from mner.model_files import read_json_file, read_safetensors

LABEL_INDEXED = ("head.",)  # parameters whose rows or columns are labels


def initialise_from(model: nn.Module, source: str | Path, labels: list[str], log: Callable[[str], None]) -> int:
    """Copy the matching tensors of `source` (a run folder or model directory) into `model`;
    returns how many were copied. `ValueError` naming `train.init_from` when none fit."""
    from mner.predict import resolve_model_dir  # lazy, as the exporters import it

    try:
        directory = resolve_model_dir(source)
    except FileNotFoundError as err:
        raise ValueError(f"train.init_from: {err}") from None
    weights = read_safetensors(directory / "model.safetensors")
    same_labels = list(read_json_file(directory / "labels.json")) == list(labels)
    own = model.state_dict()
    copied: dict[str, torch.Tensor] = {}
    misshapen, head_kept = [], []
    for name, tensor in own.items():
        theirs = weights.get(name)
        if theirs is None:
            continue
        if theirs.shape != tensor.shape or theirs.dtype.is_floating_point != tensor.dtype.is_floating_point:
            misshapen.append(name)
        elif name.startswith(LABEL_INDEXED) and not same_labels:
            head_kept.append(name)
        else:
            copied[name] = theirs.to(tensor.dtype)
    if not copied:
        raise ValueError(f"train.init_from: no tensor of {directory / 'model.safetensors'} fits this model "
                         f"({len(misshapen)} share a name but not a shape): is it another encoder?")
    model.load_state_dict(copied, strict=False)
    log(f"initialised {len(copied)} of {len(own)} tensors from {directory}"
        + (f"; {len(misshapen)} of another shape kept fresh (e.g. {misshapen[0]})" if misshapen else "")
        + ("; the tagging head starts afresh (the labels differ)" if head_kept else ""))
    return len(copied)
