"""Measure `mner augment` for BENCHMARKS.md: OCR per image, and knowledge throughput against
the local replay server (requests/s by concurrency, then the cache on a rerun).

    OMP_NUM_THREADS=1 python scripts/bench_augment.py ocr ../shared/data/images --threads 1
    python scripts/bench_augment.py throughput --posts 240 --delay 0.05 --concurrency 1 4 16

Prints markdown tables (and writes them as JSON with --json FILE). The replay server
answers every request after `--delay` seconds, standing in for a model's generation time,
so the figures measure mner's client side: concurrency, retries, cache, writing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def machine() -> str:
    from mner.cpu import cpu_flags

    flags = " ".join(sorted(f for f in cpu_flags() if f.startswith(("avx512", "amx", "avx2"))))
    return (f"{platform.processor() or platform.machine()}, nproc {os.cpu_count()}, load average "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}, flags: {flags}")


def bench_ocr(images_dir: Path, threads: int | None) -> dict:
    from PIL import Image

    from mner.augment.image_files import list_images
    from mner.augment.ocr import RapidOCRReader

    started = time.perf_counter()
    reader = RapidOCRReader(threads=threads)
    load_s = time.perf_counter() - started
    rows = []
    for path in list_images([images_dir]):
        with Image.open(path) as image:
            size = f"{image.width}x{image.height}"
        started, cpu_started = time.perf_counter(), time.process_time()
        found = reader.describe(path)
        rows.append({"image": path.name, "size": size, "seconds": round(time.perf_counter() - started, 3),
                     "cpu_s": round(time.process_time() - cpu_started, 3),
                     "lines": len(found["lines"]), "text": found["text"].replace("\n", " / ")})
    seconds = sorted(r["seconds"] for r in rows)
    print("| image | size | wall s | CPU s | lines | text found |\n|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['image']} | {r['size']} | {r['seconds']:.2f} | {r['cpu_s']:.2f} | {r['lines']} | "
              f"{r['text'][:90]} |")
    summary = {"engine": reader.name, "threads": threads, "load_s": round(load_s, 2), "images": len(rows),
               "with_text": sum(r["lines"] > 0 for r in rows), "median_s": seconds[len(seconds) // 2],
               "mean_s": round(sum(seconds) / len(seconds), 3), "max_s": seconds[-1],
               "cpu_median_s": sorted(r["cpu_s"] for r in rows)[len(rows) // 2],
               "cpu_total_s": round(sum(r["cpu_s"] for r in rows), 2), "machine": machine()}
    print("\n" + json.dumps(summary))
    return {"rows": rows, "summary": summary}


def bench_throughput(n_posts: int, delay_s: float, levels: list[int]) -> dict:
    from mner.augment.cache import AnswerCache
    from mner.augment.chat import ChatClient
    from mner.augment.knowledge import generate_knowledge
    from mner.augment.replay_server import ReplayServer
    from mner.data.readers import read_posts

    samples = ROOT / "src" / "mner" / "samples"
    train = read_posts(samples / "train.jsonl")
    posts = train[:n_posts]
    pool = train[n_posts:]
    rows = []
    with tempfile.TemporaryDirectory() as tmp, ReplayServer(delay_s=delay_s) as server:
        for level in levels:
            cache_path = Path(tmp) / f"cache-{level}.sqlite"
            client = ChatClient(server.base_url, "replay", concurrency=level, timeout_s=30)
            first = generate_knowledge(posts, Path(tmp) / f"k-{level}.jsonl", client, AnswerCache(cache_path),
                                       examples=pool, shots=4, concurrency=level, progress=False)
            again = generate_knowledge(posts, Path(tmp) / f"k-{level}.jsonl", client, AnswerCache(cache_path),
                                       examples=pool, shots=4, concurrency=level, progress=False)
            a, b = first.stats.to_dict(), again.stats.to_dict()
            rows.append({"concurrency": level, "posts": len(posts), "seconds": a["seconds"],
                         "requests_per_s": a["requests_per_s"], "rerun_seconds": b["seconds"],
                         "rerun_cache_hit_rate": b["cache_hit_rate"], "rerun_requests": b["asked"]})
            client.close()
    print(f"server delay {delay_s} s per answer, {len(posts)} posts, 4 shots each (TF-IDF over {len(pool)} examples)")
    print("| concurrency | first run s | requests/s | rerun s | rerun cache hit rate | rerun requests |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['concurrency']} | {r['seconds']:.2f} | {r['requests_per_s']:.1f} | {r['rerun_seconds']:.2f} | "
              f"{100 * r['rerun_cache_hit_rate']:.0f}% | {r['rerun_requests']} |")
    print(machine())
    return {"rows": rows, "delay_s": delay_s, "machine": machine()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    ocr = sub.add_parser("ocr")
    ocr.add_argument("images", type=Path)
    ocr.add_argument("--threads", type=int, default=None)
    tp = sub.add_parser("throughput")
    tp.add_argument("--posts", type=int, default=240)
    tp.add_argument("--delay", type=float, default=0.05)
    tp.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    result = bench_ocr(args.images, args.threads) if args.what == "ocr" else \
        bench_throughput(args.posts, args.delay, args.concurrency)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
