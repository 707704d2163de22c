"""Helpers shared by the visual tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from mner.data.post import Post

# the benchmark images live beside the repository (../shared/data), never inside it
REAL_IMAGES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "images"


def post(pid: str, images: list[str] | None = None, **kwargs) -> Post:
    return Post(pid, ["a", "post"], images=list(images or []), **kwargs)


@dataclass
class CallCounter:
    calls: int = 0  # backbone forward calls
    images: int = 0  # images in those calls


def count_calls(module: nn.Module) -> CallCounter:
    """Counts the forward calls of `module` (the backbone) and the images it was given."""
    counter = CallCounter()

    def hook(_module: nn.Module, _args: tuple, kwargs: dict, _output: object) -> None:
        counter.calls += 1
        pixels = kwargs.get("pixel_values")
        counter.images += int(pixels.shape[0]) if pixels is not None else 0

    module.register_forward_hook(hook, with_kwargs=True)
    return counter


def save_weights(module: nn.Module, path: Path) -> None:
    """Like the MnerModel checkpoint: one safetensors file of the whole state dict."""
    save_file({k: v.detach().contiguous() for k, v in module.state_dict().items()}, str(path))


def roundtrip(module: nn.Module, directory: Path, rebuild: Callable[[Path], nn.Module]) -> nn.Module:
    """save_assets + weights -> rebuild from the directory alone -> load the weights strictly."""
    directory.mkdir(parents=True, exist_ok=True)
    module.save_assets(directory)
    save_weights(module, directory / "model.safetensors")
    rebuilt = rebuild(directory)
    rebuilt.load_state_dict(load_file(str(directory / "model.safetensors")), strict=True)
    return rebuilt


def grads(module: nn.Module, prefix: str) -> list[torch.Tensor | None]:
    return [p.grad for name, p in module.named_parameters() if name.startswith(prefix)]
