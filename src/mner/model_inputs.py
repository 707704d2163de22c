"""Which inputs a model reads, and which of them a post brings.

A model trained with LLM knowledge, captions or images also tags posts that come without
them (train with `train.modality_dropout` or `train.cross_view` so that it does so well);
prediction says, per post, which of the model's inputs it had, so a user can tell a
text-only answer from one that read the knowledge.
"""

from __future__ import annotations

from typing import Any

from mner.data.post import Post
from mner.second_segment import segment_fields


def _key_inputs(key: str) -> list[str]:
    """A retrieval key's inputs: its visual-text names, and "images" for the image key."""
    return ["images" if k.strip() == "image" else k.strip() for k in str(key).split("|") if k.strip()]


def model_inputs(model_cfg: dict[str, Any]) -> list[str]:
    """The inputs a model's config reads: "text" always, then visual-text fields, "images", "regions"."""
    inputs = ["text"]
    neighbours = model_cfg.get("neighbours") or {}
    for field in segment_fields(model_cfg.get("second_segment")):
        names = [field]
        if neighbours and field == neighbours.get("field", "neighbours"):
            # the model retrieves its neighbours itself; the post brings what they are looked up by
            names = [*_key_inputs(neighbours.get("key", "text")), neighbours.get("append_to")]
        for name in names:
            if name and name.strip() not in inputs:
                inputs.append(name.strip())
    visual = model_cfg.get("visual") or {}
    name = visual.get("name")
    if name == "visual.caption.v1":
        inputs += [str(f) for f in (visual.get("fields") or ["caption"]) if str(f) not in inputs]
    elif name == "visual.regions.v1":
        inputs.append("regions")
    elif name == "visual.relation_graph.v1":  # retrieves by the post's caption or images (and text)
        inputs += [k for k in _key_inputs(visual.get("key", "caption")) if k not in inputs]
    elif name:  # every other visual module reads the post's images
        inputs.append("images")
    return inputs


def post_inputs(post: Post, inputs: list[str]) -> dict[str, list[str]]:
    """{"used": inputs the post has, "missing": inputs the model reads that the post lacks}."""
    def has(name: str) -> bool:
        if name == "text":
            return bool(post.tokens)
        if name == "images":
            return bool(post.images)
        if name == "regions":
            return bool(post.regions)
        return bool((post.visual_text or {}).get(name))

    return {"used": [n for n in inputs if has(n)], "missing": [n for n in inputs if not has(n)]}
