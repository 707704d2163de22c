"""The pure parts of scale-out, without starting processes."""

from __future__ import annotations

import pytest
import torch

from mner.distributed.context import SingleProcess, launcher_precision, process_context
from mner.distributed.sharding import batch_part, gather_in_order, shard_batch


@pytest.mark.parametrize("size, world", [(4, 2), (3, 2), (1, 2), (7, 3), (2, 4)])
def test_a_global_batch_splits_into_contiguous_parts_covering_it_once(size, world):
    batch = list(range(size))
    parts = [batch_part(batch, r, world) for r in range(world)]
    assert sum(parts, []) == batch
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


class FakeRanks:
    """What `gather_json` would return on each of two processes (no process group needed)."""

    world_size, rank, is_main = 2, 0, True

    def __init__(self, parts):
        self.parts = parts

    def gather_json(self, value):
        return self.parts


def test_gathered_predictions_come_back_in_input_order():
    ctx = FakeRanks([[[0, 2, 4], ["a", "c", "e"]], [[1, 3], ["b", "d"]]])
    assert gather_in_order(ctx, [], [], 5) == ["a", "b", "c", "d", "e"]


@pytest.mark.parametrize("parts, problem", [
    ([[[0, 1], ["a", "b"]], [[1], ["b"]]], "predicted twice"),
    ([[[0], ["a"]], [[2], ["c"]]], "1 posts were not predicted"),
])
def test_a_post_counted_twice_or_dropped_is_an_error(parts, problem):
    with pytest.raises(RuntimeError, match=problem):
        gather_in_order(FakeRanks(parts), [], [], 3)


def test_one_process_keeps_the_whole_batch_and_plain_gradients():
    ctx = process_context()
    assert isinstance(ctx, SingleProcess) and ctx.world_size == 1  # no launcher in a test run
    assert shard_batch(["a", "b", "c"], ctx) == (["a", "b", "c"], 1.0)
    model = torch.nn.Linear(2, 1)
    model(torch.ones(1, 2)).sum().backward()
    before = model.weight.grad.clone()
    assert ctx.sync_gradients(model, torch.tensor(3.5)) == 3.5
    assert torch.equal(model.weight.grad, before) and ctx.main_decides(True) and ctx.gather_json(1) == [1]


def test_accelerate_mixed_precision_applies_only_where_the_config_says_fp32(monkeypatch):
    monkeypatch.setenv("ACCELERATE_MIXED_PRECISION", "bf16")
    assert launcher_precision("fp32") == "bf16" and launcher_precision(None) == "bf16"
    monkeypatch.setenv("ACCELERATE_MIXED_PRECISION", "fp16")
    assert launcher_precision("fp32") == "fp16" and launcher_precision("bf16") == "bf16"
    monkeypatch.setenv("ACCELERATE_MIXED_PRECISION", "no")
    assert launcher_precision("bf16") == "bf16" and launcher_precision("fp32") == "fp32"
