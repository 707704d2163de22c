"""Few-shot examples chosen by similarity, as PGIM's "multimodal similar example awareness" does.

PGIM picks, for each post, the labelled examples closest to it in text and image (it
compares post text and image caption). Here the similarity is TF-IDF cosine over the
post's words plus its caption's words (lower-cased, ``#``/``@`` stripped): no model,
deterministic, fast over thousands of training posts, and it favours examples that
share the post's rare words (names, hashtags), which is what an NER example is for.
An inverted index keeps it sparse: a query touches only the examples sharing a word.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence

from mner.data.post import Post

WORD = re.compile(r"\w+", re.UNICODE)


def similarity_terms(post: Post) -> list[str]:
    text = " ".join(post.tokens) + " " + post.visual_text.get("caption", "")
    return [w for w in WORD.findall(text.lower()) if not w.isdigit()]


class ExamplePool:
    """Labelled posts; `nearest(post, k)` -> the k most similar, most similar first."""

    def __init__(self, posts: Sequence[Post]) -> None:
        self.posts = list(posts)
        counts = [Counter(similarity_terms(p)) for p in self.posts]
        document_frequency: Counter[str] = Counter()
        for c in counts:
            document_frequency.update(c.keys())
        n = len(self.posts)
        self.idf = {t: math.log((1 + n) / (1 + df)) + 1.0 for t, df in document_frequency.items()}
        self.index: dict[str, list[tuple[int, float]]] = defaultdict(list)  # term -> (example, weight)
        for i, c in enumerate(counts):
            for term, weight in self._weights(c).items():
                self.index[term].append((i, weight))

    def _weights(self, counts: Counter[str]) -> dict[str, float]:
        raw = {t: (1.0 + math.log(tf)) * self.idf[t] for t, tf in counts.items() if t in self.idf}
        norm = math.sqrt(sum(w * w for w in raw.values())) or 1.0
        return {t: w / norm for t, w in raw.items()}

    def nearest(self, post: Post, k: int) -> list[Post]:
        """Ties go to the earlier example; the post itself (same id and words) is never its own example."""
        if k <= 0 or not self.posts:
            return []
        scores: dict[int, float] = defaultdict(float)
        for term, weight in self._weights(Counter(similarity_terms(post))).items():
            for i, w in self.index.get(term, ()):
                scores[i] += weight * w
        ranked = sorted(scores, key=lambda i: (-scores[i], i))
        ranked += [i for i in range(len(self.posts)) if i not in scores]  # fill up with the file's first posts
        chosen = [i for i in ranked if not is_same_post(self.posts[i], post)][:k]
        return [self.posts[i] for i in chosen]


def is_same_post(a: Post, b: Post) -> bool:
    return a.id == b.id and a.tokens == b.tokens
