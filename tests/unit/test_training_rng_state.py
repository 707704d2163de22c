"""Checkpoints keep the CUDA generators beside the CPU one, and stay loadable both ways.

This host has no GPU: the CUDA side is tested through torch.cuda's functions replaced by fakes
(the layout written, what is restored on which device, per rank). The real round trip on a GPU,
`test_real_cuda_generator_round_trip`, runs only where CUDA is available (skipped here)."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from mner.training.state import load_training_checkpoint, save_training_checkpoint

STATE_BYTES = 16  # a CUDA (Philox) generator's state: seed and offset


def tiny_model_and_optimizer(encoder_dir):
    from mner.builders import build_model

    model_cfg = {"encoder": {"name": "encoder.hf.v1", "model": str(encoder_dir)}, "head": {"name": "head.softmax.v1"}}
    torch.manual_seed(0)
    model = build_model(model_cfg, ["O", "B-PER", "I-PER"])
    model.config = {"model": model_cfg}
    return model, torch.optim.AdamW(model.parameters(), lr=1e-3)


PROGRESS = {"epoch": 1, "best_f1": 0.0}


class FakeCuda:
    """torch.cuda's generator functions for `devices` devices, in host memory."""

    def __init__(self, monkeypatch, devices: int, states: list[torch.Tensor] | None = None):
        self.states = states or [torch.full((STATE_BYTES,), 10 + d, dtype=torch.uint8) for d in range(devices)]
        self.set_calls: list[tuple[int, list[int]]] = []
        monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
        monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: devices)
        monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: [s.clone() for s in self.states])
        monkeypatch.setattr(torch.cuda, "set_rng_state",
                            lambda state, device="cuda": self.set_calls.append((int(device), state.tolist())))


def test_without_cuda_nothing_cuda_is_written_and_the_cpu_generator_resumes(tmp_path, tiny_bert_dir, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    model, optimizer = tiny_model_and_optimizer(tiny_bert_dir)
    torch.manual_seed(123)
    save_training_checkpoint(tmp_path / "ckpt", model, optimizer, PROGRESS)
    assert not [k for k in load_file(str(tmp_path / "ckpt" / "trainer.safetensors")) if k.startswith("rng.cuda")]
    expected = torch.rand(5)
    torch.manual_seed(999)
    assert load_training_checkpoint(tmp_path / "ckpt", model, optimizer) == PROGRESS
    assert torch.equal(torch.rand(5), expected)


def test_cuda_generators_of_every_device_and_rank_are_saved_and_restored(tmp_path, tiny_bert_dir, monkeypatch):
    model, optimizer = tiny_model_and_optimizer(tiny_bert_dir)
    fake = FakeCuda(monkeypatch, devices=2)
    # one process: its own devices, by default
    save_training_checkpoint(tmp_path / "one", model, optimizer, PROGRESS)
    saved = load_file(str(tmp_path / "one" / "trainer.safetensors"))
    assert saved["rng.cuda"].shape == (2, STATE_BYTES) and saved["rng.cuda"].dtype == torch.uint8
    assert saved["rng.cuda"][:, 0].tolist() == [10, 11]
    assert "rng.torch" in saved  # the CPU generator, as before
    # two processes (what training/run.py gathers): each rank's rows under its own key
    rank1 = torch.stack([torch.full((STATE_BYTES,), 20 + d, dtype=torch.uint8) for d in range(2)])
    save_training_checkpoint(tmp_path / "two", model, optimizer, PROGRESS,
                             rng_states=[torch.get_rng_state(), torch.get_rng_state()],
                             cuda_rng_states=[torch.stack(fake.states), rank1])
    saved = load_file(str(tmp_path / "two" / "trainer.safetensors"))
    assert {"rng.torch", "rng.torch.rank1", "rng.cuda", "rng.cuda.rank1"} <= set(saved)
    load_training_checkpoint(tmp_path / "two", model, optimizer, rank=1)
    assert fake.set_calls == [(0, [20] * STATE_BYTES), (1, [21] * STATE_BYTES)]  # rank 1's rows, device by device


def test_a_run_resumed_on_fewer_devices_restores_the_ones_it_has(tmp_path, tiny_bert_dir, monkeypatch):
    model, optimizer = tiny_model_and_optimizer(tiny_bert_dir)
    FakeCuda(monkeypatch, devices=2)
    save_training_checkpoint(tmp_path / "ckpt", model, optimizer, PROGRESS)
    fewer = FakeCuda(monkeypatch, devices=1)
    load_training_checkpoint(tmp_path / "ckpt", model, optimizer)
    assert fewer.set_calls == [(0, [10] * STATE_BYTES)]


def test_old_and_cpu_checkpoints_load_on_a_cuda_host_and_cuda_ones_on_a_cpu_host(tmp_path, tiny_bert_dir,
                                                                                monkeypatch):
    model, optimizer = tiny_model_and_optimizer(tiny_bert_dir)
    with monkeypatch.context() as patch:  # written on a CPU (or before rng.cuda existed)
        patch.setattr(torch.cuda, "is_available", lambda: False)
        save_training_checkpoint(tmp_path / "cpu", model, optimizer, PROGRESS)
    with monkeypatch.context() as patch:
        fake = FakeCuda(patch, devices=2)
        torch.manual_seed(5)
        save_training_checkpoint(tmp_path / "gpu", model, optimizer, PROGRESS)
        expected = torch.rand(3)
        assert load_training_checkpoint(tmp_path / "cpu", model, optimizer) == PROGRESS
        assert fake.set_calls == []  # nothing to restore: the devices keep their seeded generators
    with monkeypatch.context() as patch:
        patch.setattr(torch.cuda, "is_available", lambda: False)
        assert load_training_checkpoint(tmp_path / "gpu", model, optimizer) == PROGRESS
        assert torch.equal(torch.rand(3), expected)  # the CPU generator still comes back


def test_cpu_training_on_a_gpu_host_does_not_start_cuda(tmp_path, tiny_bert_dir, monkeypatch):
    from mner.training.state import cuda_rng_state

    model, optimizer = tiny_model_and_optimizer(tiny_bert_dir)
    FakeCuda(monkeypatch, devices=2)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: False)
    monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: pytest.fail("read the CUDA generators"))
    assert cuda_rng_state() is None
    save_training_checkpoint(tmp_path / "ckpt", model, optimizer, PROGRESS)
    assert "rng.cuda" not in load_file(str(tmp_path / "ckpt" / "trainer.safetensors"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (none on this host)")
def test_real_cuda_generator_round_trip(tmp_path, tiny_bert_dir):
    model, optimizer = tiny_model_and_optimizer(tiny_bert_dir)
    torch.cuda.manual_seed_all(7)
    torch.rand(1, device="cuda")  # CUDA in use, as in a GPU training run
    save_training_checkpoint(tmp_path / "ckpt", model, optimizer, PROGRESS)
    expected = torch.rand(4, device="cuda").cpu()
    torch.cuda.manual_seed_all(99)
    load_training_checkpoint(tmp_path / "ckpt", model, optimizer)
    assert torch.equal(torch.rand(4, device="cuda").cpu(), expected)
