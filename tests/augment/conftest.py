from __future__ import annotations

import json
from pathlib import Path

import pytest

CHAT_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "chat"


@pytest.fixture
def chat_fixtures() -> Path:
    return CHAT_FIXTURES


def recorded_rules(name: str) -> list[dict]:
    return json.loads((CHAT_FIXTURES / name).read_text(encoding="utf-8"))["rules"]


@pytest.fixture
def fixture_posts():
    from mner.data.readers import read_posts

    return read_posts(CHAT_FIXTURES / "posts.jsonl")
