"""The one canonical example type every reader produces and every model consumes.

A `Post` is a social-media post: tokens (words, or characters for Chinese),
optional gold BIO tags, 0..n images, named visual text (captions, OCR,
knowledge), object regions, and gold entities. Entities are derived from
tags by `mner.data.tags`; GMNER readers then attach boxes to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

Box = tuple[float, float, float, float]  # xyxy in pixels


@dataclass
class SourceRef:
    """Where a post came from, so errors can name the file and line."""

    path: str
    line: int  # 1-based line of the post's first line


@dataclass
class Region:
    """An image region: a box with optional label, score and feature vector."""

    box: Box
    label: str | None = None
    score: float | None = None
    feature: np.ndarray | None = None  # (f,) float32
    image_index: int = 0  # which of the post's images the box is on

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"box": [float(x) for x in self.box]}
        if self.label is not None:
            d["label"] = self.label
        if self.score is not None:
            d["score"] = float(self.score)
        if self.image_index:
            d["image_index"] = self.image_index
        return d  # features are large: they stay in their npz files

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Region":
        return cls(
            box=tuple(float(x) for x in d["box"]),  # type: ignore[arg-type]
            label=d.get("label"),
            score=d.get("score"),
            image_index=int(d.get("image_index", 0)),
        )


@dataclass
class Entity:
    """A span of tokens `[start, end)` with a type and, for GMNER, its boxes.

    `boxes` empty means "not grounded in the image" (GMNER's "none"). A grounded
    model's prediction has at most one box and a `grounding_score` (the
    probability that the entity is shown in the image); it is written as `box`
    (null for "none") and `groundable` (that probability >= 0.5: a post without
    candidate regions can be groundable and still have no box).
    """

    start: int
    end: int  # exclusive
    type: str
    boxes: list[Box] = field(default_factory=list)
    score: float | None = None
    text: str | None = None
    grounding_score: float | None = None

    @property
    def span(self) -> tuple[int, int, str]:
        return (self.start, self.end, self.type)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"start": self.start, "end": self.end, "type": self.type}
        if self.text is not None:
            d["text"] = self.text
        if self.grounding_score is not None:  # a grounded prediction: one box or none
            d["box"] = [float(x) for x in self.boxes[0]] if self.boxes else None
            d["grounding_score"] = round(float(self.grounding_score), 6)
            d["groundable"] = bool(self.grounding_score >= 0.5)
        elif self.boxes:
            d["boxes"] = [[float(x) for x in b] for b in self.boxes]
        if self.score is not None:
            d["score"] = round(float(self.score), 6)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Entity":
        return cls(
            start=int(d["start"]),
            end=int(d["end"]),
            type=str(d["type"]),
            boxes=([tuple(float(x) for x in d["box"])] if d.get("box") is not None  # type: ignore[misc]
                   else [tuple(float(x) for x in b) for b in d.get("boxes", [])]),
            score=d.get("score"),
            text=d.get("text"),
            grounding_score=d.get("grounding_score"),
        )


@dataclass
class Post:
    """One post. `tags` is None for unlabelled input (prediction)."""

    id: str
    tokens: list[str]
    tags: list[str] | None = None
    images: list[str] = field(default_factory=list)  # ordered paths (or file names before resolution)
    visual_text: dict[str, str] = field(default_factory=dict)  # caption / ocr / knowledge / ...
    regions: list[Region] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    source: SourceRef | None = None
    # False: the entities come from an MNER-only source (`data.extra_train`) and say nothing about the
    # image, so a grounding head must not read their empty boxes as "not groundable". Not serialised.
    grounding_annotated: bool = True

    def __post_init__(self) -> None:
        if self.tags is not None and len(self.tags) != len(self.tokens):
            where = f"{self.source.path}:{self.source.line}: " if self.source else ""
            raise ValueError(
                f"{where}post {self.id!r} has {len(self.tokens)} tokens but {len(self.tags)} tags"
            )
        if self.tags is not None and not self.entities:
            # gold entities always agree with gold tags; readers then attach boxes to them
            from mner.data.tags import bio_to_spans

            self.entities = [Entity(s, e, t) for s, e, t in bio_to_spans(self.tags)]

    @property
    def text(self) -> str:
        return " ".join(self.tokens)

    def entity_text(self, entity: Entity) -> str:
        return " ".join(self.tokens[entity.start : entity.end])

    def to_dict(self) -> dict[str, Any]:
        """The JSONL interchange form (see docs/formats.md)."""
        d: dict[str, Any] = {"id": self.id, "tokens": list(self.tokens)}
        if self.tags is not None:
            d["tags"] = list(self.tags)
        if self.images:
            d["images"] = list(self.images)
        if self.visual_text:
            d["visual_text"] = dict(self.visual_text)
        if self.regions:
            d["regions"] = [r.to_dict() for r in self.regions]
        if self.entities:
            d["entities"] = [
                {**e.to_dict(), "text": e.text or self.entity_text(e)} for e in self.entities
            ]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: SourceRef | None = None) -> "Post":
        return cls(
            id=str(d["id"]),
            tokens=[str(t) for t in d["tokens"]],
            tags=[str(t) for t in d["tags"]] if d.get("tags") is not None else None,
            images=[str(p) for p in d.get("images", [])],
            visual_text={str(k): str(v) for k, v in d.get("visual_text", {}).items()},
            regions=[Region.from_dict(r) for r in d.get("regions", [])],
            entities=[Entity.from_dict(e) for e in d.get("entities", [])],
            source=source,
        )
