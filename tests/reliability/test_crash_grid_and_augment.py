"""Interrupted `mner experiment` and `mner augment` resume without duplicating or losing an item.

Both run in a child process that SIGKILLs itself at a named crash point
(`mner.crash_points`); the rerun of the same command must finish the work,
reuse what was finished, and never ask or train anything twice.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from crash_runs import KILLED, run_mner
from mner.augment.cache import AnswerCache
from mner.augment.replay_server import ReplayServer
from mner.data.readers import read_posts, write_posts
from posts_factory import make_posts

CHAT_POSTS = Path(__file__).parents[1] / "fixtures" / "chat" / "posts.jsonl"


@pytest.mark.slow  # three child processes of a tiny model
def test_killed_grid_resumes_each_run_once(tmp_path: Path, tiny_bert_dir: Path) -> None:
    write_posts(make_posts(6), tmp_path / "train.jsonl")
    base = {"data": {"format": "jsonl", "train": str(tmp_path / "train.jsonl"), "dev": str(tmp_path / "train.jsonl")},
            "model": {"encoder": {"name": "encoder.hf.v1", "model": str(tiny_bert_dir)}},
            "train": {"epochs": 2, "batch_size": 2, "patience": 0, "threads": 1}}
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(base))
    grid = {"base": "base.yaml", "output_dir": str(tmp_path / "grid"), "seeds": [1, 2, 3], "variants": {"crf": []},
            "ledger": str(tmp_path / "ledger.json")}
    (tmp_path / "grid.yaml").write_text(yaml.safe_dump(grid))
    args = ["experiment", str(tmp_path / "grid.yaml")]

    first = run_mner(args, crash_at="grid.run_done:1")  # killed right after seed 1 finished
    assert first.returncode == KILLED, first.stderr[-2000:]
    seed1 = tmp_path / "grid" / "crf" / "seed-1"
    finished_at = (seed1 / "summary.json").stat().st_mtime_ns
    second = run_mner(args, crash_at="train.step:5")  # killed in seed 2's second epoch
    assert second.returncode == KILLED, second.stderr[-2000:]
    assert not (tmp_path / "grid" / "crf" / "seed-2" / "summary.json").exists()
    last = run_mner(args)
    assert last.returncode == 0, last.stderr[-2000:]

    assert (seed1 / "summary.json").stat().st_mtime_ns == finished_at  # reused, not retrained
    ledger = json.loads((tmp_path / "ledger.json").read_text())["runs"]
    assert sorted(ledger) == ["crf/seed-1", "crf/seed-2", "crf/seed-3"]
    for seed in (1, 2, 3):
        rows = list(csv.DictReader((tmp_path / "grid" / "crf" / f"seed-{seed}" / "metrics.csv").open()))
        assert [int(r["epoch"]) for r in rows] == [1, 2]  # no epoch lost or trained twice
    table = (tmp_path / "grid" / "results.md").read_text()
    assert any(line.startswith("| crf") and "| 3 |" in line for line in table.splitlines()), table


def test_killed_augment_resumes_from_its_cache(tmp_path: Path) -> None:
    out = tmp_path / "knowledge.jsonl"
    posts = read_posts(CHAT_POSTS)
    with ReplayServer() as server:
        args = ["augment", "knowledge", str(CHAT_POSTS), "--to", str(out), "--endpoint", server.base_url,
                "--model", "m", "--quiet", "--concurrency", "1", "--retries", "0"]
        killed = run_mner(args, crash_at="augment.answer:3")  # the third answer is committed, then kill -9
        assert killed.returncode == KILLED, killed.stderr[-2000:]
        assert not out.exists()  # written atomically at the end: no half file
        cache = AnswerCache(out.with_name(out.name + ".cache.sqlite"))
        assert len(cache) == 3  # every committed answer survived the kill
        cache.close()
        asked_before = sum(server.requests.values())
        done = run_mner(args)
        assert done.returncode == 0, done.stderr[-2000:]
        asked_after = sum(server.requests.values())
    assert asked_before == 3 and asked_after - asked_before == len(posts) - 3  # nothing asked twice
    ids = [json.loads(line)["image_id"] for line in out.read_text().splitlines()]
    assert ids == [p.id for p in posts]  # every post once, in input order
