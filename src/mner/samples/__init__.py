"""Bundled sample posts: the built-in default dataset for the quickstart.

Small, synthetic and ours (see README.md here); images live in `IMAGES_DIR`
and posts name them relative to it.
"""

from __future__ import annotations

from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parent
IMAGES_DIR = SAMPLES_DIR / "images"
SPLITS = ("train", "dev")


def sample_path(split: str) -> Path:
    """The JSONL file of one split: 'train' or 'dev'."""
    if split not in SPLITS:
        raise ValueError(f"unknown sample split {split!r}; choose from {SPLITS}")
    return SAMPLES_DIR / f"{split}.jsonl"


__all__ = ["IMAGES_DIR", "SAMPLES_DIR", "SPLITS", "sample_path"]
