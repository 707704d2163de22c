"""A short timing of each candidate precision on synthetic posts of the model's typical length.

Posts: words of the bundled sample posts (tweet-like, ours), cut to the typical length
of the posts the model was trained on (the median of its training file when the saved
config names a readable one, else 16 words: Twitter-2017 train averages 15.7), and, for
a model that reads visual text (a caption or knowledge segment), a visual text of that
kind. Images are not synthesised: a pixel model is timed on its text path.

Timing: one untimed warm-up pass per candidate over one batch of 32 posts (first-call
costs: oneDNN kernel selection, the int8 weights' packing), then up to 3 rounds (fewer
once 4 timed seconds are spent) in which every candidate runs one pass in turn. Interleaving matters on a shared machine: a burst of someone
else's load hits every candidate, not the one that happened to run then. Each
candidate is scored by its median pass.
"""

from __future__ import annotations

import copy
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from mner.data.post import Post
from mner.precision_choice.candidates import is_int8_model
from mner.precision_choice.choice import Timing

DEFAULT_WORDS = 16
CALIBRATION_POSTS = 32
WARMUP = 1
REPEATS = 3
BUDGET_S = 4.0  # timed seconds after which no further round starts
VISUAL_TEXT_WORDS = 48


def sample_words() -> list[str]:
    from mner.samples import sample_path

    words: list[str] = []
    with open(sample_path("train"), encoding="utf-8") as handle:
        for line in handle:
            words += json.loads(line)["tokens"]
    return words


def typical_words(model: Any, limit: int = 2000) -> int:
    """Median words per post of the model's training file, if its saved config names a readable one."""
    train = (((getattr(model, "config", None) or {}).get("data") or {}).get("train"))
    if not isinstance(train, str):
        return DEFAULT_WORDS
    try:
        from mner.data.readers import read_posts

        lengths = [len(p.tokens) for p in read_posts(train)[:limit] if p.tokens]
    except (OSError, ValueError):  # moved, or a user's machine without the training data
        return DEFAULT_WORDS
    return int(statistics.median(lengths)) if lengths else DEFAULT_WORDS


def synthetic_posts(words_per_post: int, count: int = CALIBRATION_POSTS,
                    visual_text_fields: tuple[str, ...] = ()) -> list[Post]:
    """`count` posts of `words_per_post` words each, cut from the bundled samples at different offsets."""
    words = sample_words()
    posts = []
    for i in range(count):
        start = (i * 7) % len(words)
        tokens = [words[(start + k) % len(words)] for k in range(words_per_post)]
        text = " ".join(words[(start + k) % len(words)] for k in range(VISUAL_TEXT_WORDS))
        posts.append(Post(id=f"calibration-{i}", tokens=tokens, visual_text={f: text for f in visual_text_fields}))
    return posts


def time_candidates(runners: dict[str, Callable[[], None]], posts: int, timer: Callable[[], float] = time.perf_counter,
                    warmup: int = WARMUP, repeats: int = REPEATS, budget_s: float = BUDGET_S) -> list[Timing]:
    """Time one pass of each runner `repeats` times, interleaved, after `warmup` untimed passes each.

    After the first timed round, another round starts only while the timed rounds have
    used less than `budget_s`: on a loaded machine (or a big model) the calibration stays
    short, on fewer passes.
    """
    for run in runners.values():
        for _ in range(warmup):
            run()
    seconds: dict[str, list[float]] = {name: [] for name in runners}
    for round_index in range(repeats):
        if round_index and sum(map(sum, seconds.values())) >= budget_s:
            break
        for name, run in runners.items():
            start = timer()
            run()
            seconds[name].append(timer() - start)
    return [Timing(name, posts, tuple(seconds[name])) for name in runners]


def model_at(model: Any, precision: str) -> Any:
    """The model a Tagger at `precision` runs: the same one (fp32, bf16) or an int8 copy."""
    if precision != "int8" or is_int8_model(model):
        return model
    from mner.export.int8 import quantize_model

    quantized = copy.deepcopy(model)
    quantize_model(quantized)
    return quantized


def autocast_of(precision: str) -> str:
    """int8 models run their float parts in fp32; bf16 is autocast."""
    return "bf16" if precision == "bf16" else "fp32"


def calibrate(model: Any, candidates: list[str], batch_size: int = CALIBRATION_POSTS,
              timer: Callable[[], float] = time.perf_counter, words_per_post: int | None = None,
              repeats: int = REPEATS) -> list[Timing]:
    """Time `model` at each candidate precision on one batch of synthetic posts."""
    from mner.evaluation import predict_tags
    from mner.model_inputs import model_inputs

    inputs = model_inputs((getattr(model, "config", None) or {}).get("model") or {})
    fields = tuple(i for i in inputs if i not in ("text", "images", "regions"))
    posts = synthetic_posts(words_per_post or typical_words(model), min(batch_size, CALIBRATION_POSTS), fields)
    models = {c: model_at(model, c) for c in candidates}

    def runner(candidate: str) -> Callable[[], None]:
        return lambda: predict_tags(models[candidate], posts, len(posts), autocast_of(candidate))

    return time_candidates({c: runner(c) for c in candidates}, len(posts), timer, repeats=repeats)
