"""A saved tiny random model and one torch thread for the precision-choice tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))  # bench_helpers.save_tiny_model

from bench_helpers import save_tiny_model  # noqa: E402


from torch_threads import one_thread  # noqa: E402,F401 - autouse: one torch thread per test


@pytest.fixture()
def tiny_model_dir(tiny_bert_dir: Path, tmp_path: Path) -> Path:
    return save_tiny_model(tmp_path / "model", tiny_bert_dir)


@pytest.fixture()
def cache_dir(tmp_path: Path, monkeypatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("MNER_CACHE_DIR", str(directory))
    return directory / "precision"
