"""A student trained on a teacher's soft labels reproduces the teacher, not the gold it was given."""

import dataclasses
import json

import pytest
import torch

from mner.data.tags import bio_problems, bio_to_spans
from mner.distill.targets import cached_targets, compute_targets, load_targets, post_key
from mner.checkpoint import from_pretrained
from mner.evaluation import predict_tags
from mner.training.run import train_run
from posts_factory import make_posts
from tiny_models import overfit_config

QUIET = {"progress_bar": False, "log": lambda *_: None}


def _write_jsonl(path, posts):
    path.write_text("".join(json.dumps(p.to_dict()) + "\n" for p in posts), encoding="utf-8")


_cfg = overfit_config


@pytest.fixture(scope="module")
def teacher_dir(tmp_path_factory, tiny_bert_dir):
    out = tmp_path_factory.mktemp("teacher") / "run"
    posts = make_posts(4)
    summary = train_run(_cfg(out, tiny_bert_dir), train_posts=posts, dev_posts=posts, **QUIET)
    assert summary["dev"]["f1"] == pytest.approx(100.0)
    return out


def test_student_learns_the_teacher_not_the_wrong_gold(tmp_path, tiny_bert_dir, teacher_dir):
    posts = make_posts(4)
    wrong_gold = [dataclasses.replace(p, tags=["O"] * len(p.tokens), entities=[]) for p in posts]
    wrong_gold[0] = dataclasses.replace(wrong_gold[0], tags=["B-PER"] + ["O"] * (len(posts[0].tokens) - 1),
                                        entities=[])  # keeps PER in the label set
    cfg = _cfg(tmp_path / "student", tiny_bert_dir,
               extra=[f"distill.teacher={teacher_dir}", "distill.weight=1.0", f"distill.cache_dir={tmp_path / 'c'}"])
    train_run(cfg, train_posts=wrong_gold, dev_posts=posts, **QUIET)
    student = from_pretrained(tmp_path / "student" / "best")
    teacher = from_pretrained(teacher_dir / "best")
    student_tags, _ = predict_tags(student, posts)
    teacher_tags, _ = predict_tags(teacher, posts)
    assert [bio_to_spans(t) for t in student_tags] == [bio_to_spans(t) for t in teacher_tags]
    assert [bio_to_spans(t) for t in student_tags] != [bio_to_spans(p.tags) for p in wrong_gold]


def test_unlabelled_posts_are_tagged_by_the_teacher_and_dev_repeats_dropped(tmp_path, tiny_bert_dir, teacher_dir):
    from mner.distill.prepare import prepare_distillation

    train, dev = make_posts(2), make_posts(4)[2:]
    extra = make_posts(4, prefix="u")  # u2, u3 repeat the dev posts' words
    path = tmp_path / "extra.jsonl"
    _write_jsonl(path, extra)
    cfg = _cfg(tmp_path / "s", tiny_bert_dir, extra=[f"distill.teacher={teacher_dir}", f"distill.cache_dir={tmp_path}",
                                                     f"distill.unlabelled=[{{path: {path}, format: jsonl}}]"])
    logged = []
    posts, objective = prepare_distillation(cfg, train, dev, logged.append)
    assert len(posts) == 2 + 0  # u0, u1 repeat training posts, u2, u3 dev posts: all dropped
    assert any("dropped 4 unlabelled posts" in m for m in logged)

    new = make_posts(4, prefix="n")
    for p in new:
        p.tokens[-1] = "city"  # unseen words, so kept
    renamed_dev = dataclasses.replace(new[0], id=dev[0].id, tokens=new[0].tokens + ["again"], tags=None)
    _write_jsonl(path, [dataclasses.replace(p, tags=["O"] * len(p.tokens), entities=[]) for p in new]
                 + [renamed_dev])  # a dev post under other words (another release's tokenisation)
    logged = []
    posts, objective = prepare_distillation(cfg, train, dev, logged.append)
    added = posts[2:]
    assert len(added) == 4 and all(p.id.startswith("unlabelled0:") for p in added)
    assert any("dropped 1 unlabelled posts" in m for m in logged)
    teacher_tags, _ = predict_tags(from_pretrained(teacher_dir / "best"), new)
    assert [p.tags for p in added] == teacher_tags  # the file's all-O tags were ignored


def test_targets_are_cached_and_reused(tmp_path, teacher_dir, monkeypatch):
    import mner.distill.targets as targets_module

    teacher = from_pretrained(teacher_dir / "best")
    posts = make_posts(4)
    first = cached_targets(teacher, teacher_dir / "best", posts, 2.0, tmp_path, log=lambda *_: None)
    files = list(tmp_path.glob("teacher-*.safetensors"))
    assert len(files) == 1
    stored = load_targets(files[0])
    assert torch.allclose(stored.posteriors[post_key(posts[0])], first.posteriors[post_key(posts[0])])
    sums = first.posteriors[post_key(posts[1])].sum(-1)
    assert torch.allclose(sums, torch.ones_like(sums), atol=1e-5)

    def no_teacher(*args, **kwargs):
        raise AssertionError("the teacher ran again")

    monkeypatch.setattr(targets_module, "compute_targets", no_teacher)
    cached_targets(teacher, teacher_dir / "best", posts, 2.0, tmp_path, log=lambda *_: None)  # from the file
    files[0].write_bytes(b"not a safetensors file")
    monkeypatch.undo()
    logged = []
    cached_targets(teacher, teacher_dir / "best", posts, 2.0, tmp_path, log=logged.append)
    assert any("unreadable cache" in m for m in logged)


def test_seeds_asking_at_once_run_the_teacher_once(tmp_path, teacher_dir, monkeypatch):
    """Three grid seeds start together: one computes the targets, the others wait and read its file."""
    import threading
    import time

    import mner.distill.targets as targets_module

    teacher = from_pretrained(teacher_dir / "best")
    posts = make_posts(3)
    real_compute, calls = targets_module.compute_targets, []

    def slow_compute(*args, **kwargs):
        calls.append(1)
        time.sleep(0.3)  # long enough that an unlocked second caller would start its own run
        return real_compute(*args, **kwargs)

    monkeypatch.setattr(targets_module, "compute_targets", slow_compute)
    results = [None] * 3

    def ask(i):
        results[i] = cached_targets(teacher, teacher_dir / "best", posts, 1.0, tmp_path, log=lambda *_: None,
                                    progress_bar=False)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    key = post_key(posts[0])
    assert all(torch.allclose(r.posteriors[key], results[0].posteriors[key]) for r in results)


def test_student_labels_must_cover_the_teachers(teacher_dir):
    teacher = from_pretrained(teacher_dir / "best")
    targets = compute_targets(teacher, make_posts(2), progress_bar=False)
    with pytest.raises(ValueError, match="labels the student lacks"):
        targets.stack(make_posts(2), 7, ["O", "B-PER", "I-PER"])
    stacked = targets.stack(make_posts(2), 9, teacher.labels)
    assert stacked.shape == (2, 9, len(teacher.labels)) and stacked[:, 7:].abs().sum() == 0


def test_an_ensemble_of_teachers_averages_their_cached_targets(tmp_path, tiny_bert_dir, teacher_dir):
    from mner.distill.prepare import prepare_distillation

    other = tmp_path / "other-teacher"  # a second, weaker teacher: 3 epochs, another seed
    posts = make_posts(4)
    train_run(_cfg(other, tiny_bert_dir, epochs=3, extra=["train.seed=7"]), train_posts=posts, dev_posts=posts, **QUIET)
    new = make_posts(4, prefix="n")
    for p in new:
        p.tokens[-1] = "city"  # unseen words, so kept as unlabelled posts
    path = tmp_path / "extra.jsonl"
    _write_jsonl(path, new)
    cfg = _cfg(tmp_path / "s", tiny_bert_dir, extra=[f"distill.teacher=[{teacher_dir}, {other}]",
                                                     f"distill.cache_dir={tmp_path / 'cache'}",
                                                     f"distill.unlabelled=[{{path: {path}, format: jsonl}}]"])
    train, dev = make_posts(2), make_posts(4)[2:]
    added, objective = prepare_distillation(cfg, train, dev, lambda *_: None)
    assert len(list((tmp_path / "cache").glob("teacher-*.safetensors"))) == 2  # each teacher cached on its own
    assert len(added) == 6  # the 2 training posts + the 4 unlabelled ones, with the ensemble's tags
    singles = [compute_targets(from_pretrained(d / "best"), added, progress_bar=False) for d in (teacher_dir, other)]
    for post in added:
        expected = (singles[0].posteriors[post_key(post)] + singles[1].posteriors[post_key(post)]) / 2
        assert torch.allclose(objective.targets.posteriors[post_key(post)], expected, atol=1e-6)
    assert all(not bio_problems(p.tags) for p in added[2:])
    assert any(not torch.allclose(singles[0].posteriors[post_key(p)], singles[1].posteriors[post_key(p)], atol=1e-3)
               for p in added)  # two different teachers, so the mean is not either one


def test_distill_teacher_must_name_runs():
    from mner.distill.prepare import teacher_list

    assert teacher_list("runs/a") == ["runs/a"] and teacher_list(["runs/a", "runs/b"]) == ["runs/a", "runs/b"]
    for bad in ([], [3], None, ""):
        with pytest.raises(ValueError, match="distill.teacher must be"):
            teacher_list(bad)


def test_mner_distill_takes_more_teachers_with_teacher(tmp_path, tiny_bert_dir, teacher_dir):
    import yaml
    from typer.testing import CliRunner

    from mner.cli.main import app

    posts = make_posts(4)
    data = tmp_path / "posts.jsonl"
    _write_jsonl(data, posts)
    cfg = _cfg(tmp_path / "student", tiny_bert_dir, epochs=2,
               extra=[f"data.train={data}", f"data.dev={data}", "data.format=jsonl",
                      f"distill.cache_dir={tmp_path / 'cache'}"])
    config = tmp_path / "student.yaml"
    config.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    result = CliRunner().invoke(app, ["distill", str(teacher_dir), str(config), "--teacher", str(teacher_dir),
                                      "--quiet"])
    assert result.exit_code == 0, result.output
    assert "student: best dev F1" in result.output
    saved = yaml.safe_load((tmp_path / "student" / "config.yaml").read_text(encoding="utf-8"))
    assert saved["distill"]["teacher"] == [str(teacher_dir), str(teacher_dir)]
    bad = CliRunner().invoke(app, ["distill", str(tmp_path / "no-such-run"), str(config), "--quiet"])
    assert bad.exit_code == 1 and "error:" in bad.output and "Traceback" not in bad.output


def test_ensemble_dev_f1_script_scores_members_and_their_mean(tmp_path, teacher_dir):
    import os
    import subprocess
    import sys
    from pathlib import Path

    data = tmp_path / "dev.jsonl"
    _write_jsonl(data, make_posts(4))
    script = Path(__file__).resolve().parents[2] / "scripts" / "ensemble_dev_f1.py"
    src = str(Path(__file__).resolve().parents[2] / "src")
    out = subprocess.run([sys.executable, str(script), str(teacher_dir), str(teacher_dir), "--data", str(data)],
                         capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": src})
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [line for line in out.stdout.splitlines() if line.startswith("| ") and "dev F1" not in line]
    assert len(rows) == 3 and rows[-1] == "| **ensemble of 2** | **100.00** |"  # the teacher fits these posts
