"""The request and response bodies of `POST /v1/predict` and `GET /v1/model` (pydantic, so the
OpenAPI schema at /openapi.json describes exactly what is checked)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class PostIn(BaseModel):
    """One post: `text` (split into words by mner's tokenizer) or `tokens`, never both."""

    # unknown fields are refused, so a misspelt "image_path" or "caption_text" is an error, not silently dropped
    model_config = ConfigDict(extra="forbid", strict=True)

    id: str | None = Field(None, max_length=200, description="Echoed back; default post-<index>.")
    text: str | None = Field(None, description="The post's text.")
    tokens: list[str] | None = Field(None, description="The post's words, already split.")
    images: list[str] = Field(default_factory=list,
                              description="Image bytes as base64 or a data: URL (never a path or URL: "
                                          "the server reads no file and fetches nothing).")
    caption: str | None = Field(None, description="Visual text: the image's caption.")
    knowledge: str | None = Field(None, description="Visual text: auxiliary knowledge (e.g. from an LLM).")
    ocr: str | None = Field(None, description="Visual text: the text in the image.")

    @model_validator(mode="after")
    def text_or_tokens(self) -> "PostIn":
        if (self.text is None) == (self.tokens is None):
            raise ValueError("give exactly one of text or tokens")
        return self


class PredictRequest(BaseModel):
    """Several posts; a body holding one post's fields (no `posts`) is read as a list of one."""

    model_config = ConfigDict(extra="forbid", strict=True)

    posts: list[PostIn] = Field(..., min_length=1)


class EntityOut(BaseModel):
    start: int = Field(..., description="First word of the entity (0-based).")
    end: int = Field(..., description="One past its last word.")
    text: str
    type: str
    score: float | None = Field(None, description="Mean per-word confidence of the span (CRF marginals).")
    boxes: list[list[float]] = Field(default_factory=list,
                                     description="Grounded models: xyxy pixel boxes on the post's first image.")


class InputsOut(BaseModel):
    used: list[str] = Field(..., description="The model's inputs this post had.")
    missing: list[str] = Field(..., description="The model's inputs this post lacked.")


class PostOut(BaseModel):
    id: str
    tokens: list[str]
    entities: list[EntityOut]
    inputs: InputsOut


class PredictResponse(BaseModel):
    posts: list[PostOut]


class ModelInfo(BaseModel):
    name: str = Field(..., description="The model directory's name (never its server-side path).")
    kind: str = Field(..., description="torch | int8 | onnx")
    labels: list[str]
    entity_types: list[str]
    inputs: list[str] = Field(..., description="What the model reads: text, then caption/knowledge/images/...")
    grounded: bool = Field(..., description="Whether entities come with image boxes.")
    config_digest: str
    precision: str
    batching: dict[str, Any]
    limits: dict[str, Any]


class ErrorOut(BaseModel):
    error: str = Field(..., description="What is wrong, starting with the request field.")
    field: str | None = Field(None, description="The request field at fault, e.g. posts[0].images[1].")
