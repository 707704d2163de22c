"""Several teachers as one: their per-word posteriors averaged, and the best well-formed path over them.

Why an ensemble: averaging the posteriors of models trained from different seeds gives targets
that are better calibrated and more often right than any one of them (the student then learns the
seeds' agreement, not one seed's idiosyncrasies), at the cost of one teacher pass per model, paid
once: each teacher's targets are cached on their own.

The averaged posteriors have no CRF of their own, so the hard target of an unlabelled post is the
BIO-valid path that maximises the product of the averaged per-word probabilities (a Viterbi over
their logarithms with BIO's forbidden transitions), not any one teacher's Viterbi path.
"""

from __future__ import annotations

import torch

from mner.distill.targets import TeacherTargets
from mner.modules.heads.crf import CRF, bio_transition_mask


def best_valid_path(log_probs: torch.Tensor, allowed: torch.Tensor, start_allowed: torch.Tensor) -> list[int]:
    """argmax over BIO-valid paths of sum_t log_probs[t, y_t]; log_probs (w, L), allowed (L, L) from -> to.

    The CRF's own Viterbi with no learned scores: only BIO's forbidden transitions remain."""
    decoder = CRF(log_probs.shape[1], allowed, start_allowed)
    return decoder.viterbi(log_probs[None], torch.ones(1, log_probs.shape[0], dtype=torch.bool))[0]


def average_targets(members: list[TeacherTargets]) -> TeacherTargets:
    """The mean of the members' posteriors (in the first member's label order) and its best valid path."""
    if len(members) == 1:
        return members[0]  # one teacher keeps its own CRF path
    labels = members[0].labels
    for k, member in enumerate(members[1:], start=2):
        if sorted(member.labels) != sorted(labels):
            raise ValueError(f"teacher {k} predicts labels {member.labels}, teacher 1 {labels}: "
                             "an ensemble's teachers must share one label set")
        missing = set(members[0].posteriors) - set(member.posteriors)
        if missing:
            raise ValueError(f"teacher {k} has no targets for {len(missing)} posts")
    orders = [[member.labels.index(label) for label in labels] for member in members]
    allowed, start_allowed = bio_transition_mask(labels)
    posteriors: dict[str, torch.Tensor] = {}
    paths: dict[str, torch.Tensor] = {}
    for key in members[0].posteriors:
        mean = torch.stack([m.posteriors[key][:, order] for m, order in zip(members, orders)]).mean(dim=0)  # (w, L)
        posteriors[key] = mean
        log_probs = mean.clamp_min(1e-12).log()  # (w, L)
        paths[key] = torch.tensor(best_valid_path(log_probs, allowed, start_allowed), dtype=torch.int64)
    return TeacherTargets(labels, posteriors, paths)
