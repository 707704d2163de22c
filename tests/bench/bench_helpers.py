"""Helpers shared by the bench/export tests (imported by name, like tests/visual/visual_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import torch

LABELS = ["O", "B-LOC", "I-LOC", "B-MISC", "I-MISC", "B-ORG", "I-ORG", "B-PER", "I-PER"]


def save_tiny_model(directory: Path, encoder_dir: Path, pooling: str = "first", second_segment: str | list[str] | None = None,
                    word_shape_dim: int = 16) -> Path:
    """An untrained (random) tiny mner model saved as a model directory: enough to compare runtimes."""
    from mner.builders import build_model
    from mner.checkpoint import save_pretrained

    model_cfg = {"encoder": {"name": "encoder.hf.v1", "model": str(encoder_dir), "pooling": pooling,
                             "max_length": 64, "second_max_length": 16 if second_segment else None},
                 "word_shape_dim": word_shape_dim, "head": {"name": "head.crf.v1"}, "dropout": 0.1,
                 "second_segment": second_segment}
    torch.manual_seed(0)
    model = build_model(model_cfg, LABELS)
    model.config = {"model": model_cfg}
    save_pretrained(model, directory, {"epoch": 0, "dev": {}})
    return directory
