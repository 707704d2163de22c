"""Prediction over a corpus: many input files, any size, one or many processes.

    mner predict RUN --input DIR_OR_GLOB --output DIR [--processes N]

- Each input file gives one output file, `DIR/<its path under the input root>.jsonl`, one
  JSON line per post (`id`, `tokens`, `entities`, `inputs`, as `mner predict --input` writes).
- Outputs are written to a hidden partial file and renamed into place when the input is
  done, so an output that exists is complete: a rerun skips it (delete it to redo it).
- Posts stream through in chunks of `chunk` posts: memory does not grow with the corpus.
- Files are shared among the processes by size (largest first, to the least loaded), a
  deterministic assignment every process computes alike; a file is never split, so many
  smaller files balance better than one huge one (`split -l` it).
- Under a launcher (`torchrun`, `accelerate launch`, what `--processes N` starts) each
  process takes its share (RANK, WORLD_SIZE) and the GPU of its LOCAL_RANK if there is one.

From Python, `predict_records` tags any iterable of post dicts as a stream, e.g. a Hugging
Face `datasets` dataset, sharded with `dataset.shard(num_shards=world_size, index=rank)`.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from mner.distributed.stream import corpus_files, stream_posts
from mner.predict import prediction_record


@dataclass
class CorpusReport:
    files_written: int = 0
    files_skipped: int = 0  # their output existed already
    posts: int = 0
    seconds: float = 0.0


def output_path(input_file: Path, root: Path, output_dir: Path) -> Path:
    try:
        relative = input_file.resolve().relative_to(root.resolve())
    except ValueError:  # a glob reaching outside the root: keep the file name
        relative = Path(input_file.name)
    return output_dir / relative.with_suffix(".jsonl")


def check_distinct_outputs(files: list[Path], root: Path, output_dir: Path) -> None:
    seen: dict[Path, Path] = {}
    for f in files:
        out = output_path(f, root, output_dir)
        if out in seen:
            raise ValueError(f"{seen[out]} and {f} would both be written to {out}: rename one of them")
        seen[out] = f


def assign_files(files: list[Path], world_size: int) -> list[list[Path]]:
    """Files per process: largest first, each to the process with the fewest bytes so far."""
    loads = [0] * world_size
    shares: list[list[Path]] = [[] for _ in range(world_size)]
    for f in sorted(files, key=lambda p: (-p.stat().st_size, str(p))):
        rank = loads.index(min(loads))
        shares[rank].append(f)
        loads[rank] += f.stat().st_size
    return [sorted(s) for s in shares]


def chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def predict_records(tagger: Any, items: Iterable[Any], chunk: int = 256) -> Iterator[dict[str, Any]]:
    """One prediction record per post dict / `Post` / text of `items`, streamed in chunks."""
    from mner.predict import as_post

    index = 0
    for part in chunks(items, chunk):
        posts = [as_post(item, index + i) for i, item in enumerate(part)]
        index += len(posts)
        for post, entities in zip(posts, tagger.predict_many(posts)):
            yield prediction_record(tagger, post, entities)


def predict_file_streaming(tagger: Any, input_file: Path, out: Path, chunk: int = 256,
                           progress: bool = True, position: int = 0) -> int:
    """Tag every post of `input_file` into `out` (atomically); the number of posts."""
    from tqdm.auto import tqdm

    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial-{os.getpid()}")
    count = 0
    try:
        with open(partial, "w", encoding="utf-8") as handle, \
                tqdm(total=input_file.stat().st_size, unit="B", unit_scale=True, desc=input_file.name,
                     disable=not progress, position=position, leave=False) as bar:
            read = 0
            for part in chunks(stream_posts(input_file), chunk):
                posts = [p for p, _ in part]
                for post, entities in zip(posts, tagger.predict_many(posts)):
                    handle.write(json.dumps(prediction_record(tagger, post, entities), ensure_ascii=False)
                                 + "\n")
                count += len(posts)
                bar.update(part[-1][1] - read)
                read = part[-1][1]
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return count


def predict_corpus(tagger: Any, pattern: str | Path, output_dir: Path, rank: int = 0, world_size: int = 1,
                   chunk: int = 256, progress: bool = True, log: Any = print) -> CorpusReport:
    """Tag this process's share of the corpus `pattern` (a directory, a glob or a file)."""
    started = time.perf_counter()
    root, files = corpus_files(pattern)
    check_distinct_outputs(files, root, output_dir)
    report = CorpusReport()
    for input_file in assign_files(files, world_size)[rank]:
        out = output_path(input_file, root, output_dir)
        if out.exists():
            report.files_skipped += 1
            continue
        report.posts += predict_file_streaming(tagger, input_file, out, chunk, progress, rank)
        report.files_written += 1
    report.seconds = time.perf_counter() - started
    log(f"[process {rank + 1}/{world_size}] {report.files_written} files ({report.posts} posts) written, "
        f"{report.files_skipped} already done, in {report.seconds:.1f}s")
    return report
