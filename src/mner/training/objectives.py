"""What a training step minimises, given the step's posts.

The loop hands each step's posts to an objective and backpropagates what it returns, so
training signals that need more than one forward pass (two views of a post, a teacher's
soft labels) live here, not in the loop or the model:

- `TaggingObjective`: the head's loss on the gold tags (what every run used before).
- `CrossViewObjective` (ITA, Wang et al. NAACL 2022): each post is read twice, with its
  visual text (the second segment, e.g. LLM knowledge) and without it; both views learn the
  gold tags and the text view's per-word label distribution is pulled towards the full
  view's (KL). At prediction the model reads whatever a post has, and the text view has
  learnt to tag well alone.
- `DistillObjective`: a student learns a teacher's per-word label posteriors (soft labels,
  `mner.distill`) beside the gold tags, or the teacher's best path on unlabelled posts.

`build_objective` (the builder) reads `train.cross_view` and the `distill` section.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import torch

from mner.data.post import Post
from mner.second_segment import segment_fields

DIRECTIONS = ("to_text", "both")


class TaggingObjective:
    def __call__(self, model: Any, posts: list[Post]) -> torch.Tensor:
        return model.loss(model.batch(posts))


def without_visual_text(post: Post) -> Post:
    """The same post as a user without the auxiliary inputs would send it."""
    return dataclasses.replace(post, visual_text={}, images=[], regions=[])


def masked_kl(log_q: torch.Tensor, log_p: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(b,) KL(q || p) summed over each row's real words; (b, w, L) log distributions."""
    per_word = (log_q.exp() * (log_q - log_p)).sum(-1)  # (b, w)
    return (per_word * mask).sum(1)


class CrossViewObjective:
    """Gold loss on both views + `weight` x KL(full view || text view) per word.

    `direction="to_text"` detaches the full view in the KL (only the text view moves towards
    it, ITA's choice); `"both"` adds the reverse term, so the views meet halfway.
    """

    def __init__(self, field: str | list[str], weight: float = 1.0, direction: str = "to_text"):
        if direction not in DIRECTIONS:
            raise ValueError(f"train.cross_view.direction must be one of {DIRECTIONS}, not {direction!r}")
        self.fields, self.weight, self.direction = segment_fields(field), float(weight), direction

    def __call__(self, model: Any, posts: list[Post]) -> torch.Tensor:
        full = model.batch(posts)
        full_emissions = model.emissions(full)  # (b, w, L)
        loss = model.head.loss(full_emissions, full.labels, full.mask)
        # posts without the field read the same either way: a second view of them adds nothing
        rows = [i for i, p in enumerate(posts) if any((p.visual_text or {}).get(f) for f in self.fields)]
        if not rows:
            return loss
        text = model.batch([without_visual_text(posts[i]) for i in rows])
        text_emissions = model.emissions(text)  # (r, w', L), w' <= w
        width = text_emissions.shape[1]
        loss = loss + model.head.loss(text_emissions, text.labels, text.mask)
        log_full = model.head.log_marginals(full_emissions[rows, :width], text.mask)  # (r, w', L)
        log_text = model.head.log_marginals(text_emissions, text.mask)
        kl = masked_kl(log_full.detach(), log_text, text.mask)
        if self.direction == "both":
            kl = kl + masked_kl(log_text.detach(), log_full, text.mask)
        return loss + self.weight * kl.mean()


class DistillObjective:
    """(1 - weight) x NLL of the target path + weight x T^2 x CE(teacher posteriors, student's).

    The target path is the gold one, or the teacher's best path on an unlabelled post. The
    student's posteriors are computed at the teacher's temperature T (Hinton et al.: T^2 keeps
    the soft term's gradients on the scale of the hard one's).
    """

    def __init__(self, targets: Any, weight: float = 0.5, temperature: float = 1.0):
        if not 0.0 <= float(weight) <= 1.0:
            raise ValueError(f"distill.weight must be within [0, 1], not {weight}")
        self.targets, self.weight, self.temperature = targets, float(weight), float(temperature)

    def __call__(self, model: Any, posts: list[Post]) -> torch.Tensor:
        batch = model.batch(posts)
        emissions = model.emissions(batch)  # (b, w, L)
        hard = model.head.loss_rows(emissions, batch.labels, batch.mask)  # (b,)
        teacher = self.targets.stack(posts, emissions.shape[1], model.labels).to(emissions.device)  # (b, w, L)
        log_student = model.head.log_marginals(emissions, batch.mask, self.temperature)
        soft = (-(teacher * log_student).sum(-1) * batch.mask).sum(1)  # (b,)
        t2 = self.temperature ** 2
        return ((1.0 - self.weight) * hard + self.weight * t2 * soft).mean()


def build_objective(config: dict[str, Any], train: list[Post], dev: list[Post],
                    log: Callable[[str], None] = print, device: torch.device | str = "cpu",
                    ) -> tuple[list[Post], Callable[[Any, list[Post]], torch.Tensor]]:
    """The config's objective, and the training posts it trains on (distillation may add
    teacher-labelled posts; its teachers run on `device`, the training device)."""
    cross = (config.get("train") or {}).get("cross_view")
    distill = config.get("distill") or {}
    if cross and distill.get("teacher"):
        raise ValueError("train.cross_view and distill are alternatives: set one")
    if distill.get("teacher"):
        from mner.distill.prepare import prepare_distillation

        return prepare_distillation(config, train, dev, log, device)
    if cross:
        field = cross.get("field") or (config.get("model") or {}).get("second_segment")
        if not field:
            raise ValueError("train.cross_view needs a visual-text field: set train.cross_view.field or "
                             "model.second_segment")
        return train, CrossViewObjective(field, cross.get("weight", 1.0), cross.get("direction", "to_text"))
    return train, TaggingObjective()
