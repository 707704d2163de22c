"""Near-JSON repair, schema validation and span alignment of the LLM baseline."""

from __future__ import annotations

import pytest

from mner.llm.align import align_mentions
from mner.llm.answer import parse_answer

TYPES = ["LOC", "MISC", "ORG", "PER"]


@pytest.mark.parametrize("text, status, expected", [
    ('{"entities": [{"text": "Kawhi Leonard", "type": "PER"}]}', "valid", [("Kawhi Leonard", "PER")]),
    ('[{"text": "NBA", "type": "ORG"}]', "valid", [("NBA", "ORG")]),
    ('```json\n{"entities": [{"text": "A", "type": "PER"},]}\n```', "repaired", [("A", "PER")]),
    ("Sure! {'entities': [{'text': 'Paris', 'type': 'LOC'}]} Hope this helps.", "repaired", [("Paris", "LOC")]),
    ("[['Kawhi Leonard', 'PER'], ['NBA', 'ORG']]", "repaired", [("Kawhi Leonard", "PER"), ("NBA", "ORG")]),
    ('{"entities": [{"text": "A B", "type": "PER"}, {"text": "Han', "repaired", [("A B", "PER")]),
    ('{"entities": [{"text": "A", "type": "PER"}, {"text": "B", "type": "LOC"}', "repaired",
     [("A", "PER"), ("B", "LOC")]),
    ("\u201centities\u201d", "invalid", []),
    ("Named entities: 1. Kawhi Leonard (person)", "invalid", []),
    ('{"entities": [{"text": "", "type": "PER"}]}', "invalid", []),
    ('{"people": ["Kawhi"]}', "invalid", []),
])
def test_parse_and_repair(text: str, status: str, expected: list) -> None:
    parsed = parse_answer(text)
    assert parsed.status == status
    assert [(m.text, m.type) for m in parsed.mentions] == expected
    assert (parsed.error is None) == (status != "invalid")


def test_repair_keeps_json_words_inside_strings() -> None:
    parsed = parse_answer("{'entities': [{'text': 'true nullity', 'type': 'MISC'}], 'x': None}")
    assert [(m.text, m.type) for m in parsed.mentions] == [("true nullity", "MISC")]


def test_alignment_exact_case_folded_hashtag_every_occurrence() -> None:
    tokens = ["RT", "@nba", ":", "Kawhi", "Leonard", "wins", "#", "NBAAwards", ";", "Kawhi", "Leonard", "again",
              "in", "san", "antonio", "U.S."]
    aligned = align_mentions(tokens, [("Kawhi Leonard", "person"), ("#NBAAwards", "MISC"),
                                      ("San Antonio", "LOC"), ("U.S.", "loc"), ("Atlantis", "LOC"),
                                      ("the crowd", "CROWD")], TYPES)
    assert aligned.spans == [(3, 5, "PER"), (9, 11, "PER"), (7, 8, "MISC"), (13, 15, "LOC"), (15, 16, "LOC")]
    assert aligned.unmatched == ["Atlantis"] and aligned.unknown_type == ["the crowd (CROWD)"]
    assert aligned.tags[3:5] == ["B-PER", "I-PER"] and aligned.tags[6:8] == ["O", "B-MISC"]


def test_alignment_prefers_exact_case_and_skips_overlaps() -> None:
    tokens = ["Paris", "and", "paris", "Hilton", "Paris"]
    aligned = align_mentions(tokens, [("Paris Hilton", "PER"), ("Paris", "LOC")], TYPES)
    assert aligned.spans == [(2, 4, "PER"), (0, 1, "LOC"), (4, 5, "LOC")]  # case-folded only when exact fails
    aligned = align_mentions(tokens, [("Paris", "LOC"), ("paris Hilton", "PER")], TYPES)
    assert aligned.spans == [(0, 1, "LOC"), (4, 5, "LOC"), (2, 4, "PER")]
    assert align_mentions(tokens, [("Hilton Paris", "PER"), ("Paris", "LOC")], TYPES).spans[0] == (3, 5, "PER")
