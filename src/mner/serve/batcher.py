"""Dynamic batching: requests that arrive close together share one forward pass.

Each request puts its posts on an asyncio queue with a future. One collector task gathers waiting
requests, up to `max_batch` posts, into a pool: the oldest waits up to `max_wait_ms` for company.
Without `pass_size` the whole pool goes to `predict_many` at once. With `pass_size` (the server's
`forward_batch`) only one forward pass goes: the oldest waiting request plus the waiting requests
whose posts are nearest its length, up to `pass_size` posts; the others stay in the pool, which
requests arriving meanwhile join, and the next pass is picked the same way. Picking by length from
everything waiting pads less than cutting arrival-order batches, and a request answered after one
pass comes back while the rest of the pool still runs, so the load never splits into two cohorts
that take turns (each cohort a half-size batch; BENCHMARKS.md, "mner serve: where the server's CPU
goes"). The oldest request always goes first, so none waits for more than a pool's worth of passes.

`predict_many` runs in a single worker thread (the event loop keeps accepting and parsing requests
meanwhile; one thread, because the model's own intra-op threads already use the cores). A request is
never split. `max_batch=1` (or `max_wait_ms=0` under no load) is plain one-request-at-a-time
serving, the baseline `mner bench-serve` compares against.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from mner.data.post import Post


@dataclass
class _Pending:
    posts: list[Post]
    future: asyncio.Future
    arrived: float  # time.monotonic()
    length: float  # mean length of its posts, for matching passes


class DynamicBatcher:
    def __init__(self, predict_many: Callable[[list[Post]], list[Any]], max_batch: int = 32,
                 max_wait_ms: float = 5.0, on_batch: Callable[[int], None] | None = None,
                 pass_size: int | None = None, length: Callable[[Post], int] = lambda post: len(post.tokens)) -> None:
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
        self._queue: asyncio.Queue[_Pending] | None = None
        self._task: asyncio.Task | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mner-infer")
        self._pool: list[_Pending] = []  # collected, not yet run, oldest first

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._collect_forever(), name="mner-batcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self._executor.shutdown(wait=True)

    async def run(self, posts: list[Post]) -> list[Any]:
        """The model's output for `posts`, computed in some batch with other requests' posts."""
        if self._queue is None:
            raise RuntimeError("the batcher is not started")
        future = asyncio.get_running_loop().create_future()
        length = sum(self.length(post) for post in posts) / max(len(posts), 1)
        await self._queue.put(_Pending(posts, future, time.monotonic(), length))
        return await future

    async def _next_batch(self) -> list[_Pending]:
        assert self._queue is not None
        if not self._pool:
            self._pool.append(await self._queue.get())
        wanted = min(self.pass_size or self.max_batch, self.max_batch)  # posts that make waiting for more pointless
        deadline = self._pool[0].arrived + self.max_wait
        while True:
            size = sum(len(item.posts) for item in self._pool)
            if size >= self.max_batch:
                break
            timeout = deadline - time.monotonic()
            try:
                if size >= wanted or timeout <= 0:
                    item = self._queue.get_nowait()  # whatever is already waiting joins the pool
                else:
                    item = await asyncio.wait_for(self._queue.get(), timeout)
            except (asyncio.QueueEmpty, asyncio.TimeoutError):
                break
            self._pool.append(item)
            if size + len(item.posts) > self.max_batch:
                break  # it waits in the pool for a later batch; a request is never split
        return self._take(wanted, by_length=self.pass_size is not None)

    def _take(self, limit: int, by_length: bool) -> list[_Pending]:
        """The oldest request, then (by_length) the requests nearest its length or (else) the next
        ones in arrival order, while they fit in `limit` posts; they leave the pool."""
        oldest, rest = self._pool[0], self._pool[1:]
        if by_length:
            rest = sorted(rest, key=lambda item: abs(item.length - oldest.length))  # stable: ties by age
        batch, size = [oldest], len(oldest.posts)
        for item in rest:
            if size + len(item.posts) > limit:
                if by_length:
                    continue  # a smaller one further on may still fit
                break
            batch.append(item)
            size += len(item.posts)
        chosen = {id(item) for item in batch}
        self._pool = [item for item in self._pool if id(item) not in chosen]
        return batch

    async def _collect_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._next_batch()
            batch = [item for item in batch if not item.future.cancelled()]  # the client went away
            if not batch:
                continue
            posts = [post for item in batch for post in item.posts]
            self.on_batch(len(posts))
            try:
                outputs = await loop.run_in_executor(self._executor, self.predict_many, posts)
            except Exception as err:  # noqa: BLE001 - one request's fault must not fail the others in its batch
                if len(batch) == 1:
                    if not batch[0].future.done():
                        batch[0].future.set_exception(err)
                else:
                    await self._run_one_by_one(batch)
                continue
            start = 0
            for item in batch:
                if not item.future.done():
                    item.future.set_result(outputs[start:start + len(item.posts)])
                start += len(item.posts)

    async def _run_one_by_one(self, batch: list[_Pending]) -> None:
        loop = asyncio.get_running_loop()
        for item in batch:
            try:
                result = await loop.run_in_executor(self._executor, self.predict_many, item.posts)
            except Exception as err:  # noqa: BLE001 - handed to that request's handler
                if not item.future.done():
                    item.future.set_exception(err)
                continue
            if not item.future.done():
                item.future.set_result(result)
