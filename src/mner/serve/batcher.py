"""Dynamic batching: requests that arrive close together share one forward pass.

Each request puts its posts on an asyncio queue with a future. One collector task takes the first
waiting request, then keeps taking requests until the batch holds `max_batch` posts or `max_wait_ms`
has passed since that first request, and hands all of them to `predict_many` in a single worker
thread (the event loop keeps accepting and parsing requests meanwhile; one thread, because the
model's own intra-op threads already use the cores). `predict_many` sorts the batch by length and
runs it in forward passes of the tagger's batch size (`ServeSettings.forward_batch`). `max_batch=1` (or `max_wait_ms=0` under no load)
is plain one-request-at-a-time serving, the baseline `mner bench-serve` compares against.
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


class DynamicBatcher:
    def __init__(self, predict_many: Callable[[list[Post]], list[Any]], max_batch: int = 32,
                 max_wait_ms: float = 5.0, on_batch: Callable[[int], None] | None = None) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        if max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must be 0 or more, got {max_wait_ms}")
        self.predict_many = predict_many
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000.0
        self.on_batch = on_batch or (lambda size: None)
        self._queue: asyncio.Queue[_Pending] | None = None
        self._task: asyncio.Task | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mner-infer")
        self._carry: _Pending | None = None  # a request that did not fit the last batch

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
        await self._queue.put(_Pending(posts, future))
        return await future

    async def _next_batch(self) -> list[_Pending]:
        assert self._queue is not None
        first = self._carry or await self._queue.get()
        self._carry = None
        batch, size = [first], len(first.posts)
        deadline = time.monotonic() + self.max_wait
        while size < self.max_batch:
            timeout = deadline - time.monotonic()
            try:
                item = self._queue.get_nowait() if timeout <= 0 else await asyncio.wait_for(self._queue.get(), timeout)
            except (asyncio.QueueEmpty, asyncio.TimeoutError):
                break
            if size + len(item.posts) > self.max_batch:
                self._carry = item  # a request is never split: it goes first in the next batch
                break
            batch.append(item)
            size += len(item.posts)
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
