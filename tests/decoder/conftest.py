"""Fixtures of the decoder tests: tiny random Llama / Qwen2 decoders on disk, a few labelled posts."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a mistyped local path must fail at once, not retry the hub
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session", autouse=True)
def _quiet() -> None:
    from mner._quiet import quiet_transformers

    quiet_transformers()


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny_decoders import write_tiny_decoder

    return write_tiny_decoder(tmp_path_factory.mktemp("tiny-llama"), "llama")


@pytest.fixture(scope="session")
def tiny_qwen_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny_decoders import write_tiny_decoder

    return write_tiny_decoder(tmp_path_factory.mktemp("tiny-qwen2"), "qwen2")


@pytest.fixture(params=["llama", "qwen2"])
def tiny_decoder_dir(request: pytest.FixtureRequest) -> Path:
    return request.getfixturevalue("tiny_llama_dir" if request.param == "llama" else "tiny_qwen_dir")
