from __future__ import annotations

from pathlib import Path

import pytest

from augment_helpers import CHAT_FIXTURES


@pytest.fixture
def chat_fixtures() -> Path:
    return CHAT_FIXTURES


@pytest.fixture
def fixture_posts():
    from mner.data.readers import read_posts

    return read_posts(CHAT_FIXTURES / "posts.jsonl")
