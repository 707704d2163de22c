"""Seconds per item of what the app does when it first opens an item: OCR of an image, and the
model's pre-tagging of one post (one post per call, as the page asks for them: no batching).

`mner annotate speed --images DIR [--model RUN --data FILE]` prints both; BENCHMARKS.md has the figures.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mner.data.post import Post


def timed(calls: Sequence[Callable[[], Any]], warm_up: int = 1) -> dict[str, float]:
    """Median and mean seconds per call (after `warm_up` untimed calls: the first loads models)."""
    for call in calls[:warm_up]:
        call()
    seconds = []
    for call in calls:
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return {"items": len(seconds), "median_s": round(statistics.median(seconds), 4),
            "mean_s": round(statistics.fmean(seconds), 4), "max_s": round(max(seconds), 4)}


def ocr_seconds(images: Sequence[Path], reader: Any) -> dict[str, float]:
    words: dict[Path, int] = {}  # by image: the warm-up reads the first one twice

    def read(path: Path) -> Callable[[], None]:
        def call() -> None:
            words[path] = len(reader.describe(path)["text"].split())
        return call

    result = timed([read(p) for p in images])
    result["words_per_image"] = round(sum(words.values()) / max(len(words), 1), 1)
    return result


def pretag_seconds(tagger: Any, posts: Sequence[Post]) -> dict[str, float]:
    bare = [Post(id=p.id, tokens=p.tokens, images=p.images, visual_text=p.visual_text) for p in posts]
    result = timed([lambda post=post: tagger.predict_many([post]) for post in bare])
    result["words_per_post"] = round(sum(len(p.tokens) for p in posts) / max(len(posts), 1), 1)
    return result
