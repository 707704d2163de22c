"""precision="auto" end to end on the tiny random model: measured, cached, applied; explicit always wins."""

from __future__ import annotations

import json

import pytest
from torch import nn
from typer.testing import CliRunner

import mner.precision_choice.auto as auto
from mner.cli.main import app
from mner.export.int8 import Int8Linear
from mner.precision_choice import choose_precision, precision_candidates
from mner.precision_choice.choice import Timing
from mner.predict import Tagger
from posts_factory import make_posts


def forbid_calibration(*args, **kwargs):
    raise AssertionError("an explicit precision must not be calibrated")


def scripted(fastest: str):
    """A calibration whose table is given: `fastest` at 0.1 s a pass, every other candidate at 0.3 s."""
    def calibrate(model, candidates, batch_size, timer):
        return [Timing(c, 64, (0.1 if c == fastest else 0.3,)) for c in candidates]
    return calibrate


def test_candidates_follow_the_cpu_flags(tiny_model_dir):
    model = Tagger.load(tiny_model_dir).model
    assert precision_candidates(model, {"avx2"}) == ["fp32", "int8"]  # no native bf16: not worth timing
    assert precision_candidates(model, {"avx2", "avx512_bf16", "avx512_vnni"}) == ["fp32", "bf16", "int8"]
    assert precision_candidates(model, set()) == ["fp32"]  # no int8 kernel either
    off_cpu = nn.Linear(4, 4, device="meta")  # any non-CPU device: the int8 path is CPU code
    assert "int8" not in precision_candidates(off_cpu, {"avx2", "avx512_vnni"})


def test_auto_measures_once_then_hits_the_cache(tiny_model_dir, cache_dir):
    first = Tagger.load(tiny_model_dir, precision="auto")
    choice = first.precision_choice
    assert choice.source in ("measured", "only candidate")
    if choice.source == "only candidate":
        pytest.skip("this host has one candidate precision: nothing is timed")
    assert choice.precision in choice.candidates and {t.precision for t in choice.timings} == set(choice.candidates)
    assert all(1 <= len(t.seconds) <= 3 and t.posts_per_s > 0 for t in choice.timings)
    assert len(list(cache_dir.glob("*.json"))) == 1
    second = Tagger.load(tiny_model_dir, precision="auto")
    assert second.precision_choice.source == "cached" and second.precision_choice.precision == choice.precision
    posts = make_posts(4)
    assert len(second.predict_many(posts)) == 4


def test_auto_applies_the_measured_choice(tiny_model_dir, cache_dir, monkeypatch):
    monkeypatch.setattr(auto, "calibrate", scripted("int8"))
    model = Tagger.load(tiny_model_dir).model
    if "int8" not in precision_candidates(model):
        pytest.skip("no int8 kernel on this host")
    tagger = Tagger.load(tiny_model_dir, precision="auto")
    assert tagger.precision_choice.precision == "int8" and tagger.precision_choice.source == "measured"
    assert tagger.precision == "fp32"  # the autocast: int8 models keep their float parts in fp32
    assert isinstance(tagger.model.head.proj, Int8Linear)
    assert not [n for n, m in tagger.model.named_modules() if type(m) is nn.Linear]
    assert len(tagger.predict_many(make_posts(3))) == 3


def test_remeasure_ignores_the_cache(tiny_model_dir, cache_dir, monkeypatch):
    model = Tagger.load(tiny_model_dir).model
    flags = {"avx2", "avx512_bf16"}
    monkeypatch.setattr(auto, "calibrate", scripted("bf16"))
    assert choose_precision(model, tiny_model_dir, flags=flags).precision == "bf16"
    monkeypatch.setattr(auto, "calibrate", scripted("fp32"))
    assert choose_precision(model, tiny_model_dir, flags=flags).source == "cached"
    again = choose_precision(model, tiny_model_dir, flags=flags, remeasure=True)
    assert again.source == "measured" and again.precision == "fp32"


def test_an_explicit_precision_always_wins(tiny_model_dir, cache_dir, monkeypatch):
    monkeypatch.setattr(auto, "calibrate", forbid_calibration)
    bf16 = Tagger.load(tiny_model_dir, precision="bf16")
    assert bf16.precision == "bf16" and bf16.precision_choice.source == "explicit"
    fp32 = Tagger.load(tiny_model_dir, precision="fp32")
    assert fp32.precision_choice.precision == "fp32"
    assert not [m for m in fp32.model.modules() if isinstance(m, Int8Linear)]
    int8 = Tagger.load(tiny_model_dir, precision="int8")
    assert isinstance(int8.model.head.proj, Int8Linear) and int8.precision_choice.describe() == "int8 (explicit)"
    with pytest.raises(ValueError, match="unknown precision 'fp8'"):
        Tagger.load(tiny_model_dir, precision="fp8")
    assert not cache_dir.exists()  # nothing measured, nothing cached


def test_one_candidate_skips_calibration(tiny_model_dir, tmp_path, cache_dir, monkeypatch):
    monkeypatch.setattr(auto, "calibrate", forbid_calibration)
    model = Tagger.load(tiny_model_dir).model
    assert choose_precision(model, tiny_model_dir, flags=set()).source == "only candidate"
    from mner.export import export_model

    int8_dir = export_model(tiny_model_dir, "int8", tmp_path / "model-int8")
    tagger = Tagger.load(int8_dir, precision="auto")  # an int8 export is already int8
    assert tagger.precision_choice.precision == "int8" and tagger.precision_choice.source == "only candidate"


def test_cli_precision_prints_the_table_and_predict_names_the_choice(tiny_model_dir, tmp_path, cache_dir,
                                                                    monkeypatch):
    monkeypatch.setattr(auto, "calibrate", scripted("fp32"))
    result = CliRunner().invoke(app, ["precision", str(tiny_model_dir), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    if data["source"] == "only candidate":
        pytest.skip("this host has one candidate precision")
    assert data["precision"] == "fp32" and data["source"] == "measured"
    table = CliRunner().invoke(app, ["precision", str(tiny_model_dir)])
    assert table.exit_code == 0 and "choice: fp32 (cached" in table.output and "posts/s" in table.output
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "alice smith in paris"}) + "\n")
    predicted = CliRunner().invoke(app, ["predict", str(tiny_model_dir), "--input", str(src), "--output", str(out)])
    assert predicted.exit_code == 0, predicted.output
    assert json.loads(out.read_text())["precision"] == "fp32" and "precision fp32 (cached" in predicted.output
    dev = tmp_path / "dev.jsonl"
    dev.write_text("".join(json.dumps(p.to_dict()) + "\n" for p in make_posts(4)))
    scored = CliRunner().invoke(app, ["evaluate", str(tiny_model_dir), "--data", str(dev), "--json"])
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.output)["precision_choice"] == "fp32"
    explicit = CliRunner().invoke(app, ["evaluate", str(tiny_model_dir), "--data", str(dev), "--precision", "int8"])
    assert explicit.exit_code == 0 and "precision int8 (explicit)" in explicit.output
    missing = CliRunner().invoke(app, ["precision", str(tmp_path / "nope")])
    assert missing.exit_code == 1 and "no mner model" in missing.output


def test_calibration_progress_shows_on_a_terminal_only(monkeypatch):
    import logging
    import sys

    from mner.cli.precision import show_calibration_progress

    logger = logging.getLogger("mner.precision_choice")
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    show_calibration_progress()
    assert logger.handlers == []  # piped: the output stays the entities alone
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(logger, "level", logger.level)
    show_calibration_progress()
    assert len(logger.handlers) == 1 and logger.level == logging.INFO
