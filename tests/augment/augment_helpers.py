"""Helpers shared by the augment tests (a module of its own: `from conftest import` collides when
several test folders are given to one pytest call)."""

from __future__ import annotations

import json
from pathlib import Path

CHAT_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "chat"


def recorded_rules(name: str) -> list[dict]:
    """The recorded chat answers of a fixture file (replayed by `ReplayServer`)."""
    return json.loads((CHAT_FIXTURES / name).read_text(encoding="utf-8"))["rules"]
