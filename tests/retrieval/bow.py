"""A bag-of-words embedder for retrieval tests: posts that share words are neighbours, known in advance."""

from __future__ import annotations

import zlib

import numpy as np


class BagOfWordsEmbedder:
    name = "bag-of-words"
    dim = 64

    def embed_posts(self, posts, key, progress=None):
        from mner.retrieval.embed import key_text

        return self.embed([key_text(p, key) for p in posts], progress)

    def embed(self, texts, progress=None):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, zlib.crc32(word.encode()) % self.dim] += 1.0
            out[i, -1] += 0.1  # a common direction shared by every post (what centring removes)
        if progress is not None:
            progress(len(texts))
        return out
