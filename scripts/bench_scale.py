"""Sharded corpus prediction: posts/s with 1 and N processes, and peak memory against corpus size.

    python scripts/bench_scale.py --posts 100000 --small 10000 --layouts 1x2 1x1 2x1

Builds (in --workdir) a tiny random BERT (2 layers, hidden 64) with MiniLM's vocabulary and
tokenizer, trains it for one epoch on the bundled samples (a real run folder, CRF head and
word shape as usual), writes generated corpora of --small and --posts posts (JSONL, in
--files files, posts drawn from the bundled samples' words), then times
`mner predict RUN --input CORPUS --output DIR --processes P` for each layout (P processes of
T torch threads each) on each corpus.
Peak memory is GNU time's maximum resident set of the largest process. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "src" / "mner" / "samples"


def tiny_encoder(directory: Path) -> Path:
    from transformers import AutoTokenizer, BertConfig, BertModel

    from mner.presets import resolve_model_name

    if (directory / "config.json").exists():
        return directory
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_name("minilm-l6"))
    tokenizer.save_pretrained(directory)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=128, max_position_embeddings=512)
    import torch

    torch.manual_seed(0)
    BertModel(config, add_pooling_layer=False).save_pretrained(directory)
    return directory


def trained_run(workdir: Path) -> Path:
    from mner.config import load_config
    from mner.training.run import train_run

    run = workdir / "run"
    if (run / "best" / "model.safetensors").exists():
        return run
    shutil.rmtree(run, ignore_errors=True)
    cfg = load_config(None, [f"output_dir={run}", "train.epochs=1", f"data.train={SAMPLES / 'train.jsonl'}",
                             f"data.dev={SAMPLES / 'dev.jsonl'}", "data.format=jsonl"])
    cfg["model"]["encoder"] = {"name": "encoder.hf.v1", "model": str(tiny_encoder(workdir / "encoder"))}
    train_run(cfg, progress_bar=False, log=lambda *_: None)
    return run


def write_corpus(directory: Path, posts: int, files: int, seed: int = 0) -> Path:
    if directory.exists():
        return directory
    words = [json.loads(line)["tokens"] for line in (SAMPLES / "train.jsonl").read_text().splitlines()]
    rng = random.Random(seed)
    tmp = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    per_file = -(-posts // files)
    for f in range(files):
        n = min(per_file, posts - f * per_file)
        with open(tmp / f"part{f:03d}.jsonl", "w", encoding="utf-8") as handle:
            for i in range(n):
                tokens = rng.choice(words)
                handle.write(json.dumps({"id": f"{f}-{i}", "tokens": tokens}) + "\n")
    tmp.rename(directory)
    return directory


def measure(run: Path, corpus: Path, out: Path, processes: int, threads: int) -> dict[str, float]:
    shutil.rmtree(out, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "OMP_NUM_THREADS": str(threads)}  # torchrun would set 1 per process itself
    command = ["/usr/bin/time", "-f", "TIME %e %M", sys.executable, "-m", "mner", "predict", str(run),
               "--input", str(corpus), "--output", str(out), "--processes", str(processes)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode:
        raise SystemExit(result.stderr[-3000:])
    wall, rss_kb = re.findall(r"TIME ([\d.]+) (\d+)", result.stderr)[-1]
    workers = [(int(p), float(s)) for p, s in re.findall(r"\((\d+) posts\) written, \d+ already done, in ([\d.]+)s",
                                                          result.stderr)]
    posts = sum(p for p, _ in workers)
    return {"posts": posts, "wall": float(wall), "work": max(s for _, s in workers), "rss_mb": int(rss_kb) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000, help="a smaller corpus, to show memory does not grow")
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--layouts", nargs="+", default=["1x2", "1x1", "2x1"],
                        help="PROCESSESxTHREADS each, e.g. 1x2 = one process with two torch threads")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/mner-bench-scale"))
    args = parser.parse_args()
    run = trained_run(args.workdir)
    print("| corpus posts | processes x threads | wall s (with start-up) | posts/s (wall) | posts/s (prediction only) "
          "| peak RSS of the largest process |")
    print("|---|---|---|---|---|---|")
    for size in [args.small, args.posts]:
        corpus = write_corpus(args.workdir / f"corpus-{size}", size, args.files)
        for layout in args.layouts:
            processes, threads = (int(x) for x in layout.split("x"))
            m = measure(run, corpus, args.workdir / f"out-{size}-{layout}", processes, threads)
            assert m["posts"] == size, m
            print(f"| {size:,} | {processes} x {threads} | {m['wall']:.1f} | {size / m['wall']:.0f} | {size / m['work']:.0f} "
                  f"| {m['rss_mb']:.0f} MB |", flush=True)


if __name__ == "__main__":
    main()
