"""Run many cached, independent requests with at most `concurrency` in flight.

A job is a cache key and a function computing a JSON-able dict. Cached keys are answered
from disk without calling anything, and jobs sharing a key (the same picture under two
names) are asked once; the rest go to a thread pool (the work is I/O bound:
HTTP requests, or one local model behind a lock). Each answer is cached the moment it
arrives. A failed job is reported, not fatal: the others finish and are kept, and a rerun
asks again only for what is missing. Ctrl-C cancels what has not started and re-raises.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from mner.augment.cache import AnswerCache
from mner.crash_points import crash_point


class JobFailure(Exception):
    """Raised by a job for an expected, per-input failure (bad image, request given up)."""


@dataclass
class Job:
    key: str
    run: Callable[[], dict[str, Any]]
    label: str  # names the input in error messages (post id, image path)


@dataclass
class JobResult:
    value: dict[str, Any] | None
    cached: bool
    error: str | None = None


@dataclass
class JobStats:
    total: int = 0
    cached: int = 0
    asked: int = 0
    failed: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "cached": self.cached, "asked": self.asked, "failed": self.failed,
                "seconds": round(self.seconds, 3),
                "cache_hit_rate": round(self.cached / self.total, 4) if self.total else 0.0,
                "requests_per_s": round(self.asked / self.seconds, 3) if self.seconds > 0 and self.asked else 0.0}


def run_jobs(jobs: Sequence[Job], cache: AnswerCache, *, concurrency: int = 4, desc: str = "augment",
             progress: bool = True, errors: tuple[type[BaseException], ...] = (JobFailure,)
             ) -> tuple[list[JobResult], JobStats]:
    """Results in job order, and counts. Exceptions of types `errors` become failed results."""
    import time

    from tqdm.auto import tqdm

    started = time.perf_counter()
    results: list[JobResult | None] = [None] * len(jobs)
    pending: list[int] = []
    twins: dict[int, list[int]] = {}  # first job of a key -> later jobs with the same key (asked once)
    first_of: dict[str, int] = {}
    for i, job in enumerate(jobs):
        if job.key in first_of:
            twins[first_of[job.key]].append(i)
            continue
        first_of[job.key], twins[i] = i, []
        value = cache.get(job.key)
        if value is None:
            pending.append(i)
        else:
            results[i] = JobResult(value, cached=True)
    for first, later in twins.items():
        if results[first] is not None:
            for i in later:
                results[i] = JobResult(results[first].value, cached=True)  # type: ignore[union-attr]
    stats = JobStats(total=len(jobs), cached=sum(r is not None for r in results))
    bar = tqdm(total=len(jobs), initial=stats.cached, desc=desc, unit="req", disable=not progress, leave=False)

    def run_one(i: int) -> dict[str, Any]:
        value = jobs[i].run()
        cache.put(jobs[i].key, value)
        crash_point("augment.answer")
        return value

    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="mner-augment")
    try:
        queue = iter(pending)
        running: dict[Future[dict[str, Any]], int] = {}

        def refill() -> None:
            while len(running) < max(1, concurrency):
                i = next(queue, None)
                if i is None:
                    return
                running[pool.submit(run_one, i)] = i

        refill()
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                i = running.pop(future)
                try:
                    value = future.result()
                    results[i] = JobResult(value, cached=False)
                    stats.asked += 1
                    for twin in twins[i]:  # the same input under another name: answered by this request
                        results[twin] = JobResult(value, cached=True)
                    stats.cached += len(twins[i])
                except errors as err:
                    results[i] = JobResult(None, cached=False, error=f"{jobs[i].label}: {err}")
                    for twin in twins[i]:
                        results[twin] = JobResult(None, cached=False, error=f"{jobs[twin].label}: {err}")
                    stats.failed += 1 + len(twins[i])
                bar.update(1 + len(twins[i]))
                bar.set_postfix(cached=stats.cached, failed=stats.failed, refresh=False)
            refill()
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        bar.close()
        raise
    pool.shutdown(wait=True)
    bar.close()
    stats.seconds = time.perf_counter() - started
    return [r for r in results if r is not None], stats
