"""A saved tiny random model and one torch thread for the precision-choice tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))  # bench_helpers.save_tiny_model

from bench_helpers import save_tiny_model  # noqa: E402


@pytest.fixture(autouse=True)
def one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture()
def tiny_model_dir(tiny_bert_dir: Path, tmp_path: Path) -> Path:
    return save_tiny_model(tmp_path / "model", tiny_bert_dir)


@pytest.fixture()
def cache_dir(tmp_path: Path, monkeypatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("MNER_CACHE_DIR", str(directory))
    return directory / "precision"
