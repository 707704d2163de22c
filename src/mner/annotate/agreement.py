"""`mner annotate agreement A B`: how far two annotators agree, as entity-level P/R/F1 of project B
against project A over the items both finished (mner's scorer: exact span and type, per type).

Items whose words differ between the projects (one annotator edited the OCR text) cannot be compared
span by span; they are counted and named, not scored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mner.annotate.store import AnnotationStore
from mner.metrics.entities import EntityScores, span_scores


@dataclass
class Agreement:
    scores: EntityScores
    compared: int
    only_in_one: int  # finished in one project but not the other (or absent from it)
    different_words: list[str] = field(default_factory=list)


def finished_items(project_dir: str | Path) -> dict[str, tuple[list[str], set[tuple[int, int, str]]]]:
    if not (Path(project_dir) / "annotations.sqlite").is_file():
        raise FileNotFoundError(f"{project_dir}: not an annotation project (no annotations.sqlite)")
    return {item.id: (item.tokens, {(e["start"], e["end"], e["type"]) for e in item.entities})
            for item in AnnotationStore(project_dir).items() if item.done}


def agreement(reference: str | Path, other: str | Path) -> Agreement:
    a, b = finished_items(reference), finished_items(other)
    shared = [item_id for item_id in a if item_id in b]
    different = [item_id for item_id in shared if a[item_id][0] != b[item_id][0]]
    compared = [item_id for item_id in shared if item_id not in different]
    if not compared:
        raise ValueError(f"{reference} and {other} share no finished item with the same words; nothing to compare")
    scores = span_scores([a[i][1] for i in compared], [b[i][1] for i in compared])
    return Agreement(scores, len(compared), len(set(a) ^ set(b)), different)
