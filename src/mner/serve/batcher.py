"""Dynamic batching: requests that arrive close together share one forward pass.

Each request puts its posts, with a future, in a pool that one worker thread serves: the model runs
off the event loop, which keeps accepting and parsing requests meanwhile (one thread, because the
model's own intra-op threads already use the cores). The worker takes the oldest waiting request,
lets it wait up to `max_wait_ms` for company, and chooses a batch from the oldest waiting requests
up to `max_batch` posts. Without `pass_size` the batch is those requests in arrival order. With
`pass_size` (the server's `forward_batch`) it is one forward pass: the oldest request plus the
waiting requests nearest its length (`length`: the server gives the encoder's row width in
subwords; word counts by default), up to `pass_size` posts; the others stay in the pool, requests
arriving meanwhile join it, and the next pass is chosen the same way as soon as this one is done.

Choosing by length from everything waiting pads less than cutting arrival-order batches; answering
a request after its pass, while the rest of the pool still runs, keeps the load from splitting into
two cohorts that take turns (each a half-size batch); and choosing in the worker thread, not on the
event loop, keeps the model from idling while the loop answers the last pass's requests
(BENCHMARKS.md, "mner serve: where the server's CPU goes"). Lengths are measured in the worker
thread too: measuring runs the model's tokenizer, which must never run in two threads at once. The
oldest request always goes first, so none waits for more than a pool's worth of passes. A request
is never split. `max_batch=1` (or `max_wait_ms=0` under no load) is plain one-request-at-a-time
serving, the baseline `mner bench-serve` compares against.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mner.data.post import Post

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    posts: list[Post]
    future: asyncio.Future
    arrived: float  # time.monotonic()
    length: float | None = None  # mean length of its posts, measured in the worker thread


def word_counts(posts: list[Post]) -> list[int]:
    return [len(post.tokens) for post in posts]


class DynamicBatcher:
    def __init__(self, predict_many: Callable[[list[Post]], list[Any]], max_batch: int = 32,
                 max_wait_ms: float = 5.0, on_batch: Callable[[int], None] | None = None,
                 pass_size: int | None = None, length: Callable[[list[Post]], list[int]] = word_counts) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        if pass_size is not None and pass_size < 1:
            raise ValueError(f"pass_size must be at least 1, got {pass_size}")
        if max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must be 0 or more, got {max_wait_ms}")
        self.predict_many = predict_many
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000.0
        self.on_batch = on_batch or (lambda size: None)
        self.pass_size = pass_size
        self.length = length
        self.batch_posts = min(pass_size or max_batch, max_batch)  # posts that make waiting for more pointless
        self._pool: list[_Pending] = []  # waiting, oldest first; guarded by _changed
        self._changed = threading.Condition()
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        self._thread = threading.Thread(target=self._serve_forever, name="mner-infer", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        if self._thread is None:
            return
        with self._changed:
            self._stopping = True
            self._changed.notify()
        await asyncio.to_thread(self._thread.join)  # a pass still running finishes first
        self._thread = None

    async def run(self, posts: list[Post]) -> list[Any]:
        """The model's output for `posts`, computed in some batch with other requests' posts."""
        if self._thread is None:
            raise RuntimeError("the batcher is not started")
        future = asyncio.get_running_loop().create_future()
        with self._changed:
            self._pool.append(_Pending(posts, future, time.monotonic()))
            self._changed.notify()
        return await future

    def _serve_forever(self) -> None:
        while True:
            candidates = self._wait_for_batch()
            if candidates is None:
                return
            self._measure(candidates)
            batch = self._choose(candidates)
            with self._changed:
                chosen = {id(item) for item in batch}
                self._pool = [item for item in self._pool if id(item) not in chosen]
            self._predict(batch)

    def _wait_for_batch(self) -> list[_Pending] | None:
        """The oldest waiting requests, up to `max_batch` posts, once they make a batch or the oldest
        has waited `max_wait`; None when stopping. Requests whose client went away are dropped."""
        with self._changed:
            while True:
                self._pool = [item for item in self._pool if not item.future.cancelled()]
                if self._stopping:
                    return None
                if not self._pool:
                    self._changed.wait()
                    continue
                candidates, size = [], 0
                for item in self._pool:
                    if size >= self.max_batch:
                        break
                    candidates.append(item)
                    size += len(item.posts)
                left = self._pool[0].arrived + self.max_wait - time.monotonic()
                if size >= self.batch_posts or left <= 0:
                    return candidates
                self._changed.wait(left)

    def _measure(self, candidates: list[_Pending]) -> None:
        if self.pass_size is None:
            return
        new = [item for item in candidates if item.length is None]
        if not new:
            return
        posts = [post for item in new for post in item.posts]
        try:
            lengths = self.length(posts)
        except Exception:  # noqa: BLE001 - a length only orders the passes: this thread must live on
            log.exception("measuring post lengths failed; ordering these posts by word count")
            lengths = word_counts(posts)
        start = 0
        for item in new:
            item.length = sum(lengths[start:start + len(item.posts)]) / max(len(item.posts), 1)
            start += len(item.posts)

    def _choose(self, candidates: list[_Pending]) -> list[_Pending]:
        """The oldest request, then, with a pass size, the requests nearest its length, else the next
        ones in arrival order, while they fit in one batch."""
        by_length = self.pass_size is not None
        oldest, rest = candidates[0], candidates[1:]
        if by_length:
            rest = sorted(rest, key=lambda item: abs(item.length - oldest.length))  # stable: ties by age
        batch, size = [oldest], len(oldest.posts)
        for item in rest:
            if size + len(item.posts) > self.batch_posts:
                if by_length:
                    continue  # a smaller one further on may still fit
                break
            batch.append(item)
            size += len(item.posts)
        return batch

    def _predict(self, batch: list[_Pending]) -> None:
        posts = [post for item in batch for post in item.posts]
        self.on_batch(len(posts))
        try:
            outputs = self.predict_many(posts)
        except Exception as err:  # noqa: BLE001 - one request's fault must not fail the others in its batch
            if len(batch) == 1:
                self._answer(batch[0], error=err)
            else:
                for item in batch:
                    self._predict_alone(item)
            return
        start = 0
        for item in batch:
            self._answer(item, outputs[start:start + len(item.posts)])
            start += len(item.posts)

    def _predict_alone(self, item: _Pending) -> None:
        try:
            result = self.predict_many(item.posts)
        except Exception as err:  # noqa: BLE001 - handed to that request's handler
            self._answer(item, error=err)
            return
        self._answer(item, result)

    def _answer(self, item: _Pending, result: Any = None, error: Exception | None = None) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(_settle, item.future, result, error)


def _settle(future: asyncio.Future, result: Any, error: Exception | None) -> None:
    if future.done():  # cancelled: the client went away
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
