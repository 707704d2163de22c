"""Ask a chat model for every post's entities, align them, score with `mner.metrics`.

Cost and speed are part of the result: prompt/completion tokens (as the endpoint
reports them; all answers, and those asked in this run) and request latency
(mean, median, 90th percentile; a cached answer keeps the latency it had when asked).
A request that failed after its retries scores as a post with no entities and is
counted in `failed_requests`; a rerun asks only for those (the rest is cached).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mner.augment.backends import Backend
from mner.augment.cache import AnswerCache, cache_key
from mner.augment.examples import ExamplePool
from mner.augment.image_files import content_hash
from mner.augment.jobs import run_jobs
from mner.augment.knowledge import chat_job, post_image, post_label
from mner.data.post import Post
from mner.data.tags import entity_types
from mner.evaluation import score_tags
from mner.llm.align import align_mentions
from mner.llm.answer import parse_answer
from mner.llm.prompts import PROMPT_VERSION, tagging_messages

SHOWN_UNMATCHED = 20


@dataclass
class LlmEvaluation:
    scores: dict[str, Any]
    details: dict[str, Any]
    predictions: list[list[str]]

    def to_dict(self) -> dict[str, Any]:
        return {**self.scores, **self.details}


def dataset_types(posts: Sequence[Post]) -> list[str]:
    found: set[str] = set()
    for post in posts:
        found |= entity_types(post.tags or [])
    return sorted(found) or ["LOC", "MISC", "ORG", "PER"]


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def evaluate_llm(posts: Sequence[Post], backend: Backend, cache: AnswerCache, *, examples: Sequence[Post] = (),
                 shots: int = 0, send_images: bool = False, concurrency: int = 4,
                 progress: bool = True) -> LlmEvaluation:
    if any(p.tags is None for p in posts):
        raise ValueError("mner llm evaluate needs labelled posts (tags)")
    if shots > 0 and not examples:
        raise ValueError(f"--shots {shots} needs --examples TRAIN (labelled posts to choose examples from)")
    types = dataset_types(posts)
    pool = ExamplePool([p for p in examples if p.tokens]) if shots > 0 else None
    jobs = []
    for post in posts:
        image = post_image(post) if send_images and backend.takes_images else None
        placeholder = f"sha256:{content_hash(image)}" if image is not None else None
        messages = tagging_messages(post, pool.nearest(post, shots) if pool else [], types, placeholder)
        key = cache_key("llm-ner", backend.name, PROMPT_VERSION, backend.settings(), messages)
        jobs.append(chat_job(backend, messages, image, key, post_label(post)))
    results, stats = run_jobs(jobs, cache, concurrency=1 if backend.serial else concurrency, desc="llm",
                              progress=progress)

    status = {"valid": 0, "repaired": 0, "invalid": 0}
    mentions = unmatched = unknown = 0
    shown: list[str] = []
    predictions: list[list[str]] = []
    tokens = {"prompt_tokens": 0, "completion_tokens": 0, "prompt_tokens_asked": 0, "completion_tokens_asked": 0}
    latencies: list[float] = []
    failures: list[str] = []
    for post, result in zip(posts, results):
        if result.value is None:
            failures.append(result.error or post_label(post))
            predictions.append(["O"] * len(post.tokens))
            continue
        value = result.value
        for name in ("prompt_tokens", "completion_tokens"):
            tokens[name] += int(value.get(name, 0))
            if not result.cached:
                tokens[f"{name}_asked"] += int(value.get(name, 0))
        latencies.append(float(value.get("latency_s", 0.0)))
        parsed = parse_answer(value["text"])
        status[parsed.status] += 1
        aligned = align_mentions(post.tokens, [(m.text, m.type) for m in parsed.mentions], types)
        mentions += len(parsed.mentions)
        unmatched += len(aligned.unmatched)
        unknown += len(aligned.unknown_type)
        shown += [f"{post.id}: {text!r}" for text in aligned.unmatched][: max(0, SHOWN_UNMATCHED - len(shown))]
        predictions.append(aligned.tags)
    scores = score_tags([list(p.tags or []) for p in posts], predictions)
    details = {
        "posts": len(posts), "model": backend.name, "prompt_version": PROMPT_VERSION, "shots": shots,
        "answers": status, "failed_requests": len(failures), "failures": failures[:SHOWN_UNMATCHED],
        "mentions": mentions, "unmatched_mentions": unmatched, "unmatched_examples": shown,
        "unknown_type_mentions": unknown, **tokens,
        "latency_s": {"mean": round(statistics.fmean(latencies), 4) if latencies else 0.0,
                      "p50": round(percentile(latencies, 0.5), 4), "p90": round(percentile(latencies, 0.9), 4)},
        "requests": stats.to_dict(),
    }
    return LlmEvaluation(scores, details, predictions)
