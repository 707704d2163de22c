"""A student trained on a teacher's soft labels reproduces the teacher, not the gold it was given."""

import dataclasses
import json

import pytest
import torch

from mner.config import load_config
from mner.data.tags import bio_to_spans
from mner.distill.targets import cached_targets, compute_targets, load_targets, post_key
from mner.checkpoint import from_pretrained
from mner.evaluation import predict_tags
from mner.training.run import train_run
from posts_factory import make_posts

QUIET = {"progress_bar": False, "log": lambda *_: None}


def _write_jsonl(path, posts):
    path.write_text("".join(json.dumps(p.to_dict()) + "\n" for p in posts), encoding="utf-8")


def _cfg(out, tiny_bert_dir, epochs=30, extra=()):
    cfg = load_config(None, [f"output_dir={out}", f"train.epochs={epochs}", "train.batch_size=4",
                             "train.lr.encoder=3e-3", "train.lr.head=3e-2", "train.patience=0",
                             "train.scheduler.warmup=0.0", "model.dropout=0.0", *extra])
    cfg["model"]["encoder"] = {"name": "encoder.hf.v1", "model": str(tiny_bert_dir)}
    return cfg


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
    _write_jsonl(path, [dataclasses.replace(p, tags=["O"] * len(p.tokens), entities=[]) for p in new])
    posts, objective = prepare_distillation(cfg, train, dev, lambda *_: None)
    added = posts[2:]
    assert len(added) == 4 and all(p.id.startswith("unlabelled0:") for p in added)
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


def test_student_labels_must_cover_the_teachers(teacher_dir):
    teacher = from_pretrained(teacher_dir / "best")
    targets = compute_targets(teacher, make_posts(2), progress_bar=False)
    with pytest.raises(ValueError, match="labels the student lacks"):
        targets.stack(make_posts(2), 7, ["O", "B-PER", "I-PER"])
    stacked = targets.stack(make_posts(2), 9, teacher.labels)
    assert stacked.shape == (2, 9, len(teacher.labels)) and stacked[:, 7:].abs().sum() == 0
