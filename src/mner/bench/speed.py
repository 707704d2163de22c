"""Inference speed, peak memory and size on disk of one system.

Every system is measured the same way, through a `predict(posts, batch_size)` callable
built by `load()` inside the measurement (so the model's own memory is counted):
  * batch-64 throughput: the dev set sorted by length (minimal padding) in batches of
    64, one call; median of `repeats` passes. `mner bench` then times all systems again
    in turns (`interleaved_throughput`) and reports that figure. The first pass also
    fills mner's per-word tokenization cache, so with repeats >= 3 the median is a warm pass.
  * batch-1 latency: the first `n_b1` dev posts (in file order: a realistic length
    mix), one call each, after `warmup` untimed calls; p50 and p95 in milliseconds.
    Each call includes featurization and decoding: what one request costs.
  * peak memory: the process's peak resident set size (Linux VmHWM in
    /proc/self/status), reset at the start with `echo 5 > /proc/self/clear_refs`, so it
    is this block's peak: `peak_rss_mb` (whole process: Python, torch, the model,
    activations) and `peak_delta_mb` (that peak minus the RSS at the start: the
    model's load plus inference). Not tracemalloc, which does not see torch's C++
    allocations. Where the reset is not allowed, ru_maxrss (the process's lifetime
    peak) is reported and `peak_resettable` is false.
  * size on disk: every file of the model directory, MB = 10^6 bytes.
All timings are wall clock (`time.perf_counter`) on the current torch thread count.
"""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mner.data.post import Post

Predict = Callable[[list[Post], int], Any]


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
        return True
    except OSError:
        return False


class PeakRss:
    """`with PeakRss() as mem: ...` then mem.peak_mb, mem.delta_mb, mem.resettable."""

    def __enter__(self) -> "PeakRss":
        self.resettable = _reset_peak()
        self.start_mb = (_status_kb("VmRSS") or 0) / 1024
        self.peak_mb = self.delta_mb = 0.0
        return self

    def __exit__(self, *exc: Any) -> None:
        hwm = _status_kb("VmHWM") if self.resettable else None
        # ru_maxrss is in KiB on Linux
        self.peak_mb = (hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024
        self.delta_mb = max(0.0, self.peak_mb - self.start_mb)


def size_mb(path: str | Path) -> float:
    path = Path(path)
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), without numpy."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class SpeedResult:
    posts_per_s_b64: float
    p50_ms_b1: float
    p95_ms_b1: float
    n_b64: int
    n_b1: int
    peak_rss_mb: float
    peak_delta_mb: float
    peak_resettable: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def throughput(predict: Predict, posts: list[Post], batch_size: int = 64, repeats: int = 1) -> float:
    ordered = sorted(posts, key=lambda p: len(p.tokens))  # length-sorted: minimal padding
    passes = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        predict(ordered, batch_size)
        passes.append(time.perf_counter() - start)
    return len(ordered) / statistics.median(passes)


def interleaved_throughput(systems: dict[str, tuple[Predict, list[Post]]], batch_size: int = 64,
                           rounds: int = 3) -> dict[str, float]:
    """Batch-`batch_size` posts/s of several loaded systems, timed in turns: one pass of each
    per round, the order rotated every round, the median pass per system.

    Why in turns: on a shared machine the speed available drifts by 10-20% over minutes,
    and systems timed one after the other each meet a different part of that drift; in
    turns every system samples the same minutes, so their ratios hold even when the
    absolute figures move.
    """
    ordered = {name: sorted((p for p in posts if p.tokens), key=lambda p: len(p.tokens))
               for name, (_, posts) in systems.items()}  # each system's own posts (visual text differs)
    names = list(systems)
    passes: dict[str, list[float]] = {name: [] for name in names}
    for name in names:  # untimed: lazy work and caches, as in measure_speed
        systems[name][0](ordered[name][:batch_size], batch_size)
    for r in range(max(1, rounds)):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            systems[name][0](ordered[name], batch_size)
            passes[name].append(time.perf_counter() - start)
    return {name: len(ordered[name]) / statistics.median(times) for name, times in passes.items()}


def latencies_ms(predict: Predict, posts: list[Post], n: int, warmup: int = 2) -> list[float]:
    chosen = posts[:n]
    for post in chosen[:warmup]:
        predict([post], 1)
    out = []
    for post in chosen:
        start = time.perf_counter()
        predict([post], 1)
        out.append(1000.0 * (time.perf_counter() - start))
    return out


def measure_speed(load: Callable[[], Predict], posts: list[Post], n_b1: int, batch_size: int = 64,
                  repeats: int = 1) -> SpeedResult:
    """Load a system and time it on `posts` (the dev set); see the module docstring."""
    posts = [p for p in posts if p.tokens]
    with PeakRss() as memory:
        predict = load()
        # untimed: lazy work (int8 weight packing, onnxruntime's arena, first-call dispatch)
        predict(sorted(posts, key=lambda p: len(p.tokens))[:batch_size], batch_size)
        rate = throughput(predict, posts, batch_size, repeats)
        lat = latencies_ms(predict, posts, n_b1)
    return SpeedResult(rate, percentile(lat, 50), percentile(lat, 95), len(posts), len(lat), memory.peak_mb,
                       memory.delta_mb, memory.resettable)


def time_split(model: Any, posts: list[Post], batch_size: int = 64, precision: str = "fp32") -> dict[str, float]:
    """Seconds spent featurizing, in the network (emissions) and decoding, over length-sorted batches.

    For `MnerModel` and `OnnxModel` (anything with batch / emissions / head.decode):
    shows where a batch's time goes, i.e. how much is Python outside the matmuls.
    """
    import torch

    from mner.evaluation import inference_order
    from mner.precision import precision_context

    posts = [p for p in posts if p.tokens]
    split = {"featurize_s": 0.0, "network_s": 0.0, "decode_s": 0.0}
    with torch.inference_mode(), precision_context(precision):
        for ids in inference_order(model, posts, batch_size):  # the batches predict_tags runs
            t0 = time.perf_counter()
            batch = model.batch([posts[i] for i in ids], with_labels=False)
            t1 = time.perf_counter()
            emissions = model.emissions(batch)
            t2 = time.perf_counter()
            model.head.decode(emissions, batch.mask)
            t3 = time.perf_counter()
            split["featurize_s"] += t1 - t0
            split["network_s"] += t2 - t1
            split["decode_s"] += t3 - t2
    return split
