"""Checks that many model tests run on a built model: one training step's gradients, and whether a
saved and reloaded copy computes the same emissions (tests/ is on sys.path through tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from mner.checkpoint import from_pretrained, save_pretrained


def backward_step(model: Any, posts: list[Any]) -> tuple[torch.Tensor, dict[str, torch.Tensor | None]]:
    """In train mode: the fused word states (b, w, d) of `posts`, then the loss's backward; returns the
    states and the gradient of every trainable parameter by name (None where none reached it)."""
    model.train()
    batch = model.batch(posts)
    states = model.word_states(batch)  # (b, w, d)
    model.loss(batch).backward()
    return states, {n: p.grad for n, p in model.named_parameters() if p.requires_grad}


def emissions_before_and_after_reload(model: Any, posts: list[Any],
                                      directory: Path) -> tuple[torch.Tensor, torch.Tensor, Any]:
    """Saves `model` (in eval mode) to `directory` and loads it back: (its emissions (b, w, L) on
    `posts`, the reloaded copy's, the reloaded model)."""
    model.eval()
    save_pretrained(model, directory)
    loaded = from_pretrained(directory)
    with torch.no_grad():
        before = model.emissions(model.batch(posts, with_labels=False))
        after = loaded.emissions(loaded.batch(posts, with_labels=False))
    return before, after, loaded
