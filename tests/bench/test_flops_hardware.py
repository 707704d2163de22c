"""The FLOPs formula against a hand count, the ceilings, the machine description and the speed helpers."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from mner.bench.flops import (EncoderShape, FlopCount, bound_posts_per_second, mean_post_flops, mner_rows,
                              post_flops, row_flops)
from mner.bench.hardware import int8_linear_gops, machine_description, matmul_gflops
from mner.bench.speed import PeakRss, percentile, size_mb
from mner.data.post import Post

TINY = EncoderShape(layers=2, hidden=32, intermediate=64)


def test_row_flops_equal_a_hand_count():
    # per layer and token: Q,K,V,O 4*32*32 = 4096 MACs, FFN 2*32*64 = 4096 MACs -> 8192 MACs = 16384 FLOPs
    # 10 tokens: 163,840; attention 2 products * 10*10*32 MACs = 6,400 MACs = 12,800 FLOPs; 2 layers
    count = row_flops(TINY, 10)
    assert count.linear == 2 * 163_840
    assert count.attention == 2 * 12_800
    assert count.total == 353_280


def test_post_flops_add_rows_and_head():
    count = post_flops(TINY, [10, 10], words=7, head_input=48, labels=9)
    assert count.head == 2 * 7 * 48 * 9
    assert count.linear + count.attention == 2 * 353_280
    mean = mean_post_flops(TINY, [[10], [10, 10]], [7, 7], 48, 9)
    assert mean.total == pytest.approx((353_280 * 3 + 2 * 2 * 7 * 48 * 9) / 2)


def test_shape_from_hf_config_and_weight_params_match_the_module(tiny_bert_dir):
    from transformers import AutoConfig, AutoModel

    config = AutoConfig.from_pretrained(tiny_bert_dir)
    shape = EncoderShape.from_config(config)
    assert shape == TINY
    layer = AutoModel.from_pretrained(tiny_bert_dir).encoder.layer[0]
    matrices = sum(p.numel() for n, p in layer.named_parameters() if n.endswith("weight") and p.dim() == 2)
    assert matrices == shape.weight_params_per_layer  # "2 x weight-matrix parameters x tokens"


def test_mner_rows_count_special_tokens_and_second_segment(tiny_bert_dir):
    from mner.modules.hf_text_encoder import HfTextEncoder

    encoder = HfTextEncoder.from_name(str(tiny_bert_dir))
    posts = [Post("a", ["alice", "wins"], visual_text={"caption": "paris"}), Post("b", ["bob"])]
    assert mner_rows(encoder.featurizer, posts) == [[4], [3]]  # [CLS] alice wins [SEP]
    assert mner_rows(encoder.featurizer, posts, "caption") == [[6], [3]]  # ... [SEP] paris [SEP]


def test_bound_uses_the_int8_rate_for_linear_flops_only():
    count = FlopCount(linear=6e9, attention=2e9, head=0.0)
    assert bound_posts_per_second(count, 8e9) == pytest.approx(1.0)
    assert bound_posts_per_second(count, 8e9, int8_ops_per_s=12e9) == pytest.approx(1 / (0.5 + 0.25))


def test_ceilings_and_machine_description():
    assert matmul_gflops(n=64, repeats=2, warmup=1) > 0
    assert int8_linear_gops(n=64, repeats=2, warmup=1) > 0
    machine = machine_description()
    for key in ("cpu_model", "logical_cpus", "usable_cpus", "torch", "torch_threads", "load_average_1m"):
        assert key in machine
    assert machine["torch_threads"] == 1  # the autouse fixture's setting, read back


def test_percentile_matches_numpy():
    values = [5.0, 1.0, 9.0, 3.0, 7.5, 2.2]
    for q in (50, 95, 0, 100):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


_PEAK_RSS_PROBE = """
import json
from mner.bench.speed import PeakRss
with PeakRss() as memory:
    block = bytearray(64 * 1024 * 1024)  # 64 MiB touched
    block[::4096] = b"x" * len(block[::4096])
print(json.dumps({"peak": memory.peak_mb, "delta": memory.delta_mb, "resettable": memory.resettable}))
"""


def test_peak_rss_and_size(tmp_path):
    # in a fresh process: inside the test suite's process, memory that other threads or the
    # allocator give back while the block lives lowers the RSS under the block's 64 MiB, and
    # the peak-over-start delta then reads 0 (a rare failure of this test in CI)
    probe = subprocess.run([sys.executable, "-c", _PEAK_RSS_PROBE], capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr
    memory = json.loads(probe.stdout)
    assert memory["peak"] > 64
    if memory["resettable"]:
        assert 50 <= memory["delta"] < 200
    with PeakRss() as here:  # and in this process, where only the peak is certain
        pass
    assert here.peak_mb > 0
    (tmp_path / "a").write_bytes(b"x" * 1000)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b").write_bytes(b"x" * 500)
    assert size_mb(tmp_path) == pytest.approx(0.0015)
