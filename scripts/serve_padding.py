"""Why `mner serve` cuts a dynamic batch into length-sorted forward passes (BENCHMARKS.md, "mner serve").

Posts per CPU second of `Tagger.predict_many` on one torch thread: over all posts at once (sorted by
length inside, as offline use is) and over consecutive chunks of 32 in file order (what a server's
dynamic batch holds), for several tagger batch sizes (= `mner serve --forward-batch`).

    python scripts/serve_padding.py RUN_DIR ../shared/data/twitter2017/valid.txt
"""

from __future__ import annotations

import sys
import time

import torch

from mner.data.loading import load_posts
from mner.export import load_tagger


def main(run_dir: str, data: str, chunk: int = 32) -> None:
    torch.set_num_threads(1)
    posts = [p for p in load_posts(data) if p.tokens]
    print(f"| forward batch | chunks of {chunk} in arrival order, posts per CPU s | all posts sorted, posts per CPU s |")
    print("|---:|---:|---:|")
    for batch_size in (32, 16, 8, 4):
        tagger = load_tagger(run_dir, batch_size=batch_size)
        tagger.predict_many(posts[:chunk])  # warm-up
        start = time.process_time()
        for i in range(0, len(posts), chunk):
            tagger.predict_many(posts[i:i + chunk])
        chunked = len(posts) / (time.process_time() - start)
        start = time.process_time()
        tagger.predict_many(posts)
        print(f"| {batch_size} | {chunked:.0f} | {len(posts) / (time.process_time() - start):.0f} |")


if __name__ == "__main__":
    main(*sys.argv[1:3])
