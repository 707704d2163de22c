"""Named points where a test may kill the process, to prove that mner survives a crash there.

``MNER_CRASH_AT=name[:n]`` makes the n-th time (default the first) this process
reaches `crash_point(name)` a SIGKILL of the process itself: no cleanup, no
``finally``, no flush -- what the OOM killer, a power-cut of a container or
``kill -9`` do. Without the variable a crash point costs one dict lookup.

The points (the crash tests in tests/reliability kill at each of them):

- ``train.step``        after an optimiser step, mid-epoch;
- ``metrics.written``   after metrics.csv has the epoch's row, before best/ and checkpoint/ are saved;
- ``<dir>.written``     a model/checkpoint directory written to its temporary sibling, not yet swapped
                        in (``checkpoint.written``, ``best.written``);
- ``<dir>.swap``        between moving the old directory aside and renaming the new one into place
                        (``checkpoint.swap``, ``best.swap``): the one moment the folder is missing;
- ``grid.run_done``     `mner experiment` after a run finished, before the next starts;
- ``augment.answer``    `mner augment` after an answer was committed to the cache.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

CRASH_ENV = "MNER_CRASH_AT"
_hits: Counter[str] = Counter()


def crash_point(name: str) -> None:
    """SIGKILL this process if ``MNER_CRASH_AT`` names this point and this is its n-th hit."""
    wanted = os.environ.get(CRASH_ENV)
    if not wanted:
        return
    target, _, nth = wanted.partition(":")
    if target != name:
        return
    _hits[name] += 1
    if _hits[name] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


__all__ = ["CRASH_ENV", "crash_point"]
