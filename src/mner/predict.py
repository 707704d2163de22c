"""The user-facing prediction API, shared by the CLI and (later) the server.

    tagger = Tagger.load("runs/twitter2017")        # a run folder or a model directory
    entities = tagger.predict("Kawhi Leonard wins the #NBAAwards")
    for e in entities: print(e.text, e.type, e.score)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mner.checkpoint import from_pretrained, recover_directory
from mner.data.post import Entity, Post
from mner.data.tags import bio_to_spans
from mner.data.tokenize import tokenize
from mner.evaluation import predict_grounded
from mner.model_inputs import model_inputs, post_inputs
from mner.precision import check_precision
from mner.precision_choice import PrecisionChoice, autocast_of, check_choice, choose_precision
from mner.precision_choice.candidates import is_int8_model

log = logging.getLogger("mner.predict")


def resolve_model_dir(path: str | Path) -> Path:
    """A run folder holds the model in `best/`; a model directory is itself."""
    path = Path(path)
    recover_directory(path / "best")  # a run killed mid-save of best/: its previous copy comes back
    if (path / "model.safetensors").exists():
        return path
    if (path / "best" / "model.safetensors").exists():
        return path / "best"
    raise FileNotFoundError(f"{path} holds no mner model (no model.safetensors here or in best/)")


def as_post(item: Post | str | dict[str, Any], index: int = 0) -> Post:
    if isinstance(item, Post):
        return item
    if isinstance(item, str):
        return Post(id=f"post-{index}", tokens=tokenize(item))
    if isinstance(item, dict):
        if "tokens" not in item and "text" in item:
            item = {**item, "tokens": tokenize(item["text"]), "id": item.get("id", f"post-{index}")}
        return Post.from_dict({"id": f"post-{index}", **item})
    raise TypeError(f"cannot predict on a {type(item).__name__}: give a Post, a string or a dict")


def spans_to_entities(post: Post, tags: list[str], confidences: list[float],
                      groundings: list[Any] | None = None) -> list[Entity]:
    """Entities of predicted tags; `groundings` (a grounded model's (box or None, score) per span) adds boxes."""
    entities = []
    for k, (start, end, entity_type) in enumerate(bio_to_spans(tags)):
        score = sum(confidences[start:end]) / (end - start) if confidences else None
        entity = Entity(start, end, entity_type, score=score, text=" ".join(post.tokens[start:end]))
        if groundings:
            box, entity.grounding_score = groundings[k]
            entity.boxes = [box] if box is not None else []
        entities.append(entity)
    return entities


class Tagger:
    """`precision`: "fp32"; "bf16" runs the network under bf16 autocast (`mner.precision`; faster
    than fp32 on some CPUs with native bf16, slower on others: docs/precision.md); "int8" quantizes
    the Linear layers in memory (`mner.export.int8`); "auto" (the CLI's default) measures which of
    these this host runs the model fastest at, once per host and model (`mner.precision_choice`).

    `precision_choice` says what runs and why; `precision` is the autocast the forward runs under
    (fp32 for int8 models: their float parts stay fp32).
    """

    def __init__(self, model: Any, batch_size: int = 64, precision: str = "fp32",
                 precision_choice: PrecisionChoice | None = None):
        self.model = model
        self.batch_size = batch_size
        self.precision = check_precision(precision)
        if precision_choice is None:
            precision_choice = PrecisionChoice("int8" if is_int8_model(model) else precision, "explicit")
        self.precision_choice = precision_choice

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu", batch_size: int = 64, precision: str = "fp32") -> "Tagger":
        model_dir = resolve_model_dir(path)
        model = from_pretrained(model_dir, device=device)
        choice = choose_precision(model, model_dir, check_choice(precision), batch_size=batch_size)
        if choice.precision == "int8" and not is_int8_model(model):
            from mner.export.int8 import quantize_model

            quantize_model(model)  # in place: the fp32 weights are not kept
        if is_int8_model(model) and choice.precision != "int8":  # an int8 export runs int8 whatever was asked
            choice = PrecisionChoice("int8", choice.source, choice.timings, choice.candidates)
        log.info("%s: precision %s", model_dir, choice.describe())
        return cls(model, batch_size, autocast_of(choice.precision), choice)

    @property
    def labels(self) -> list[str]:
        return self.model.labels

    @property
    def inputs(self) -> list[str]:
        """What the model reads: "text", then e.g. "knowledge", "caption", "images" (`mner.model_inputs`)."""
        return model_inputs((getattr(self.model, "config", None) or {}).get("model") or {})

    def inputs_of(self, item: Post | str | dict[str, Any]) -> dict[str, list[str]]:
        """Which of the model's inputs this post has ("used") and lacks ("missing")."""
        return post_inputs(as_post(item), self.inputs)

    def predict(self, item: Post | str | dict[str, Any]) -> list[Entity]:
        """Entities of one post (a Post, raw text, or a JSONL-style dict)."""
        return self.predict_many([item])[0]

    def predict_many(self, items: Iterable[Post | str | dict[str, Any]]) -> list[list[Entity]]:
        posts = [as_post(item, i) for i, item in enumerate(items)]
        tags, confidences, groundings = predict_grounded(self.model, posts, self.batch_size, self.precision)
        return [spans_to_entities(p, t, c, g) for p, t, c, g in zip(posts, tags, confidences, groundings)]


def prediction_record(tagger: Any, post: Post, entities: list[Entity]) -> dict[str, Any]:
    """One output line of `mner predict --input` (a file or a corpus): the post, its entities, which of
    the model's inputs it had and, where the tagger chose one, the precision that computed them."""
    record: dict[str, Any] = {"id": post.id, "tokens": post.tokens, "entities": [e.to_dict() for e in entities],
                              "inputs": post_inputs(post, tagger.inputs)}
    choice = getattr(tagger, "precision_choice", None)
    if choice is not None:
        record["precision"] = choice.precision
    return record
