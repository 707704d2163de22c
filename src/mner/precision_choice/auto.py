"""`precision="auto"`: the precision this host runs this model fastest at, measured once and cached.

    choice = choose_precision(model, model_dir)      # PrecisionChoice: precision, source, timings
    choice.describe()  ->  "fp32 (measured; posts/s: fp32 212, bf16 139, int8 251)"

An explicit precision is returned as it is (source "explicit"): nothing is timed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mner.precision_choice.calibration import CALIBRATION_POSTS, calibrate
from mner.precision_choice.cache import ChoiceCache, host_fingerprint, model_digest
from mner.precision_choice.candidates import AUTO, check_choice, precision_candidates
from mner.precision_choice.choice import MARGIN, PrecisionChoice, pick_fastest

log = logging.getLogger("mner.precision_choice")


def choose_precision(model: Any, model_dir: str | Path, requested: str = AUTO, *,
                     cache: ChoiceCache | None = None, remeasure: bool = False,
                     timer: Callable[[], float] = time.perf_counter, batch_size: int = CALIBRATION_POSTS,
                     flags: set[str] | None = None, margin: float = MARGIN) -> PrecisionChoice:
    """`requested` if explicit; for "auto" the cached or freshly measured fastest candidate."""
    check_choice(requested)
    if requested != AUTO:
        return PrecisionChoice(requested, "explicit")
    candidates = precision_candidates(model, flags)
    if len(candidates) == 1:  # an int8 export, an ONNX model, a host with fp32 only: nothing to time
        choice = PrecisionChoice(candidates[0], "only candidate", candidates=tuple(candidates))
        log.info("precision: %s", choice.describe())
        return choice
    cache = cache or ChoiceCache()
    host, digest = host_fingerprint(), model_digest(model_dir)
    cached = None if remeasure else cache.get(host, digest, candidates)
    if cached is not None:
        log.info("precision: %s", cached.describe())
        return cached
    log.info("precision: timing %s on this host (once; cached in %s)", ", ".join(candidates), cache.directory)
    timings = calibrate(model, candidates, batch_size, timer)
    choice = PrecisionChoice(pick_fastest(timings, margin), "measured", tuple(timings), tuple(candidates))
    try:
        cache.put(host, digest, candidates, choice)
    except OSError as err:  # a read-only home still gets the choice, measured again next time
        log.warning("precision: could not cache the calibration in %s (%s)", cache.directory, err)
    log.info("precision: %s", choice.describe())
    return choice
