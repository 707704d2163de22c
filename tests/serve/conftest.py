"""A tiny model that has learnt four posts (so its entities are known), and a real uvicorn server
on a free loopback port serving it from a thread of the test process."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))

pytest.importorskip("fastapi", reason="mner serve needs the serve extra: pip install -e '.[serve]'")
uvicorn = pytest.importorskip("uvicorn", reason="mner serve needs the serve extra: pip install -e '.[serve]'")


from live_server import LiveServer  # noqa: E402
from serve_helpers import start_server  # noqa: E402
from torch_threads import one_thread  # noqa: E402,F401 - autouse: one torch thread per test


@pytest.fixture(scope="session")
def trained_model_dir(tiny_bert_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The overfit tiny BERT of tests/integration: tags "Alice Smith wins in Paris" as PER, LOC."""
    from mner.config import load_config
    from mner.training.run import train_run
    from posts_factory import make_posts

    out = tmp_path_factory.mktemp("serve-model") / "run"
    cfg = load_config(None, [f"output_dir={out}", "train.epochs=30", "train.batch_size=4", "train.lr.encoder=3e-3",
                             "train.lr.head=3e-2", "train.patience=0", "train.scheduler.warmup=0.0",
                             "model.dropout=0.0", "model.head.name=head.crf.v1"])
    cfg["model"]["encoder"] = {"name": "encoder.hf.v1", "model": str(tiny_bert_dir), "pooling": "first"}
    posts = make_posts(4)
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        summary = train_run(cfg, train_posts=posts, dev_posts=posts, progress_bar=False, log=lambda *_: None)
    finally:
        torch.set_num_threads(previous)
    assert summary["dev"]["f1"] == pytest.approx(100.0)
    return out


@pytest.fixture(scope="module")
def server(trained_model_dir: Path) -> Iterator[LiveServer]:
    from mner.serve import ServeSettings, load_app
    from mner.serve.limits import Limits

    limits = Limits(max_body_bytes=2 * 1024 * 1024, max_posts=8, max_words=64, max_images=2,
                    max_image_bytes=512 * 1024, max_image_pixels=1000 * 1000)
    live = start_server(load_app(trained_model_dir, ServeSettings(max_batch=16, max_wait_ms=20, limits=limits)))
    yield live
    live.stop()
