"""Request bodies of the annotation API (pydantic): a save names the version it edited."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class EntityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: int = Field(ge=0)
    end: int = Field(ge=1)  # exclusive
    type: str = Field(min_length=1, max_length=64)
    boxes: list[list[float]] = Field(default_factory=list, max_length=16)  # xyxy pixels on the item's first image
    score: float | None = None  # the model's, kept while the person leaves the entity as it was


class SaveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=0, description="the item version these edits were made on (optimistic locking)")
    tokens: list[str]
    entities: list[EntityIn]
    done: bool = False


class UndoIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=0)
