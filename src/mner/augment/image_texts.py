"""Describe every image of a folder once (captions, OCR): cached by content hash, resumable.

A describer has a `name` (model or engine), `settings()` (what else changes its output)
and `describe(path) -> {"text": ..., ...}`. The same picture under two names is computed
once; a rerun or an interrupted run recomputes nothing already in the cache. The output
file is written atomically at the end, in image order, one line per image:

- ``jsonl``: ``{"image_id", "text", "model", "date", ...}`` (extra fields per describer),
  read by `read_visual_text` (format ``jsonl``) under any name (``caption``, ``ocr``);
- ``blip2``: ``<file name> :<text>`` on one line (captions only; line breaks become spaces).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any, Protocol

from mner.augment.cache import AnswerCache, cache_key, utc_now
from mner.augment.image_files import content_hash
from mner.augment.jobs import Job, JobFailure, run_jobs
from mner.augment.knowledge import AugmentReport
from mner.data.images import ImageError
from mner.data.readers.visual_text import image_id

OUTPUT_FORMATS = ("jsonl", "blip2")


class Describer(Protocol):
    name: str
    kind: str  # "caption" | "ocr": part of the cache key
    serial: bool

    def settings(self) -> dict[str, Any]: ...

    def describe(self, path: Path) -> dict[str, Any]: ...


def describe_job(describer: Describer, path: Path) -> Job:
    key = cache_key(describer.kind, describer.name, describer.settings(), content_hash(path))

    def run() -> dict[str, Any]:
        try:
            value = describer.describe(path)
        except ImageError as err:
            raise JobFailure(str(err)) from None
        return {**value, "date": utc_now()}

    return Job(key=key, run=run, label=str(path))


def output_line(path: Path, value: dict[str, Any], describer: Describer, fmt: str) -> str:
    if fmt == "blip2":
        return f"{path.name} :{' '.join(value['text'].split())}"
    extra = {k: v for k, v in value.items() if k not in ("text", "date")}
    return json.dumps({"image_id": image_id(path.name), "text": value["text"], "model": describer.name,
                       "date": value.get("date"), **extra}, ensure_ascii=False)


def describe_images(images: Sequence[Path], to: str | PathLike[str], describer: Describer, cache: AnswerCache, *,
                    fmt: str = "jsonl", concurrency: int = 1, progress: bool = True) -> AugmentReport:
    from mner.checkpoint import atomic_write_text

    if fmt not in OUTPUT_FORMATS:
        raise ValueError(f"unknown output format {fmt!r}; choose from {OUTPUT_FORMATS}")
    jobs = [describe_job(describer, path) for path in images]
    results, stats = run_jobs(jobs, cache, concurrency=1 if describer.serial else concurrency,
                              desc=describer.kind, progress=progress)
    report = AugmentReport(written=0, stats=stats)
    lines = []
    for path, result in zip(images, results):
        if result.value is None:
            report.failures.append(result.error or str(path))
        else:
            lines.append(output_line(path, result.value, describer, fmt))
    atomic_write_text(Path(to), "".join(f"{line}\n" for line in lines))
    report.written = len(lines)
    return report
