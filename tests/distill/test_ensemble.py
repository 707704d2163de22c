"""An ensemble of teachers: averaged posteriors in one label order, and the best BIO-valid path over them."""

import itertools

import pytest
import torch

from mner.data.tags import bio_problems
from mner.distill.ensemble import average_targets, best_valid_path
from mner.distill.targets import TeacherTargets
from mner.modules.heads.crf import bio_transition_mask

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def _brute_force(log_probs, labels):
    best, best_score = None, float("-inf")
    for path in itertools.product(range(len(labels)), repeat=log_probs.shape[0]):
        if bio_problems([labels[i] for i in path]):
            continue
        score = sum(float(log_probs[t, y]) for t, y in enumerate(path))
        if score > best_score:
            best, best_score = list(path), score
    return best


@pytest.mark.parametrize("seed", range(12))
def test_best_valid_path_is_the_best_bio_valid_path(seed):
    generator = torch.Generator().manual_seed(seed)
    log_probs = torch.randn(4, len(LABELS), generator=generator) * 3  # (w, L)
    allowed, start = bio_transition_mask(LABELS)
    path = best_valid_path(log_probs, allowed, start)
    assert path == _brute_force(log_probs, LABELS)
    assert not bio_problems([LABELS[i] for i in path])


def test_a_per_word_argmax_that_breaks_bio_is_repaired():
    # per word the argmax is O, I-PER: forbidden; B-PER I-PER is the best valid reading
    probs = torch.tensor([[0.5, 0.45, 0.05, 0.0, 0.0], [0.1, 0.0, 0.9, 0.0, 0.0]])
    allowed, start = bio_transition_mask(LABELS)
    assert best_valid_path(probs.log(), allowed, start) == [1, 2]


def test_average_targets_means_in_the_first_label_order():
    a = TeacherTargets(LABELS, {"k": torch.tensor([[0.6, 0.4, 0.0, 0.0, 0.0]])}, {"k": torch.tensor([0])})
    order = [3, 0, 4, 1, 2]  # the second teacher lists its labels in another order
    b_probs = torch.tensor([[0.0, 0.2, 0.8, 0.0, 0.0]])  # in LABELS order
    b = TeacherTargets([LABELS[i] for i in order], {"k": b_probs[:, order]}, {"k": torch.tensor([3])})
    mean = average_targets([a, b])
    assert mean.labels == LABELS
    assert torch.allclose(mean.posteriors["k"], torch.tensor([[0.3, 0.3, 0.4, 0.0, 0.0]]))
    assert mean.paths["k"].tolist() == [0]  # I-PER (0.4) cannot start a post: O and B-PER tie, O first
    assert average_targets([a]) is a  # one teacher keeps its own CRF path


def test_average_targets_refuses_teachers_that_do_not_match():
    a = TeacherTargets(LABELS, {"k": torch.full((1, 5), 0.2)}, {"k": torch.tensor([0])})
    other_labels = TeacherTargets(["O", "B-ORG", "I-ORG"], {"k": torch.full((1, 3), 1 / 3)}, {"k": torch.tensor([0])})
    with pytest.raises(ValueError, match="share one label set"):
        average_targets([a, other_labels])
    fewer_posts = TeacherTargets(LABELS, {}, {})
    with pytest.raises(ValueError, match="no targets for 1 posts"):
        average_targets([a, fewer_posts])
