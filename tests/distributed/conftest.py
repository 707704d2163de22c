"""Two-process fixtures: a tiny BERT without dropout and labelled posts written to files
(processes started by a launcher read their data from disk, like a user's run)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from distributed_helpers import varied_posts
from posts_factory import make_posts


@pytest.fixture(scope="session")
def tiny_bert_no_dropout(tiny_bert_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny BERT with dropout off, so two processes and one see the same function
    (dropout masks are drawn per process and could never match)."""
    directory = tmp_path_factory.mktemp("tiny-bert-no-dropout")
    shutil.copytree(tiny_bert_dir, directory, dirs_exist_ok=True)
    config = json.loads((directory / "config.json").read_text())
    config.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    (directory / "config.json").write_text(json.dumps(config))
    return directory


@pytest.fixture(scope="session")
def posts_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("posts")
    train, dev = directory / "train.jsonl", directory / "dev.jsonl"
    # 11 posts, batch 4: global batches of 4, 4 and 3 posts; the last splits 2 + 1 over two
    # processes, so unequal parts and their loss shares are exercised
    train.write_text("".join(json.dumps(p.to_dict()) + "\n" for p in varied_posts(11, "t")))
    dev.write_text("".join(json.dumps(p.to_dict()) + "\n" for p in make_posts(5, "d")))
    return train, dev
