"""Reading the files of a saved model so that a damaged one is named, not a traceback.

A model directory can be truncated by a full disk or a killed copy, or edited by
hand. Every loader (`checkpoint.from_pretrained`, the training checkpoint, the
ONNX export) reads its files through these functions, which turn whatever the
parser raises (JSON errors, safetensors' own error type, missing or mismatched
tensors) into a `ModelFileError` -- a `ValueError`, so the CLI's usual handling
prints it -- whose message starts with the file's path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch


class ModelFileError(ValueError):
    """A model file that is unreadable, truncated or does not fit the model; the message starts with its path."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


def read_json_file(path: str | Path) -> Any:
    path = Path(path)
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise ModelFileError(path, "missing") from None
    except UnicodeDecodeError as err:
        raise ModelFileError(path, f"not UTF-8 ({err.reason} at byte {err.start}): damaged?") from None
    except json.JSONDecodeError as err:
        raise ModelFileError(path, f"not valid JSON ({err.msg} at line {err.lineno}, column {err.colno}): "
                                   "truncated or edited?") from None


def read_json_object(path: str | Path) -> dict[str, Any]:
    value = read_json_file(path)
    if not isinstance(value, dict):
        raise ModelFileError(path, f"expected a JSON object, found {type(value).__name__}")
    return value


def read_safetensors(path: str | Path, device: str = "cpu") -> dict[str, torch.Tensor]:
    """Every tensor of a safetensors file (which never runs code: no pickle), or `ModelFileError`."""
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(path, "missing")
    try:
        return load_file(str(path), device=device)
    except Exception as err:  # noqa: BLE001 - safetensors raises its own SafetensorError, not a ValueError
        raise ModelFileError(path, f"not a readable safetensors file ({err}): truncated or damaged?") from None


def load_state_checked(module: torch.nn.Module, state: dict[str, torch.Tensor], path: str | Path) -> None:
    """`module.load_state_dict(state, strict=True)`; a missing, extra or misshapen tensor names `path`."""
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as err:
        first = str(err).strip().splitlines()
        detail = "; ".join(line.strip() for line in first[1:4]) or first[0] if first else ""
        raise ModelFileError(path, f"its tensors do not fit the model its config describes ({detail})") from None


__all__ = ["ModelFileError", "load_state_checked", "read_json_file", "read_json_object", "read_safetensors"]
