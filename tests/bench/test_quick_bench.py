"""`mner bench --quick` end to end (the CI smoke test), and the pieces of the report."""

from __future__ import annotations

import importlib.util
import json

import pytest

from mner.bench.report import SYSTEM_KEYS, TOP_KEYS, VS_PEER_KEYS, VS_SOURCE_KEYS
from mner.bench.runner import MARKER, _prepare_output, add_ratios
from mner.precision import native_bf16

pytest.importorskip("seqeval")


def test_quick_bench_writes_every_documented_figure(tmp_path):
    import typer
    from typer.testing import CliRunner

    from mner.cli.bench import bench, export

    app = typer.Typer()
    app.command()(bench)
    app.command()(export)
    out = tmp_path / "bench"
    result = CliRunner().invoke(app, ["bench", "--quick", "--epochs", "2", "--output-dir", str(out), "--threads", "1"])
    assert result.exit_code == 0, result.output

    data = json.loads((out / "bench.json").read_text())
    assert set(TOP_KEYS) <= set(data)
    assert data["mode"] == "quick" and data["settings"]["threads"] == 1
    assert data["ceilings"]["fp32_gflops"] > 0 and data["ceilings"]["int8_gops"] > 0
    assert data["ceilings"]["bf16_gflops"] > 0 and data["ceilings"]["native_bf16"] == native_bf16()
    names = [r["name"] for r in data["systems"]]
    expected = ["peer", "mner-text", "mner-mm"]
    bf16_names = ["mner-text-bf16", "mner-mm-bf16"]
    if native_bf16():  # measured only where bf16 is native; otherwise listed as not measured, with why
        expected += bf16_names
    else:
        assert [s["name"] for s in data["skipped"]][:2] == bf16_names
    expected.append("mner-text-int8")
    if importlib.util.find_spec("onnxruntime") and importlib.util.find_spec("onnx"):
        expected += ["mner-text-onnx", "mner-text-onnx-int8"]
    assert names == expected, data["skipped"]
    by_name_path = {r["name"]: r["path"] for r in data["systems"]}
    by_name_f1 = {r["name"]: r["f1"] for r in data["systems"]}
    for row in data["systems"]:
        assert set(row) == set(SYSTEM_KEYS)
        assert 0.0 <= row["f1"] <= 100.0
        assert row["posts_per_s_b64"] > 0 and 0 < row["p50_ms_b1"] <= row["p95_ms_b1"]
        assert row["size_mb"] > 0 and row["peak_rss_mb"] > 0
        assert row["flops_per_post"] > 0 and row["bound_posts_per_s"] > 0 and row["fraction_of_bound"] > 0
        assert 0.0 <= row["padding_b64"] < 1.0
        assert row["posts_per_s_b64_alone"] > 0  # timed alone first, then in turns with the others
        if row["kind"] == "peer":
            assert row["vs_peer"] is None and row["train_seconds"] > 0
        else:
            assert set(row["vs_peer"]) == set(VS_PEER_KEYS)
            assert row["time_split"]["network_s"] > 0
        if row["kind"] in ("int8", "onnx-int8", "bf16"):  # rounded activations: F1 at several batch sizes
            assert sorted(row["f1_by_batch"], key=int) == ["1", "16", "64", "128"]
            mean = sum(row["f1_by_batch"].values()) / 4
            assert row["vs_source"]["f1_cost_mean"] == pytest.approx(mean - by_name_f1[row["source"]])
        else:
            assert row["f1_by_batch"] is None
        if row["kind"] in ("int8", "onnx", "onnx-int8"):
            assert row["source"] == "mner-text" and set(row["vs_source"]) == set(VS_SOURCE_KEYS)
            assert row["train_seconds"] is None and row["export_seconds"] > 0
        if row["kind"] == "bf16":  # the same saved model under autocast: same directory, scored on its own
            assert row["name"] == row["source"] + "-bf16" and set(row["vs_source"]) == set(VS_SOURCE_KEYS)
            assert row["path"] == by_name_path[row["source"]] and row["export_seconds"] is None
    by_name = {r["name"]: r for r in data["systems"]}
    # the caption segment makes the multimodal rows longer, hence more FLOPs per post
    assert by_name["mner-mm"]["subwords_per_post"] > by_name["mner-text"]["subwords_per_post"]

    markdown = (out / "bench.md").read_text()
    for text in ("GFLOP/s", "## mner / peer", "## Compression", "What stays fp32", "bf16 matmul", "posts/s b64 (bound)",
                 "mner-text-int8", "mner bench --quick"):
        assert text in markdown
    if importlib.util.find_spec("matplotlib"):
        assert (out / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / MARKER).exists()
    assert "mner-text" in result.output and "posts/s" in result.output

    # --remeasure: the trained systems (and their training figures) are kept, the rest is measured again
    trained = {r["name"]: r for r in data["systems"] if r["kind"] in ("peer", "mner")}
    weights = (out / "mner-text" / "best" / "model.safetensors").stat().st_mtime_ns
    again = CliRunner().invoke(app, ["bench", "--quick", "--epochs", "2", "--output-dir", str(out), "--threads", "1",
                                     "--remeasure"])
    assert again.exit_code == 0, again.output
    assert "reusing the system trained" in again.output and "training" not in again.output.replace("trained", "")
    redone = json.loads((out / "bench.json").read_text())
    assert redone["settings"]["remeasured"] is True and "--remeasure" in redone["settings"]["command"]
    assert [r["name"] for r in redone["systems"]] == names
    for name, row in trained.items():
        again_row = next(r for r in redone["systems"] if r["name"] == name)
        assert again_row["train_seconds"] == row["train_seconds"] and again_row["f1"] == pytest.approx(row["f1"])
    assert (out / "mner-text" / "best" / "model.safetensors").stat().st_mtime_ns == weights
    other = CliRunner().invoke(app, ["bench", "--quick", "--epochs", "3", "--output-dir", str(out), "--threads", "1",
                                     "--remeasure"])
    assert other.exit_code == 1 and "epochs" in other.output


def test_output_dir_not_written_by_bench_is_refused(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        _prepare_output(tmp_path)
    assert (tmp_path / "mine.txt").exists()


def _row(name, kind, f1, train, speed, size, source=None):
    row = dict.fromkeys(SYSTEM_KEYS)
    row.update(name=name, kind=kind, f1=f1, train_seconds=train, posts_per_s_b64=speed, p50_ms_b1=1000 / speed,
               size_mb=size, peak_delta_mb=100.0, source=source)
    return row


def test_ratios_are_system_over_peer_and_export_over_source():
    rows = [_row("peer", "peer", 80.0, 100.0, 50.0, 90.0), _row("mner-text", "mner", 84.0, 50.0, 100.0, 90.0),
            _row("mner-text-int8", "int8", 83.5, None, 150.0, 45.0, source="mner-text")]
    rows[2]["f1_by_batch"] = {"1": 83.0, "64": 83.5, "128": 84.5}
    add_ratios(rows)
    assert rows[0]["vs_peer"] is None
    text = rows[1]["vs_peer"]
    assert text["f1_delta"] == pytest.approx(4.0) and text["train_time_ratio"] == pytest.approx(0.5)
    assert text["speed_ratio"] == pytest.approx(2.0) and text["p50_ratio"] == pytest.approx(0.5)
    q = rows[2]
    assert q["vs_peer"]["train_time_ratio"] is None
    assert q["vs_source"]["f1_cost"] == pytest.approx(-0.5) and q["vs_source"]["speedup"] == pytest.approx(1.5)
    assert q["vs_source"]["f1_cost_mean"] == pytest.approx(-0.333, abs=1e-3)  # mean over batch sizes - source
    assert q["vs_source"]["size_ratio"] == pytest.approx(0.5)
    assert rows[1]["vs_source"] is None


def test_padding_counts_the_systems_own_batches(tiny_model_dir):
    """mner batches by encoder row width, the peer by word count: on posts whose words split
    into different numbers of subwords, word-count batches pad more."""
    from mner.bench.runner import _padding
    from mner.data.post import Post
    from mner.predict import Tagger

    # equal word counts, very different subword counts: word-count order mixes them
    posts = [Post(f"p{i}", ["supercalifragilistic", "antidisestablishment"] if i % 2 else ["a", "b"])
             for i in range(8)]
    tagger = Tagger.load(tiny_model_dir)
    assert _padding("mner", tagger, posts, batch_size=4) == 0.0  # sorted by width: no padding at all

    class WordCountBatches:  # the peer's batching (word count) over the same tokenizer
        def batches(self, posts, batch_size):
            return [list(range(s, min(s + batch_size, len(posts)))) for s in range(0, len(posts), batch_size)]

        def encode(self, token_lists, padding=False):
            return tagger.model.text_encoder.featurize(token_lists)

    assert _padding("peer", WordCountBatches(), posts, batch_size=4) > 0.2


def test_interleaved_throughput_times_each_system_in_turns_on_its_own_posts():
    import time

    from mner.bench.speed import interleaved_throughput
    from mner.data.post import Post

    calls: list[tuple[str, int]] = []

    def system(name, delay):
        def predict(posts, batch_size):
            calls.append((name, len(posts)))
            time.sleep(delay)
        return predict

    fast_posts = [Post(f"f{i}", ["a"] * (i + 1)) for i in range(6)] + [Post("empty", [])]
    slow_posts = [Post(f"s{i}", ["b"]) for i in range(3)]
    rates = interleaved_throughput({"fast": (system("fast", 0.01), fast_posts),
                                    "slow": (system("slow", 0.03), slow_posts)}, batch_size=4, rounds=3)
    timed = calls[2:]  # after one untimed warm-up call each
    assert [n for n, _ in timed] == ["fast", "slow", "slow", "fast", "fast", "slow"]  # order rotates per round
    assert all(size == (6 if n == "fast" else 3) for n, size in timed)  # own posts, empty ones left out
    assert rates["fast"] == pytest.approx(6 / 0.01, rel=0.5) and rates["slow"] == pytest.approx(3 / 0.03, rel=0.5)


def test_text_run_is_measured_instead_of_trained(tmp_path):
    """--text-run: an already trained run (e.g. a distilled student) is the mner-text system:
    copied, not retrained, its training time read from its summary, and exported like any model."""
    import typer
    from typer.testing import CliRunner

    from mner.cli.bench import bench

    app = typer.Typer()
    app.command()(bench)
    app.command()(lambda: None)  # a second command keeps `bench` a subcommand
    first = tmp_path / "first"
    args = ["bench", "--quick", "--epochs", "1", "--threads", "1", "--rounds", "1", "--no-bf16", "--mm-config", "none"]
    assert CliRunner().invoke(app, [*args, "--output-dir", str(first)]).exit_code == 0
    run = tmp_path / "student"
    (first / "mner-text").rename(run)
    summary = json.loads((run / "summary.json").read_text())
    summary["train_seconds"] = 1234.5  # a figure this bench could not have produced by training
    (run / "summary.json").write_text(json.dumps(summary))

    second = tmp_path / "second"
    result = CliRunner().invoke(app, [*args, "--output-dir", str(second), "--text-run", str(run)])
    assert result.exit_code == 0, result.output
    data = json.loads((second / "bench.json").read_text())
    rows = {r["name"]: r for r in data["systems"]}
    assert rows["mner-text"]["train_seconds"] == 1234.5
    assert rows["mner-text"]["path"] == str(second / "mner-text" / "best")
    assert not (second / "mner-text" / "checkpoint").exists()
    assert rows["mner-text-int8"]["source"] == "mner-text"
    assert data["settings"]["text_run"] == str(run) and "--text-run" in data["settings"]["command"]

    missing = CliRunner().invoke(app, [*args, "--output-dir", str(tmp_path / "third"), "--text-run",
                                       str(tmp_path / "nowhere")])
    assert missing.exit_code == 1 and "--text-run" in missing.output and "Traceback" not in missing.output
