import itertools

import pytest
import torch

from mner.data.tags import bio_problems
from mner.modules.heads.crf import CRF, CrfHead, bio_transition_mask

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def _random_crf(constrained: bool) -> CRF:
    torch.manual_seed(1)
    allowed, start = bio_transition_mask(LABELS) if constrained else (None, None)
    crf = CRF(len(LABELS), allowed, start)
    with torch.no_grad():
        for p in (crf.transitions, crf.start, crf.end):
            p.normal_()
    return crf


def _path_score(crf: CRF, emissions: torch.Tensor, path: tuple[int, ...]) -> torch.Tensor:
    trans, start = crf._scores()
    score = start[path[0]] + emissions[0, path[0]]
    for t in range(1, len(path)):
        score = score + trans[path[t - 1], path[t]] + emissions[t, path[t]]
    return score + crf.end[path[-1]]


@pytest.mark.parametrize("constrained", [False, True])
def test_nll_viterbi_and_marginals_match_brute_force(constrained):
    crf = _random_crf(constrained)
    emissions = torch.randn(2, 4, len(LABELS))
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]], dtype=torch.bool)
    gold = torch.tensor([[0, 1, 2, 0], [3, 4, 0, 0]])
    total_nll = 0.0
    paths = crf.viterbi(emissions, mask)
    marginals = crf.marginals(emissions, mask).detach()
    for i, n in enumerate([4, 3]):
        all_paths = list(itertools.product(range(len(LABELS)), repeat=n))
        scores = torch.stack([_path_score(crf, emissions[i], p) for p in all_paths])
        log_z = torch.logsumexp(scores, 0)
        total_nll += (log_z - _path_score(crf, emissions[i], tuple(gold[i, :n].tolist()))).item()
        assert tuple(paths[i]) == all_paths[int(scores.argmax())]
        probs = (scores - log_z).exp().detach()
        for t in range(n):
            for label in range(len(LABELS)):
                expected = sum(p for path, p in zip(all_paths, probs) if path[t] == label)
                assert marginals[i, t, label].item() == pytest.approx(float(expected), abs=1e-5)
    assert crf.nll(emissions, gold, mask).item() * 2 == pytest.approx(total_nll, rel=1e-5)


def test_constrained_decoding_is_always_well_formed_bio():
    head = CrfHead(8, LABELS)
    torch.manual_seed(0)
    emissions = torch.randn(50, 7, len(LABELS)) * 5
    emissions[..., 2] += 3  # push towards I-PER everywhere: unconstrained decoding would start with I-
    mask = torch.ones(50, 7, dtype=torch.bool)
    paths, confidences = head.decode(emissions, mask)
    for path, conf in zip(paths, confidences):
        assert bio_problems([LABELS[i] for i in path]) == []
        assert all(0.0 <= c <= 1.0 for c in conf)


def test_transition_mask_forbids_exactly_the_ill_formed_moves():
    allowed, start = bio_transition_mask(LABELS)
    assert not start[LABELS.index("I-PER")] and start[LABELS.index("B-PER")]
    assert allowed[LABELS.index("B-PER"), LABELS.index("I-PER")]
    assert allowed[LABELS.index("I-PER"), LABELS.index("I-PER")]
    assert not allowed[LABELS.index("O"), LABELS.index("I-PER")]
    assert not allowed[LABELS.index("B-LOC"), LABELS.index("I-PER")]
    assert allowed[LABELS.index("I-LOC"), LABELS.index("B-PER")]


def test_decode_confidences_are_the_path_marginals_with_padding_and_one_word_rows():
    crf = _random_crf(constrained=True)
    torch.manual_seed(3)
    emissions = torch.randn(4, 6, len(LABELS)) * 3
    mask = torch.tensor([[1] * 6, [1] * 3 + [0] * 3, [1] + [0] * 5, [1] * 5 + [0]], dtype=torch.bool)
    paths, confidences = crf.decode(emissions, mask)
    marginals = crf.marginals(emissions, mask)
    assert [len(p) for p in paths] == [6, 3, 1, 5] and paths == crf.viterbi(emissions, mask)
    for i, path in enumerate(paths):
        assert confidences[i] == pytest.approx([marginals[i, t, label].item() for t, label in enumerate(path)])
    assert torch.allclose(marginals.sum(-1), mask.float(), atol=1e-5)  # a distribution per real word, 0 on padding
    single = crf.decode(emissions[:, :1], mask[:, :1])  # w = 1: no transitions at all
    assert single[0] == [[int((crf._scores()[1] + emissions[i, 0] + crf.end).argmax())] for i in range(4)]
