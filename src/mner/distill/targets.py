"""A teacher's per-word label posteriors over a set of posts, computed once and cached.

The cache is one safetensors file per (teacher weights, temperature, posts and their inputs):
`<key>.safetensors` holding, per post, its (w, L) posteriors and its best path. A rerun,
another seed or a resumed run reads the file instead of running the teacher again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from mner.data.post import Post
from mner.evaluation import inference_order
from mner.file_lock import exclusive_lock


def post_key(post: Post) -> str:
    """Names a post by id and words: ids alone can repeat across files."""
    text = post.id + "\x1e" + "\x1f".join(post.tokens)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def file_digest(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sha.update(chunk)
    return sha.hexdigest()


class TeacherTargets:
    """Per post: the teacher's (w, L) posteriors (in `labels` order) and its best path."""

    def __init__(self, labels: list[str], posteriors: dict[str, torch.Tensor], paths: dict[str, torch.Tensor]):
        self.labels = list(labels)
        self.posteriors = posteriors
        self.paths = paths

    def tags(self, post: Post) -> list[str]:
        """The teacher's best path for `post` (the hard target of an unlabelled post)."""
        return [self.labels[i] for i in self.paths[post_key(post)].tolist()]

    def stack(self, posts: list[Post], width: int, labels: list[str]) -> torch.Tensor:
        """(b, width, L') posteriors re-ordered to `labels` (a student's label order), zero on padding."""
        missing = [label for label in labels if label not in self.labels]
        extra = [label for label in self.labels if label not in labels]
        if extra:  # the student could not represent mass the teacher puts there
            raise ValueError(f"the teacher predicts labels the student lacks: {', '.join(extra)}")
        columns = [self.labels.index(label) if label not in missing else -1 for label in labels]
        out = torch.zeros(len(posts), width, len(labels))
        for i, post in enumerate(posts):
            rows = self.posteriors[post_key(post)]  # (w, L)
            for j, column in enumerate(columns):
                if column >= 0:
                    out[i, : rows.shape[0], j] = rows[:, column]
        return out


def targets_digest(teacher_dir: Path, posts: list[Post], temperature: float) -> str:
    """Everything the targets depend on: the teacher's weights and every input of every post."""
    sha = hashlib.sha256()
    sha.update(file_digest(teacher_dir / "model.safetensors").encode())
    sha.update(f"T={temperature}".encode())
    for post in posts:
        sha.update(post_key(post).encode())
        sha.update(json.dumps(post.visual_text or {}, sort_keys=True).encode("utf-8"))
        sha.update("\x1f".join(str(image) for image in post.images).encode("utf-8"))
    return sha.hexdigest()[:24]


@torch.inference_mode()
def compute_targets(teacher: Any, posts: list[Post], temperature: float = 1.0, batch_size: int = 64,
                    progress_bar: bool = True) -> TeacherTargets:
    """Run the teacher once over `posts` (each with the inputs the teacher reads)."""
    from tqdm.auto import tqdm

    teacher.eval()
    posteriors: dict[str, torch.Tensor] = {}
    paths: dict[str, torch.Tensor] = {}
    for chosen in tqdm(inference_order(teacher, posts, batch_size), desc="teacher", disable=not progress_bar,
                       leave=False):
        group = [posts[i] for i in chosen]
        batch = teacher.batch(group, with_labels=False)
        emissions = teacher.emissions(batch)  # (b, w, L)
        probs = teacher.head.log_marginals(emissions, batch.mask, temperature).exp()  # (b, w, L)
        best, _ = teacher.head.decode(emissions, batch.mask)
        for row, (post, path) in enumerate(zip(group, best)):
            n = len(post.tokens)
            posteriors[post_key(post)] = probs[row, :n].float().cpu().contiguous().clone()  # cached on the CPU
            paths[post_key(post)] = torch.tensor(path, dtype=torch.int64)
    return TeacherTargets(teacher.labels, posteriors, paths)


def save_targets(targets: TeacherTargets, path: Path) -> None:
    tensors = {f"p.{k}": v for k, v in targets.posteriors.items()}
    tensors.update({f"y.{k}": v for k, v in targets.paths.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    save_file(tensors, tmp, metadata={"labels": json.dumps(targets.labels)})
    os.replace(tmp, path)


def load_targets(path: Path) -> TeacherTargets:
    posteriors, paths = {}, {}
    with safe_open(str(path), framework="pt") as handle:
        labels = json.loads((handle.metadata() or {})["labels"])
        for name in handle.keys():
            kind, key = name.split(".", 1)
            (posteriors if kind == "p" else paths)[key] = handle.get_tensor(name)
    return TeacherTargets(labels, posteriors, paths)


def cached_targets(teacher: Any, teacher_dir: Path, posts: list[Post], temperature: float, cache_dir: Path,
                   log: Any = print, progress_bar: bool = True) -> TeacherTargets:
    path = Path(cache_dir) / f"teacher-{targets_digest(teacher_dir, posts, temperature)}.safetensors"
    # Why a lock: the seeds of a grid (`mner experiment --jobs N`) ask for the same targets at once.
    # Unlocked, each ran the teacher over every post (three seeds: three times the work, side by side);
    # under the lock the first computes and the others wait, then read its file.
    path.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(path.with_name(f".{path.name}.lock")):
        if path.exists():
            try:
                targets = load_targets(path)
                log(f"teacher targets read from {path}")
                return targets
            except Exception as err:  # a damaged cache file costs a recomputation, never a wrong target
                log(f"{path}: unreadable cache ({err}); computing the teacher's targets again")
        log(f"computing the teacher's targets over {len(posts)} posts (cached in {path})")
        targets = compute_targets(teacher, posts, temperature, progress_bar=progress_bar)
        save_targets(targets, path)
    return targets
