"""DynamicBatcher on its own: batches bounded by size, requests never split, one bad request
failing alone, and max_batch=1 running requests one at a time."""

from __future__ import annotations

import asyncio

import pytest

from mner.data.post import Post
from mner.serve.batcher import DynamicBatcher


def posts(n: int, tag: str) -> list[Post]:
    return [Post(id=f"{tag}{i}", tokens=[tag]) for i in range(n)]


def run(coro):
    return asyncio.run(coro)


def test_waiting_requests_are_batched_up_to_max_batch_without_splitting_a_request():
    batches: list[list[str]] = []

    def predict(items: list[Post]) -> list[str]:
        batches.append([p.id for p in items])
        return [p.id.upper() for p in items]

    async def main():
        batcher = DynamicBatcher(predict, max_batch=4, max_wait_ms=50)
        await batcher.start()
        results = await asyncio.gather(*(batcher.run(posts(n, tag)) for n, tag in [(2, "a"), (1, "b"), (3, "c"), (1, "d")]))
        await batcher.stop()
        return results

    results = run(main())
    assert results == [["A0", "A1"], ["B0"], ["C0", "C1", "C2"], ["D0"]]
    assert all(len(b) <= 4 for b in batches)
    assert batches[0] == ["a0", "a1", "b0"]  # c (3 posts) did not fit: it starts the next batch whole
    assert batches[1] == ["c0", "c1", "c2", "d0"]


def test_max_batch_one_runs_each_request_alone():
    sizes: list[int] = []

    def predict(items):
        sizes.append(len(items))
        return [None] * len(items)

    async def main():
        batcher = DynamicBatcher(predict, max_batch=1, max_wait_ms=0)
        await batcher.start()
        await asyncio.gather(*(batcher.run(posts(1, str(i))) for i in range(5)))
        await batcher.stop()

    run(main())
    assert sizes == [1] * 5


def test_a_failing_request_fails_alone_and_its_batch_mates_get_their_answers():
    def predict(items):
        if any(p.id.startswith("bad") for p in items):
            raise ValueError("this post breaks the model")
        return [p.id for p in items]

    async def main():
        batcher = DynamicBatcher(predict, max_batch=8, max_wait_ms=50)
        await batcher.start()
        results = await asyncio.gather(batcher.run(posts(1, "ok")), batcher.run(posts(1, "bad")),
                                       batcher.run(posts(2, "fine")), return_exceptions=True)
        after = await batcher.run(posts(1, "later"))
        await batcher.stop()
        return results, after

    results, after = run(main())
    assert results[0] == ["ok0"] and results[2] == ["fine0", "fine1"]
    assert isinstance(results[1], ValueError)
    assert after == ["later0"]


def test_the_model_runs_off_the_event_loop():
    """While a slow forward pass runs in the worker thread, the loop keeps serving other coroutines."""
    import threading
    import time

    loop_thread = []

    def predict(items):
        loop_thread.append(threading.current_thread().name)
        time.sleep(0.2)
        return [None] * len(items)

    async def main():
        batcher = DynamicBatcher(predict, max_batch=2, max_wait_ms=0)
        await batcher.start()
        task = asyncio.create_task(batcher.run(posts(1, "x")))
        ticks = 0
        while not task.done():
            ticks += 1
            await asyncio.sleep(0.01)
        await batcher.stop()
        return ticks

    assert run(main()) >= 5
    assert loop_thread[0].startswith("mner-infer")


@pytest.mark.parametrize("kwargs", [{"max_batch": 0}, {"max_wait_ms": -1}])
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        DynamicBatcher(lambda items: items, **kwargs)
