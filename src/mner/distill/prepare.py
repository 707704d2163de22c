"""A config's `distill` section -> the training posts and the objective of a distillation run.

    distill:
      teacher: runs/twitter2017-context-knowledge   # any trained mner model (run folder or model dir),
                                                    # or a list of them: an ensemble (mner.distill.ensemble)
      weight: 0.5          # share of the soft (teacher) term; 1 - weight goes to the hard path
      temperature: 1.0     # softens the teacher's and the student's posteriors alike
      cache_dir: runs/distill-cache
      unlabelled:          # optional: posts without (or ignoring) gold tags, tagged by the teacher
        - {path: more_posts.txt, format: twitter, visual_text: {knowledge: more_knowledge.jsonl}}
      max_unlabelled: null

The training posts must carry the inputs the teacher reads (e.g. `data.visual_text.knowledge`);
the student reads only what its own model section names. Unlabelled posts that repeat a dev or
training post (same id or same words, as `data.extra_train` checks) are dropped: dev posts never
reach training, not even unlabelled.
"""

from __future__ import annotations

import dataclasses
import fcntl
from pathlib import Path
from typing import Any, Callable

from mner.data.post import Post


def load_unlabelled(sources: list[dict[str, Any]], held: list[Post]) -> tuple[list[Post], int]:
    """The unlabelled posts of `sources`, and how many were dropped for repeating a `held` post."""
    from mner.data.extra_train import held_keys
    from mner.data.loading import load_posts

    held_ids, held_words = held_keys(held)
    posts: list[Post] = []
    dropped = 0
    for k, source in enumerate(sources):
        if not isinstance(source, dict) or not source.get("path"):
            raise ValueError(f"distill.unlabelled[{k}] must be a mapping with a path (and optional format, "
                             "visual_text, images)")
        for post in load_posts(source["path"], source.get("format"), images_dir=source.get("images"),
                               visual_text=source.get("visual_text") or {}):
            if not post.tokens:  # an empty post has nothing to learn
                continue
            if post.id in held_ids or tuple(post.tokens) in held_words:  # by id too: releases retokenise
                dropped += 1
            else:
                posts.append(dataclasses.replace(post, id=f"unlabelled{k}:{post.id}", tags=None, entities=[]))
    return posts, dropped


class TeacherNotReady(ValueError):
    """A teacher run that another process is training right now: its best/ is a snapshot, not the teacher."""


def claimed_by_another_process(run: Path) -> bool:
    """Whether `mner experiment`'s claim on the grid run `run` (an exclusive lock on RUN.lock) is held."""
    from mner.experiments import claim_path  # lazily: mner.experiments imports this module

    lock = claim_path(run)
    if not lock.exists():
        return False
    with open(lock, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def ready_teacher_dir(teacher: str, log: Callable[[str], None] = print) -> Path:
    """The model directory of a teacher that has stopped training.

    Why: several `mner experiment` processes share out a grid's runs, so a student's run can come up
    while its teacher's run is still training; its best/ would then be an early epoch, silently.
    """
    from mner.predict import resolve_model_dir

    run = Path(teacher)
    if claimed_by_another_process(run):
        raise TeacherNotReady(f"distill.teacher {teacher} is being trained by another process right now; "
                              "train the student once it has finished")
    if (run / "checkpoint").is_dir() and not (run / "summary.json").exists():
        log(f"distill: teacher {teacher} did not finish its run (no summary.json): its best/ so far teaches")
    return resolve_model_dir(run)


def teacher_list(teacher: Any) -> list[str]:
    """`distill.teacher` as a list: one run, or several whose posteriors are averaged."""
    teachers = [teacher] if isinstance(teacher, (str, Path)) else list(teacher or [])
    if not teachers or not all(isinstance(t, (str, Path)) and str(t) for t in teachers):
        raise ValueError(f"distill.teacher must be a run folder or a list of them, not {teacher!r}")
    return [str(t) for t in teachers]


def prepare_distillation(config: dict[str, Any], train: list[Post], dev: list[Post],
                         log: Callable[[str], None] = print, device: Any = "cpu"):
    from mner.checkpoint import from_pretrained
    from mner.distill.ensemble import average_targets
    from mner.distill.targets import cached_targets
    from mner.training.objectives import DistillObjective

    dcfg = config["distill"]
    teacher_dirs = [ready_teacher_dir(t, log) for t in teacher_list(dcfg["teacher"])]
    kept, dropped = load_unlabelled(list(dcfg.get("unlabelled") or []), train + dev)
    if dropped:
        log(f"distill: dropped {dropped} unlabelled posts that repeat a training or dev post (its id or words)")
    if dcfg.get("max_unlabelled"):
        kept = kept[: int(dcfg["max_unlabelled"])]
    temperature = float(dcfg.get("temperature", 1.0))
    cache_dir = Path(dcfg.get("cache_dir") or Path(config.get("output_dir", "runs")) / "teacher-targets")
    members = []
    for teacher_dir in teacher_dirs:  # one teacher in memory at a time: only its targets are kept
        members.append(cached_targets(from_pretrained(teacher_dir).to(device), teacher_dir, train + kept,
                                      temperature, cache_dir, log))
    targets = average_targets(members)
    pseudo = [dataclasses.replace(p, tags=targets.tags(p)) for p in kept]
    names = ", ".join(str(d) for d in teacher_dirs)
    log(f"distill: teacher{'s' if len(teacher_dirs) > 1 else ''} {names}, {len(train)} labelled + "
        f"{len(pseudo)} teacher-labelled posts, "
        f"weight {dcfg.get('weight', 0.5)}, temperature {temperature}")
    return train + pseudo, DistillObjective(targets, dcfg.get("weight", 0.5), temperature)
