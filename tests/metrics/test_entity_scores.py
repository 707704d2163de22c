"""Entity-level scores: hand-checked cases and equality with seqeval."""

from __future__ import annotations

import json
import random
import warnings

import pytest
from seqeval.metrics import classification_report, f1_score, precision_score, recall_score

from mner.metrics import EntityScores, entity_scores, span_scores

TYPES = ["PER", "LOC", "ORG", "MISC"]
ALL_TAGS = ["O"] + [f"{p}-{t}" for t in TYPES for p in "BI"]


def seqeval_scores(gold: list[list[str]], pred: list[list[str]]) -> tuple[float, float, float, dict]:
    """seqeval's default (conlleval-like) mode, silencing its zero-division warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = classification_report(gold, pred, output_dict=True)
        return (
            precision_score(gold, pred),
            recall_score(gold, pred),
            f1_score(gold, pred),
            report,
        )


def assert_matches_seqeval(gold: list[list[str]], pred: list[list[str]]) -> None:
    ours = entity_scores(gold, pred)
    p, r, f, report = seqeval_scores(gold, pred)
    assert ours.precision / 100 == pytest.approx(p, abs=1e-9)
    assert ours.recall / 100 == pytest.approx(r, abs=1e-9)
    assert ours.f1 / 100 == pytest.approx(f, abs=1e-9)
    seqeval_types = {k for k in report if not k.endswith(" avg")}
    assert set(ours.per_type) == seqeval_types
    for entity_type, scores in ours.per_type.items():
        expected = report[entity_type]
        assert scores.f1 / 100 == pytest.approx(expected["f1-score"], abs=1e-9)
        assert scores.precision / 100 == pytest.approx(expected["precision"], abs=1e-9)
        assert scores.recall / 100 == pytest.approx(expected["recall"], abs=1e-9)
        assert scores.support == expected["support"]


FIXTURES = {
    "perfect": (
        [["B-PER", "I-PER", "O", "B-LOC"]],
        [["B-PER", "I-PER", "O", "B-LOC"]],
    ),
    "boundary_and_type_errors": (
        [["B-PER", "I-PER", "O", "B-LOC", "O", "B-ORG", "I-ORG"]],
        [["B-PER", "O", "O", "B-ORG", "O", "B-ORG", "I-ORG"]],
    ),
    "stray_i_starts_entity": (
        [["O", "I-PER", "I-PER", "O"], ["B-LOC", "I-ORG"]],
        [["O", "B-PER", "I-PER", "O"], ["B-LOC", "B-ORG"]],
    ),
    "adjacent_b_tags": (
        [["B-MISC", "B-MISC", "I-MISC"]],
        [["B-MISC", "I-MISC", "I-MISC"]],
    ),
    "entity_at_post_end_does_not_merge_into_next_post": (
        [["O", "B-PER"], ["I-PER", "O"]],
        [["O", "B-PER"], ["I-PER", "O"]],
    ),
    "empty_posts_and_all_o": (
        [[], ["O", "O"], ["B-LOC"]],
        [[], ["O", "B-LOC"], ["O"]],
    ),
}


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_matches_seqeval(name: str) -> None:
    gold, pred = FIXTURES[name]
    assert_matches_seqeval(gold, pred)


def test_hand_computed_counts() -> None:
    gold, pred = FIXTURES["boundary_and_type_errors"]
    # gold: PER[0,2) LOC[3,4) ORG[5,7); pred: PER[0,1) ORG[3,4) ORG[5,7)
    scores = entity_scores(gold, pred)
    assert (scores.tp, scores.n_pred, scores.n_gold) == (1, 3, 3)
    assert scores.precision == pytest.approx(100 / 3)
    assert scores.recall == pytest.approx(100 / 3)
    assert scores.per_type["ORG"].precision == pytest.approx(50.0)
    assert scores.per_type["ORG"].recall == pytest.approx(100.0)
    assert scores.per_type["LOC"].n_pred == 0
    assert scores.per_type["LOC"].precision == 0.0


def test_stray_i_reads_as_new_entity() -> None:
    # I-PER after O is an entity of its own (conlleval), so it matches B-PER.
    scores = entity_scores([["O", "I-PER"]], [["O", "B-PER"]])
    assert scores.f1 == pytest.approx(100.0)


def random_tags(rng: random.Random, length: int) -> list[str]:
    # O-heavy like real posts, with I- tags free to be ill-formed.
    return [rng.choice(ALL_TAGS) if rng.random() < 0.45 else "O" for _ in range(length)]


def perturb(rng: random.Random, tags: list[str]) -> list[str]:
    """A plausible prediction: the gold sequence with some tags replaced."""
    return [rng.choice(ALL_TAGS) if rng.random() < 0.2 else t for t in tags]


def test_random_sequences_match_seqeval() -> None:
    rng = random.Random(20240611)
    for trial in range(300):
        n_posts = rng.randint(1, 6)
        lengths = [rng.choice([0, 1, 2, 5, 9, 14]) for _ in range(n_posts)]
        gold = [random_tags(rng, n) for n in lengths]
        if trial % 3 == 0:
            pred = [random_tags(rng, n) for n in lengths]  # unrelated prediction
        else:
            pred = [perturb(rng, g) for g in gold]
        if trial % 25 == 0:
            pred = [["O"] * n for n in lengths]  # a model that predicts nothing
        assert_matches_seqeval(gold, pred)


def test_no_predictions_scores_zero() -> None:
    scores = entity_scores([["B-PER", "O"]], [["O", "O"]])
    assert (scores.precision, scores.recall, scores.f1) == (0.0, 0.0, 0.0)
    assert scores.n_pred == 0 and scores.n_gold == 1


def test_no_gold_scores_zero() -> None:
    scores = entity_scores([["O", "O"]], [["B-LOC", "O"]])
    assert (scores.precision, scores.recall, scores.f1) == (0.0, 0.0, 0.0)
    assert scores.per_type["LOC"].support == 0


def test_nothing_at_all() -> None:
    scores = entity_scores([[], ["O"]], [[], ["O"]])
    assert scores.f1 == 0.0 and scores.per_type == {}


def test_length_mismatch_names_post() -> None:
    with pytest.raises(ValueError, match="post 1"):
        entity_scores([["O"], ["O", "B-PER"]], [["O"], ["O"]])


def test_post_count_mismatch() -> None:
    with pytest.raises(ValueError):
        entity_scores([["O"]], [])


def test_span_scores_accept_richer_tuples() -> None:
    # GMNER-style: (start, end, type, grounding); only the type position matters.
    gold = [{(0, 2, "PER", "box1"), (3, 4, "LOC", None)}]
    pred = [{(0, 2, "PER", "box1"), (3, 4, "LOC", "box2")}]
    scores = span_scores(gold, pred)
    assert scores.tp == 1
    assert scores.per_type["PER"].f1 == pytest.approx(100.0)
    assert scores.per_type["LOC"].f1 == 0.0


def test_to_dict_is_json_ready() -> None:
    scores = entity_scores(*FIXTURES["boundary_and_type_errors"])
    d = json.loads(json.dumps(scores.to_dict()))
    assert {"precision", "recall", "f1", "tp", "n_pred", "n_gold", "per_type"} <= set(d)
    assert d["per_type"]["ORG"]["support"] == 1
    assert set(d["per_type"]["ORG"]) == {"precision", "recall", "f1", "support", "n_pred", "tp"}


def test_format_table_lists_types_and_micro() -> None:
    scores = entity_scores(*FIXTURES["boundary_and_type_errors"])
    table = scores.format_table()
    lines = table.splitlines()
    assert "precision" in lines[0] and "support" in lines[0]
    for name in ("LOC", "ORG", "PER", "micro avg"):
        assert any(line.strip().startswith(name) for line in lines)
    micro = next(line for line in lines if "micro avg" in line)
    assert micro.split()[-4:] == ["33.33", "33.33", "33.33", "3"]


def test_scores_is_dataclass_with_percentages() -> None:
    scores = entity_scores([["B-PER"]], [["B-PER"]])
    assert isinstance(scores, EntityScores)
    assert scores.f1 == 100.0
