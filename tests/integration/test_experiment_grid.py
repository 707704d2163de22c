"""`mner experiment`: variants x seeds -> a mean ± std table; finished runs are reused."""

import fcntl
import json
import shutil
from pathlib import Path

import yaml
from typer.testing import CliRunner

from mner.cli.main import app
from mner.data.readers import write_posts
from posts_factory import make_posts


def _write_base(tmp_path, tiny_bert_dir):
    """tmp_path/base.yaml: one epoch of a tiny BERT on four generated posts."""
    write_posts(make_posts(4), tmp_path / "train.jsonl")
    base = {"data": {"format": "jsonl", "train": str(tmp_path / "train.jsonl"), "dev": str(tmp_path / "train.jsonl")},
            "model": {"encoder": {"name": "encoder.hf.v1", "model": str(tiny_bert_dir)}},
            "train": {"epochs": 1, "batch_size": 4, "patience": 0}}
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(base))


def _recording_training(trained: list[str]):
    """A stand-in for train_run that records which run folders it was asked to train."""
    def fake_training(config, **kwargs):
        trained.append(config["output_dir"])
        return {"best_epoch": 1, "dev": {"f1": 1.0, "precision": 1.0, "recall": 1.0}, "epochs_run": 1,
                "train_seconds": 0.0, "stopped_early": False}

    return fake_training


def test_grid_trains_each_variant_and_seed_and_reuses_finished_runs(tmp_path, tiny_bert_dir, monkeypatch):
    _write_base(tmp_path, tiny_bert_dir)
    grid = {"base": "base.yaml", "output_dir": str(tmp_path / "grid"), "seeds": [1, 2],
            "variants": {"crf": [], "softmax": ["model.head.name=head.softmax.v1"],
                         "context": ["model.second_segment=caption"]}}
    (tmp_path / "grid.yaml").write_text(yaml.safe_dump(grid))
    result = CliRunner().invoke(app, ["experiment", str(tmp_path / "grid.yaml")])
    assert result.exit_code == 0, result.output
    overall, per_type = (tmp_path / "grid" / "results.md").read_text().split("Dev F1 per entity type")
    rows = [line for line in overall.splitlines() if line.startswith("| crf") or line.startswith("| softmax")
            or line.startswith("| context")]
    assert len(rows) == 3 and all("±" in r and "| 2 |" in r for r in rows)
    assert sum(line.startswith(("| crf", "| softmax", "| context")) for line in per_type.splitlines()) == 3
    assert (tmp_path / "grid" / "softmax" / "seed-2" / "best" / "model.safetensors").exists()

    import mner.training.run as run_module

    def no_training(*args, **kwargs):
        raise AssertionError("finished runs must be reused")

    monkeypatch.setattr(run_module, "train_run", no_training)
    again = CliRunner().invoke(app, ["experiment", str(tmp_path / "grid.yaml")])
    assert again.exit_code == 0, again.output


def test_the_ledger_carries_finished_runs_to_a_fresh_checkout(tmp_path, tiny_bert_dir, monkeypatch):
    """Run folders stay on one machine; the committed ledger lets a grid continue elsewhere."""
    _write_base(tmp_path, tiny_bert_dir)
    ledger = tmp_path / "benchmarks" / "grid.json"
    grid = {"base": "base.yaml", "output_dir": str(tmp_path / "grid"), "seeds": [1],
            "variants": {"crf": [], "softmax": ["model.head.name=head.softmax.v1"]}, "ledger": str(ledger)}
    (tmp_path / "grid.yaml").write_text(yaml.safe_dump(grid))
    first = CliRunner().invoke(app, ["experiment", str(tmp_path / "grid.yaml")])
    assert first.exit_code == 0, first.output
    entries = json.loads(ledger.read_text())["runs"]
    assert sorted(entries) == ["crf/seed-1", "softmax/seed-1"]
    assert all(len(e["config_digest"]) == 64 and "f1" in e["summary"]["dev"] for e in entries.values())
    assert all(e["code"] for e in entries.values())  # which mner trained it: a commit or a version

    import mner.training.run as run_module

    shutil.rmtree(tmp_path / "grid")  # a fresh checkout: no run folders, only the ledger
    trained: list[str] = []
    monkeypatch.setattr(run_module, "train_run", _recording_training(trained))
    again = CliRunner().invoke(app, ["experiment", str(tmp_path / "grid.yaml")])
    assert again.exit_code == 0, again.output
    assert trained == [] and "finished earlier" in again.output
    threads = CliRunner().invoke(app, ["experiment", str(tmp_path / "grid.yaml"), "--threads", "1"])
    assert threads.exit_code == 0 and trained == []  # threads do not change what is learned: same digest
    assert (tmp_path / "grid" / "results.md").read_text().count("| 1 |") == 2

    # a changed config is a different experiment: its digest misses, so it is trained
    grid["overrides"] = ["train.batch_size=2"]
    (tmp_path / "grid.yaml").write_text(yaml.safe_dump(grid))
    report = CliRunner().invoke(app, ["experiment", str(tmp_path / "grid.yaml"), "--report-only"])
    assert report.exit_code == 0 and trained == [] and "| crf" not in report.output
    # a run another process is training (it holds the run's lock) is left to that process
    (tmp_path / "grid" / "crf").mkdir(parents=True, exist_ok=True)
    with open(tmp_path / "grid" / "crf" / "seed-1.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        shared = CliRunner().invoke(app, ["experiment", str(tmp_path / "grid.yaml")])
    assert shared.exit_code == 0 and "being trained by another process" in shared.output
    assert [Path(d).parent.name for d in trained] == ["softmax"]
    trained.clear()
    shutil.rmtree(tmp_path / "grid")
    other_seed = CliRunner().invoke(app, ["experiment", str(tmp_path / "grid.yaml"), "--seed", "7"])
    assert other_seed.exit_code == 0 and trained == []  # --seed: only that seed is trained here
    changed = CliRunner().invoke(app, ["experiment", str(tmp_path / "grid.yaml"), "--seed", "1"])
    assert changed.exit_code == 0, changed.output
    assert [Path(d).parent.name for d in trained] == ["crf"]  # softmax's new result is in the ledger already
    assert sorted(json.loads(ledger.read_text())["runs"]) == ["crf/seed-1", "softmax/seed-1"]  # replaced, not added


def test_a_run_finished_in_a_shared_ledger_is_not_trained_again(tmp_path, tiny_bert_dir, monkeypatch):
    """Two grids with the same baseline: the second reads the first's ledger and trains only what is new."""
    import mner.training.run as run_module

    _write_base(tmp_path, tiny_bert_dir)
    trained: list[str] = []
    monkeypatch.setattr(run_module, "train_run", _recording_training(trained))
    first_ledger = tmp_path / "benchmarks" / "first.json"
    first = {"base": "base.yaml", "output_dir": str(tmp_path / "first"), "seeds": [1, 2], "ledger": str(first_ledger),
             "variants": {"baseline": [], "softmax": ["model.head.name=head.softmax.v1"]}}
    (tmp_path / "first.yaml").write_text(yaml.safe_dump(first))
    assert CliRunner().invoke(app, ["experiment", str(tmp_path / "first.yaml")]).exit_code == 0
    assert len(trained) == 4
    trained.clear()
    # the second grid names the baseline differently, has a seed more and a variant of its own
    second = {"base": "base.yaml", "output_dir": str(tmp_path / "second"), "seeds": [1, 2, 3],
              "ledger": str(tmp_path / "benchmarks" / "second.json"), "shared_ledgers": [str(first_ledger)],
              "variants": {"text-only": [], "wider": ["train.batch_size=2"]}}
    (tmp_path / "second.yaml").write_text(yaml.safe_dump(second))
    result = CliRunner().invoke(app, ["experiment", str(tmp_path / "second.yaml")])
    assert result.exit_code == 0, result.output
    assert sorted((Path(d).parent.name, Path(d).name) for d in trained) == [
        ("text-only", "seed-3"), ("wider", "seed-1"), ("wider", "seed-2"), ("wider", "seed-3")]
    table = (tmp_path / "second" / "results.md").read_text()
    assert "| text-only" in table and table.count("| 3 |") == 2  # seeds 1-2 from the shared ledger, 3 new
    assert "text-only/seed-1" not in json.loads((tmp_path / "benchmarks" / "second.json").read_text())["runs"]
    second["shared_ledgers"] = [str(tmp_path / "missing.json")]
    (tmp_path / "second.yaml").write_text(yaml.safe_dump(second))
    missing = CliRunner().invoke(app, ["experiment", str(tmp_path / "second.yaml"), "--report-only"])
    assert missing.exit_code != 0 and "missing.json does not exist" in missing.output


def test_variant_option_trains_only_the_named_variants(tmp_path, tiny_bert_dir, monkeypatch):
    _write_base(tmp_path, tiny_bert_dir)
    grid = {"base": "base.yaml", "output_dir": str(tmp_path / "grid"), "seeds": [1, 2],
            "variants": {"crf": [], "softmax": ["model.head.name=head.softmax.v1"]}}
    (tmp_path / "grid.yaml").write_text(yaml.safe_dump(grid))
    import mner.training.run as run_module

    trained: list[str] = []
    monkeypatch.setattr(run_module, "train_run", _recording_training(trained))
    result = CliRunner().invoke(app, ["experiment", str(tmp_path / "grid.yaml"), "--variant", "softmax",
                                      "--seed", "2"])
    assert result.exit_code == 0, result.output
    assert [Path(d).relative_to(tmp_path / "grid").as_posix() for d in trained] == ["softmax/seed-2"]
    unknown = CliRunner().invoke(app, ["experiment", str(tmp_path / "grid.yaml"), "--variant", "sofmax"])
    assert unknown.exit_code != 0 and "unknown variant" in unknown.output


def test_digest_ignores_where_frozen_features_are_cached():
    from mner.experiments import config_digest

    def config(cache_dir, frozen=True):
        return {"output_dir": "x", "train": {"threads": 1},
                "model": {"visual": {"name": "visual.caption.v1", "frozen": frozen, "cache_dir": cache_dir}}}

    assert config_digest(config("runs/a")) == config_digest(config("/elsewhere/b"))
    assert config_digest(config("runs/a")) != config_digest(config("runs/a", frozen=False))


def test_an_unfinished_run_of_a_changed_config_is_set_aside_not_resumed(tmp_path, tiny_bert_dir, monkeypatch):
    _write_base(tmp_path, tiny_bert_dir)
    grid = {"base": "base.yaml", "output_dir": str(tmp_path / "grid"), "seeds": [1], "variants": {"crf": []}}
    (tmp_path / "grid.yaml").write_text(yaml.safe_dump(grid))
    run = tmp_path / "grid" / "crf" / "seed-1"
    (run / "checkpoint").mkdir(parents=True)  # an interrupted run of an older version of the grid
    (run / "config.yaml").write_text(yaml.safe_dump({"train": {"batch_size": 99}, "output_dir": str(run)}))
    import mner.training.run as run_module

    resumed: list[bool] = []

    def fake_training(config, resume=False, **kwargs):
        resumed.append(resume)
        return {"best_epoch": 1, "dev": {"f1": 1.0, "precision": 1.0, "recall": 1.0}, "epochs_run": 1,
                "train_seconds": 0.0, "stopped_early": False}

    monkeypatch.setattr(run_module, "train_run", fake_training)
    result = CliRunner().invoke(app, ["experiment", str(tmp_path / "grid.yaml")])
    assert result.exit_code == 0, result.output
    assert resumed == [False] and "starting afresh" in result.output
    assert (run.parent / "seed-1.stale-1" / "checkpoint").exists()  # kept for inspection


def test_a_finished_run_of_a_changed_config_is_not_reused(tmp_path, tiny_bert_dir, monkeypatch):
    """A grid file edited after some runs finished (say, a new preprocessing override): the old
    runs are another experiment, so they are neither reported nor recorded under the new config."""
    _write_base(tmp_path, tiny_bert_dir)
    grid = {"base": "base.yaml", "output_dir": str(tmp_path / "grid"), "seeds": [1], "variants": {"crf": []},
            "ledger": str(tmp_path / "ledger.json")}
    (tmp_path / "grid.yaml").write_text(yaml.safe_dump(grid))
    run = tmp_path / "grid" / "crf" / "seed-1"
    run.mkdir(parents=True)
    (run / "config.yaml").write_text(yaml.safe_dump({"train": {"batch_size": 99}, "output_dir": str(run)}))
    (run / "summary.json").write_text(json.dumps({"best_epoch": 1, "dev": {"f1": 0.5, "precision": 0.5,
                                                                           "recall": 0.5},
                                                  "epochs_run": 1, "train_seconds": 0.0}))
    report = CliRunner().invoke(app, ["experiment", str(tmp_path / "grid.yaml"), "--report-only"])
    assert report.exit_code == 0, report.output
    assert "| crf" not in report.output and run.exists()  # tabulating alone moves nothing

    import mner.training.run as run_module

    trained: list[str] = []
    monkeypatch.setattr(run_module, "train_run", _recording_training(trained))
    result = CliRunner().invoke(app, ["experiment", str(tmp_path / "grid.yaml")])
    assert result.exit_code == 0, result.output
    assert trained == [str(run)] and "starting afresh" in result.output
    assert (run.parent / "seed-1.stale-1" / "summary.json").exists()
    ledger = json.loads((tmp_path / "ledger.json").read_text())["runs"]
    assert ledger["crf/seed-1"]["summary"]["dev"]["f1"] == 1.0  # the new run, not the stale 0.5


def test_the_final_table_holds_runs_other_processes_finished_meanwhile(tmp_path, tiny_bert_dir, monkeypatch):
    """Two processes share a grid: the one that ends last writes every run into results.md,
    including the run it skipped because the other process held it then."""
    _write_base(tmp_path, tiny_bert_dir)
    ledger = tmp_path / "grid.json"
    grid = {"base": "base.yaml", "output_dir": str(tmp_path / "grid"), "seeds": [1, 2],
            "variants": {"crf": []}, "ledger": str(ledger)}
    (tmp_path / "grid.yaml").write_text(yaml.safe_dump(grid))
    import mner.training.run as run_module
    from mner.config import config_digest
    from mner.experiments import Ledger, _run_config, load_grid

    loaded = load_grid(tmp_path / "grid.yaml")
    seed_1 = _run_config(loaded, [], 1, tmp_path / "grid" / "crf" / "seed-1", None)
    trained: list[str] = []
    record = _recording_training(trained)

    def train_while_the_other_process_finishes_seed_1(config, **kwargs):
        # the other process (holding seed 1's lock) finishes its run while this one trains seed 2
        other = {"best_epoch": 1, "dev": {"f1": 0.5, "precision": 0.5, "recall": 0.5}, "epochs_run": 1,
                 "train_seconds": 0.0, "stopped_early": False}
        Ledger(ledger).record("crf", 1, config_digest(seed_1), other, "test")
        return record(config, **kwargs)

    monkeypatch.setattr(run_module, "train_run", train_while_the_other_process_finishes_seed_1)
    (tmp_path / "grid" / "crf").mkdir(parents=True)
    with open(tmp_path / "grid" / "crf" / "seed-1.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = CliRunner().invoke(app, ["experiment", str(tmp_path / "grid.yaml")])
    assert result.exit_code == 0, result.output
    assert [Path(d).name for d in trained] == ["seed-2"]
    assert "1 run(s) were claimed by other processes" in result.output
    row = next(line for line in (tmp_path / "grid" / "results.md").read_text().splitlines()
               if line.startswith("| crf"))
    assert "| 2 |" in row and "0.75 ± 0.35" in row  # both seeds: F1 1.0 here and 0.5 from the other process


def test_a_student_waits_for_an_unfinished_teacher_of_its_grid(tmp_path, tiny_bert_dir):
    """Several `mner experiment` processes share a grid: a student's run must not learn from an
    early epoch of a teacher that is a run of the same grid and not finished yet."""
    _write_base(tmp_path, tiny_bert_dir)
    teacher = tmp_path / "grid" / "teacher" / "seed-1"
    grid = {"base": "base.yaml", "output_dir": str(tmp_path / "grid"), "seeds": [1],
            "variants": {"student": [f"distill={{teacher: {teacher}, weight: 0.5}}"], "teacher": []}}
    (tmp_path / "grid.yaml").write_text(yaml.safe_dump(grid))
    alone = CliRunner().invoke(app, ["experiment", str(tmp_path / "grid.yaml"), "--variant", "student"])
    assert alone.exit_code == 0, alone.output
    assert "[student seed 1] skipped here: its teacher (teacher seed 1) has not finished" in alone.output
    assert "1 run(s) wait for a teacher" in alone.output
    whole = CliRunner().invoke(app, ["experiment", str(tmp_path / "grid.yaml")])  # the teacher first, then its student
    assert whole.exit_code == 0, whole.output
    assert whole.output.index("[teacher seed 1] training") < whole.output.index("[student seed 1] training")
    assert (tmp_path / "grid" / "student" / "seed-1" / "summary.json").exists()


def test_a_student_skips_a_teacher_another_process_is_training(tmp_path, tiny_bert_dir):
    _write_base(tmp_path, tiny_bert_dir)
    teachers = {"base": "base.yaml", "output_dir": str(tmp_path / "teachers"), "seeds": [1], "variants": {"t": []}}
    (tmp_path / "teachers.yaml").write_text(yaml.safe_dump(teachers))
    assert CliRunner().invoke(app, ["experiment", str(tmp_path / "teachers.yaml")]).exit_code == 0
    teacher = tmp_path / "teachers" / "t" / "seed-1"
    (teacher / "summary.json").unlink()  # as if still training: best/ exists, the run has not ended
    students = {"base": "base.yaml", "output_dir": str(tmp_path / "students"), "seeds": [1],
                "variants": {"s": [f"distill={{teacher: {teacher}, weight: 0.5}}"]}}
    (tmp_path / "students.yaml").write_text(yaml.safe_dump(students))
    with open(teacher.with_name("seed-1.lock"), "w") as claim:
        fcntl.flock(claim, fcntl.LOCK_EX)  # another process's claim on the teacher's run
        held = CliRunner().invoke(app, ["experiment", str(tmp_path / "students.yaml")])
    assert held.exit_code == 0, held.output
    assert "is being trained by another process right now" in held.output
    assert not (tmp_path / "students" / "s" / "seed-1" / "best").exists()
    later = CliRunner().invoke(app, ["experiment", str(tmp_path / "students.yaml")])
    assert later.exit_code == 0, later.output
    assert "did not finish its run (no summary.json)" in later.output  # said, then trained on its best/
    assert (tmp_path / "students" / "s" / "seed-1" / "best" / "model.safetensors").exists()


def test_jobs_processes_share_out_a_grid_and_a_student_waits_for_its_teacher(tmp_path, tiny_bert_dir):
    _write_base(tmp_path, tiny_bert_dir)
    teacher = tmp_path / "grid" / "teacher" / "seed-1"
    grid = {"base": "base.yaml", "output_dir": str(tmp_path / "grid"), "seeds": [1, 2],
            "variants": {"teacher": [], "student": [f"distill={{teacher: {teacher}, weight: 0.5}}"]}}
    (tmp_path / "grid.yaml").write_text(yaml.safe_dump(grid))
    result = CliRunner().invoke(app, ["experiment", str(tmp_path / "grid.yaml"), "--jobs", "2", "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert "round 1: 2 processes, 4 run(s) to train" in result.output
    for variant in ("teacher", "student"):
        for seed in (1, 2):
            assert (tmp_path / "grid" / variant / f"seed-{seed}" / "summary.json").exists()
    rows = [line for line in result.output.splitlines() if line.startswith(("| teacher", "| student"))]
    assert any(r.startswith("| teacher") and "| 2 |" in r for r in rows)
    assert any(r.startswith("| student") and "| 2 |" in r for r in rows)


def test_unfinished_runs_counts_only_the_chosen_cells(tmp_path, tiny_bert_dir):
    from mner.experiments import load_grid
    from mner.grid_processes import unfinished_runs

    _write_base(tmp_path, tiny_bert_dir)
    grid = {"base": "base.yaml", "output_dir": str(tmp_path / "grid"), "seeds": [1, 2], "variants": {"a": [], "b": []}}
    (tmp_path / "grid.yaml").write_text(yaml.safe_dump(grid))
    assert CliRunner().invoke(app, ["experiment", str(tmp_path / "grid.yaml"), "--variant", "a", "--seed", "2"]).exit_code == 0
    loaded = load_grid(tmp_path / "grid.yaml")
    assert unfinished_runs(loaded, None, None) == 3
    assert unfinished_runs(loaded, [2], None) == 1 and unfinished_runs(loaded, [1], ["a"]) == 1
    assert unfinished_runs(loaded, [2], ["a"]) == 0


def test_a_distill_section_without_a_teacher_is_a_plain_run(tmp_path, tiny_bert_dir):
    """The objective ignores a `distill` section with no teacher; so does the grid's ordering of students."""
    _write_base(tmp_path, tiny_bert_dir)
    grid = {"base": "base.yaml", "output_dir": str(tmp_path / "grid"), "seeds": [1],
            "variants": {"plain": ["distill={weight: 0.5}"]}}
    (tmp_path / "grid.yaml").write_text(yaml.safe_dump(grid))
    result = CliRunner().invoke(app, ["experiment", str(tmp_path / "grid.yaml")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "grid" / "plain" / "seed-1" / "summary.json").exists()


def test_a_variant_with_its_own_seeds_runs_them_and_only_it_does(tmp_path, tiny_bert_dir, monkeypatch):
    from mner.experiments import load_grid
    from mner.grid_processes import unfinished_runs

    _write_base(tmp_path, tiny_bert_dir)
    grid = {"base": "base.yaml", "output_dir": str(tmp_path / "grid"), "seeds": [1, 2],
            "variant_seeds": {"b": [1, 2, 3, 4]}, "variants": {"a": [], "b": []}}
    (tmp_path / "grid.yaml").write_text(yaml.safe_dump(grid))
    assert unfinished_runs(load_grid(tmp_path / "grid.yaml"), None, None) == 6
    import mner.training.run as run_module

    trained: list[str] = []
    monkeypatch.setattr(run_module, "train_run", _recording_training(trained))
    result = CliRunner().invoke(app, ["experiment", str(tmp_path / "grid.yaml"), "--seed", "3", "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert sorted(Path(d).relative_to(tmp_path / "grid").as_posix() for d in trained) == ["b/seed-3", "b/seed-4"]


def test_variant_seeds_naming_an_unknown_variant_or_no_integers_is_refused(tmp_path, tiny_bert_dir):
    _write_base(tmp_path, tiny_bert_dir)
    for bad, says in (({"c": [1]}, "does not have"), ({"a": []}, "non-empty list"), ({"a": "1,2"}, "non-empty list")):
        grid = {"base": "base.yaml", "seeds": [1], "variant_seeds": bad, "variants": {"a": []}}
        (tmp_path / "grid.yaml").write_text(yaml.safe_dump(grid))
        result = CliRunner().invoke(app, ["experiment", str(tmp_path / "grid.yaml"), "--report-only"])
        assert result.exit_code != 0 and says in result.output and "grid.yaml" in result.output, result.output
