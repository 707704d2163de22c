"""Sentence embeddings of posts (or of their visual text) by a named encoder, mean-pooled.

`minilm-l6` (all-MiniLM-L6-v2, offline) by default: a sentence encoder trained for exactly this
kind of similarity; any Hugging Face encoder name or local path works (`mner.presets`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from mner.data.post import Post

KEYS = ("text", "caption", "knowledge")  # what a post is looked up by; visual-text names also work


def key_text(post: Post, key: str) -> str:
    """The text `post` is embedded by: its words ("text"), or a visual text, or several joined by `|`
    (`text|caption`). A missing visual text contributes nothing."""
    parts = []
    for name in key.split("|"):
        name = name.strip()
        parts.append(" ".join(post.tokens) if name == "text" else (post.visual_text or {}).get(name) or "")
    return " | ".join(p for p in parts if p)


class SentenceEmbedder:
    """Texts -> (n, d) float32 mean-pooled embeddings (padding excluded from the mean)."""

    def __init__(self, encoder: str = "minilm-l6", max_length: int = 128, batch_size: int = 64,
                 device: str | None = None):
        from transformers import AutoModel, AutoTokenizer

        from mner._quiet import quiet_transformers
        from mner.distributed.context import training_device
        from mner.presets import resolve_model_name

        quiet_transformers()
        path = resolve_model_name(encoder)
        self.name = encoder
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        # Why the GPU when there is one: a GPU run otherwise waited on one CPU thread to embed its
        # bank and queries (30-60 s of a 100 s run on the H200); `auto` as train.device is.
        self.device = training_device(device)
        self.model = AutoModel.from_pretrained(path).eval().to(self.device)
        self.max_length = max_length
        self.batch_size = batch_size

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    def embed_posts(self, posts: list[Post], key: str, progress: Callable[[int], None] | None = None) -> np.ndarray:
        """(n, d) the posts' `key` texts embedded (what an index of that key holds)."""
        return self.embed([key_text(p, key) for p in posts], progress)

    @torch.inference_mode()
    def embed(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # longest first: batches of similar length pad little; results go back to input order
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            ids = order[start:start + self.batch_size]
            enc = self.tokenizer([texts[i] or " " for i in ids], padding=True, truncation=True,
                                 max_length=self.max_length, return_tensors="pt").to(self.device)
            states = self.model(**enc).last_hidden_state  # (b, t, d)
            mask = enc["attention_mask"].unsqueeze(-1).to(states.dtype)  # (b, t, 1)
            pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)  # (b, d)
            out[ids] = pooled.float().cpu().numpy()
            if progress is not None:
                progress(len(ids))
        return out
