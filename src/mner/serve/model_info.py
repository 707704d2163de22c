"""What GET /v1/model says about the loaded model (computed once, at start-up)."""

from __future__ import annotations

from typing import Any

from mner.config import config_digest
from mner.serve.schemas import ModelInfo


def model_kind(tagger: Any) -> str:
    if type(tagger).__name__ == "OnnxTagger":
        return "onnx"
    from mner.export.int8 import quantized_modules

    return "int8" if quantized_modules(tagger.model) else "torch"


def is_grounded(tagger: Any) -> bool:
    """Grounded models put boxes on their entities: a model with a grounding head (`model.grounding`),
    or a tagger that says so (`grounded = True`)."""
    return bool(getattr(tagger, "grounded", False) or getattr(tagger.model, "grounding", None) is not None)


def model_info(tagger: Any, name: str, settings: Any) -> ModelInfo:
    config = getattr(tagger.model, "config", None) or {}
    labels = list(tagger.labels)
    return ModelInfo(
        name=name, kind=model_kind(tagger), labels=labels,
        entity_types=sorted({label[2:] for label in labels if label[:2] in ("B-", "I-")}),
        inputs=list(tagger.inputs), grounded=is_grounded(tagger), config_digest=config_digest(config),
        precision=_precision(tagger),
        batching={"max_batch": settings.max_batch, "max_wait_ms": settings.max_wait_ms,
                  "forward_batch": int(getattr(tagger, "batch_size", settings.forward_batch))},
        limits=settings.limits.to_dict())


def _precision(tagger: Any) -> str:
    """What computes the entities: the precision choice (int8 too), else the autocast setting."""
    choice = getattr(tagger, "precision_choice", None)
    return str(choice.precision if choice is not None else getattr(tagger, "precision", "fp32"))
