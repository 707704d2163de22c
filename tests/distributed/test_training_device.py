"""`train.device`: auto takes a GPU only when one is visible; a named device that is absent is a clear error."""

import pytest
import torch

from mner.distributed.context import SingleProcess, process_context, training_device


def test_auto_and_absent_follow_the_visible_devices():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert training_device(None).type == expected
    assert training_device("auto").type == expected
    assert training_device(" CPU ").type == "cpu"


def test_a_single_process_trains_on_the_chosen_device(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    context = process_context("cpu")
    assert isinstance(context, SingleProcess) and context.device == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without CUDA")
def test_cuda_without_a_gpu_names_the_setting():
    with pytest.raises(ValueError, match="train.device is 'cuda' but this torch sees no CUDA device"):
        training_device("cuda")


def test_an_unknown_device_is_refused():
    with pytest.raises(ValueError, match="train.device must be auto, cpu, cuda or cuda:N, not 'tpu'"):
        training_device("tpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_run_trains_and_saves_on_the_gpu(tmp_path, tiny_bert_dir):
    from mner.checkpoint import from_pretrained
    from mner.config import load_config
    from mner.training.run import train_run
    from posts_factory import make_posts

    cfg = load_config(None, [f"output_dir={tmp_path / 'run'}", "train.epochs=2", "train.batch_size=2",
                             "train.device=cuda"])
    cfg["model"]["encoder"] = {"name": "encoder.hf.v1", "model": str(tiny_bert_dir)}
    posts = make_posts(4)
    summary = train_run(cfg, train_posts=posts, dev_posts=posts, progress_bar=False, log=lambda *_: None)
    assert summary["best_epoch"] >= 1
    model = from_pretrained(tmp_path / "run" / "best")  # saved from CUDA tensors, read on the CPU
    assert next(model.parameters()).device.type == "cpu"


def test_a_ledger_names_the_gpu_a_run_would_take():
    import platform

    from mner.experiments import machine_description

    text = machine_description()
    assert text.startswith(f"{platform.machine()}, ") and " CPUs" in text
    assert (torch.cuda.is_available() and torch.cuda.get_device_name(0) in text) or text.endswith(" CPUs")


def test_train_run_closes_the_context_it_opened_and_leaves_a_callers_open(tmp_path, tiny_bert_dir, monkeypatch):
    from mner.config import load_config
    from mner.training import run as run_module
    from posts_factory import make_posts

    closed = []

    class Recorded(SingleProcess):
        def close(self):
            closed.append(self)

    monkeypatch.setattr(run_module, "process_context", lambda device=None: Recorded("cpu"))
    posts = make_posts(2)
    for name, context in (("own", None), ("callers", Recorded("cpu"))):
        cfg = load_config(None, [f"output_dir={tmp_path / name}", "train.epochs=1", "train.batch_size=2"])
        cfg["model"]["encoder"] = {"name": "encoder.hf.v1", "model": str(tiny_bert_dir)}
        run_module.train_run(cfg, train_posts=posts, dev_posts=posts, progress_bar=False, log=lambda *_: None,
                             context=context)
    assert len(closed) == 1  # the one train_run made; the caller's context stays the caller's to close
