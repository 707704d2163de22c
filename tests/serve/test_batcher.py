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


def words(tag: str, n_words: int, n_posts: int = 1) -> list[Post]:
    return [Post(id=f"{tag}{i}", tokens=["w"] * n_words) for i in range(n_posts)]


def passes_of(pass_size: int, requests: list[list[Post]]) -> tuple[list[list[str]], list[list[str]]]:
    """(the posts of each predict_many call, each request's answer) for requests that all wait in the
    pool together: they are sent while the worker is held inside a first pass."""
    import threading

    passes: list[list[str]] = []
    inside, release = threading.Event(), threading.Event()

    def predict(items: list[Post]) -> list[str]:
        if items[0].id == "hold0":
            inside.set()
            release.wait(10)
        else:
            passes.append([p.id for p in items])
        return [p.id for p in items]

    async def main():
        batcher = DynamicBatcher(predict, max_batch=16, max_wait_ms=0, pass_size=pass_size)
        await batcher.start()
        hold = asyncio.create_task(batcher.run(words("hold", 1)))
        await asyncio.to_thread(inside.wait, 10)
        tasks = [asyncio.create_task(batcher.run(r)) for r in requests]
        await asyncio.sleep(0.05)  # every request is in the pool
        release.set()
        answers = await asyncio.gather(*tasks)
        await hold
        await batcher.stop()
        return answers

    return passes, run(main())


def test_with_a_pass_size_each_pass_is_the_oldest_request_and_the_waiting_ones_nearest_its_length():
    requests = [words("a", 3), words("b", 10), words("c", 4), words("d", 11), words("e", 3), words("f", 10)]
    passes, answers = passes_of(2, requests)
    assert passes == [["a0", "e0"], ["b0", "f0"], ["c0", "d0"]]  # not arrival pairs (a, b), (c, d), (e, f)
    assert answers == [[r[0].id] for r in requests]


def test_a_pass_never_splits_a_request_and_fills_up_with_a_smaller_one_that_fits():
    requests = [words("x", 5), words("y", 5, n_posts=3), words("z", 9)]
    passes, answers = passes_of(3, requests)
    assert passes == [["x0", "z0"], ["y0", "y1", "y2"]]  # y (3 posts) did not fit beside x; z did
    assert answers == [["x0"], ["y0", "y1", "y2"], ["z0"]]


def test_lengths_are_measured_in_the_worker_thread_never_on_the_event_loop():
    """Measuring runs the model's tokenizer, which must not run in two threads at once."""
    import threading

    measured_in: list[str] = []

    def length(items: list[Post]) -> list[int]:
        measured_in.append(threading.current_thread().name)
        return [len(p.tokens) for p in items]

    async def main():
        batcher = DynamicBatcher(lambda items: [p.id for p in items], max_batch=8, max_wait_ms=20, pass_size=2,
                                 length=length)
        await batcher.start()
        answers = await asyncio.gather(*(batcher.run(words(str(i), i + 1)) for i in range(5)))
        await batcher.stop()
        return answers

    assert run(main()) == [[f"{i}0"] for i in range(5)]
    assert measured_in and all(name.startswith("mner-infer") for name in measured_in)


def test_a_length_that_fails_falls_back_to_word_counts_and_the_worker_keeps_serving():
    def length(items: list[Post]) -> list[int]:
        raise UnicodeError("a tokenizer that cannot read this post")

    async def main():
        batcher = DynamicBatcher(lambda items: [p.id for p in items], max_batch=8, max_wait_ms=5, pass_size=2,
                                 length=length)
        await batcher.start()
        # a worker thread killed by the error would leave these waiting forever: fail after 10 s instead
        first = await asyncio.wait_for(asyncio.gather(*(batcher.run(words(str(i), i + 1)) for i in range(3))), 10)
        later = await asyncio.wait_for(batcher.run(words("later", 2)), 10)
        await batcher.stop()
        return first, later

    assert run(main()) == ([["00"], ["10"], ["20"]], ["later0"])
