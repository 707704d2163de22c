"""Auxiliary knowledge per post (PGIM-style) from a chat model, cached and resumable.

Output: the knowledge JSONL mner reads (`{"image_id", "text"}`, keyed by post id, which
`attach_visual_text` falls back to), plus provenance on every line: `model`,
`prompt_version`, `date` (when the answer was generated, UTC) and `finish_reason`
(`length` means the model hit `max_tokens`; the line is kept and says `"truncated": true`).
The file is written atomically at the end, in input order; the answers live in the cache
as they arrive, so an interrupted run, rerun, asks only for the posts it lacks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from mner.augment.backends import Backend
from mner.augment.cache import AnswerCache, cache_key, utc_now
from mner.augment.chat import ChatError, Message
from mner.augment.examples import ExamplePool
from mner.augment.image_files import content_hash, image_data_url
from mner.augment.jobs import Job, JobFailure, JobStats, run_jobs
from mner.augment.prompts import PROMPT_VERSION, knowledge_messages
from mner.data.images import ImageError
from mner.data.post import Post


@dataclass
class AugmentReport:
    written: int
    stats: JobStats
    failures: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    truncated: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"written": self.written, **self.stats.to_dict(), "failures": self.failures,
                "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "truncated": self.truncated}


def post_image(post: Post) -> Path | None:
    """The first of the post's images that exists on disk."""
    for image in post.images:
        if Path(image).is_file():
            return Path(image)
    return None


def with_image_url(messages: list[Message], url: str) -> list[Message]:
    """The messages with the last turn's image placeholder replaced by the real data URL."""
    last = dict(messages[-1])
    last["content"] = [dict(part, image_url={"url": url}) if part.get("type") == "image_url" else part
                       for part in last["content"]]
    return messages[:-1] + [last]


def chat_job(backend: Backend, messages: list[Message], image: Path | None, key: str, label: str) -> Job:
    def run() -> dict[str, Any]:
        try:
            ready = with_image_url(messages, image_data_url(image)) if image is not None else messages
            reply = backend.complete(ready)
        except (ChatError, ImageError) as err:
            raise JobFailure(str(err)) from None
        return {**reply.to_dict(), "date": utc_now()}

    return Job(key=key, run=run, label=label)


def knowledge_jobs(posts: Sequence[Post], backend: Backend, pool: ExamplePool | None, shots: int,
                   send_images: bool) -> list[Job]:
    jobs = []
    for post in posts:
        examples = pool.nearest(post, shots) if pool is not None else []
        image = post_image(post) if send_images and backend.takes_images else None
        # the key holds the image's content hash where the request will hold its pixels
        placeholder = f"sha256:{content_hash(image)}" if image is not None else None
        messages = knowledge_messages(post, examples, placeholder)
        key = cache_key("knowledge", backend.name, PROMPT_VERSION, backend.settings(), messages)
        jobs.append(chat_job(backend, messages, image, key, label=post_label(post)))
    return jobs


def post_label(post: Post) -> str:
    return f"{post.source.path}:{post.source.line} (post {post.id})" if post.source else f"post {post.id}"


def knowledge_line(post: Post, value: dict[str, Any], model: str) -> dict[str, Any]:
    line = {"image_id": post.id, "text": value["text"].strip(), "model": model, "prompt_version": PROMPT_VERSION,
            "date": value.get("date"), "finish_reason": value.get("finish_reason")}
    if value.get("finish_reason") == "length":
        line["truncated"] = True
    return line


def generate_knowledge(posts: Sequence[Post], to: str | PathLike[str], backend: Backend, cache: AnswerCache, *,
                       examples: Sequence[Post] | None = None, shots: int = 4, send_images: bool = False,
                       concurrency: int = 4, progress: bool = True) -> AugmentReport:
    """Ask for every post's knowledge (cached ones from disk), then write `to` atomically."""
    from mner.checkpoint import atomic_write_text

    pool = ExamplePool([p for p in examples if p.tokens]) if examples else None
    jobs = knowledge_jobs(posts, backend, pool, shots, send_images)
    if backend.serial:  # a local model generates one answer at a time (torch already uses every core)
        concurrency = 1
    results, stats = run_jobs(jobs, cache, concurrency=concurrency, desc="knowledge", progress=progress)
    report = AugmentReport(written=0, stats=stats)
    lines = []
    for post, result in zip(posts, results):
        if result.value is None:
            report.failures.append(result.error or post_label(post))
            continue
        line = knowledge_line(post, result.value, backend.name)
        report.truncated += int(line.get("truncated", False))
        if not result.cached:
            report.prompt_tokens += int(result.value.get("prompt_tokens", 0))
            report.completion_tokens += int(result.value.get("completion_tokens", 0))
        lines.append(json.dumps(line, ensure_ascii=False))
    atomic_write_text(Path(to), "".join(f"{line}\n" for line in lines))
    report.written = len(lines)
    return report
