"""An exclusive lock on a file, held for a `with` block, shared by the processes of one machine.

Used where several `mner experiment` processes (or a grid's seeds) write or build one shared
thing: the grid ledger, a retrieval index, a teacher's cached targets. The first holder does the
work; the others wait and then find it done.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive_lock(lock_path: Path) -> Iterator[None]:
    """Block until this process holds `lock_path` (created if absent); released on leaving the block."""
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
