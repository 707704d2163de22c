"""`one_thread`: an autouse fixture for test folders whose conftest imports it. Tests check behaviour,
not speed: one torch thread avoids oversubscribing cores that servers and other jobs use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
