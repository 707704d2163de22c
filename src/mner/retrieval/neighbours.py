"""Labelled-neighbour context: the k most similar training posts, written as their gold entities
(`Kevin Durant = PER ; OKC = ORG`), put in a post's visual text so that context fusion
(`model.second_segment`) reads it like a caption or knowledge text.

    model:
      second_segment: neighbours
      neighbours: {name: context.neighbours.v1, key: text, k: 3, max_subwords: 64, none_share: 0.2}

The model carries its index (saved beside its weights, `retrieval_index/`), so a saved model adds
the context to any post it is given: `Tagger.load(dir).predict("...")` needs nothing else.
Training posts look up the other training posts (never themselves); a share of them
(`none_share`, drawn anew each batch) see no neighbours, so the model learns to tag without them
and does not over-trust a neighbour's labels. With `append_to: knowledge` the context follows the
post's knowledge text (cut to `knowledge_max_subwords`) in one segment.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import torch

from mner.data.post import Post
from mner.data.tags import bio_to_spans
from mner.retrieval.index import BankPost, PostIndex
from mner.second_segment import capped

INDEX_DIR = "retrieval_index"  # inside a saved model directory
ENTITY_SEP = " ; "
NEIGHBOUR_SEP = " | "


def entity_strings(bank_post: BankPost) -> list[str]:
    """`Kevin Durant = PER` for each gold entity of a neighbour."""
    return [f"{' '.join(bank_post.tokens[s:e])} = {t}" for s, e, t in bio_to_spans(bank_post.tags)]


class NeighbourContext:
    """Posts -> copies carrying `visual_text[field]`: their neighbours' gold entities."""

    def __init__(self, index: PostIndex, k: int = 3, field: str = "neighbours", max_subwords: int | None = 64,
                 none_share: float = 0.0, with_text: bool = False, append_to: str | None = None,
                 knowledge_max_subwords: int | None = 64, count_pieces: Callable[[str], int] | None = None):
        if not 0.0 <= none_share < 1.0:
            raise ValueError(f"model.neighbours.none_share must be in [0, 1), not {none_share}")
        self.index = index
        self.k = int(k)
        self.field = field
        self.max_subwords = max_subwords
        self.none_share = float(none_share)
        self.with_text = with_text
        self.append_to = append_to
        self.knowledge_max_subwords = knowledge_max_subwords
        self.count_pieces = count_pieces or (lambda w: 1)
        self._memo: dict[tuple[str, tuple[str, ...]], str] = {}
        self._bank_rows: dict[str, int] = {b.id: i for i, b in enumerate(index.bank)}
        self._bank_hits: list[list[tuple[int, float]]] | None = None

    def serialise(self, hits: list[tuple[int, float]]) -> str:
        """Neighbours best first; an entity already written is not repeated; cut to whole entities
        within `max_subwords`."""
        parts, seen, used = [], set(), 0
        for row, _ in hits:
            neighbour = self.index.bank[row]
            items = [e for e in entity_strings(neighbour) if e not in seen]
            seen.update(items)
            if self.with_text:
                items = [" ".join(neighbour.tokens) + " :"] + items
            for n, item in enumerate(items):
                cost = sum(self.count_pieces(w) for w in item.split()) + 1  # + the separator
                if self.max_subwords is not None and used + cost > self.max_subwords:
                    return self._join(parts)
                used += cost
                parts.append((row, n, item))
        return self._join(parts)

    @staticmethod
    def _join(parts: list[tuple[int, int, str]]) -> str:
        by_neighbour: dict[int, list[str]] = {}
        for row, _, item in parts:
            by_neighbour.setdefault(row, []).append(item)
        return NEIGHBOUR_SEP.join(ENTITY_SEP.join(items) for items in by_neighbour.values())

    def contexts(self, posts: list[Post]) -> list[str]:
        """Each post's serialised neighbours (memoised: dev posts are looked up once per run)."""
        keys = [(p.id, tuple(p.tokens)) for p in posts]
        todo = [i for i, key in enumerate(keys) if key not in self._memo]
        in_bank = [i for i in todo if self._is_bank_post(posts[i])]
        if in_bank:  # training posts: their stored vectors, no re-embedding
            if self._bank_hits is None:
                self._bank_hits = self.index.bank_neighbours(self.k)
            for i in in_bank:
                self._memo[keys[i]] = self.serialise(self._bank_hits[self._bank_rows[posts[i].id]])
        others = [i for i in todo if keys[i] not in self._memo]
        if others:
            for i, hits in zip(others, self.index.search([posts[i] for i in others], self.k)):
                self._memo[keys[i]] = self.serialise(hits)
        return [self._memo[key] for key in keys]

    def _is_bank_post(self, post: Post) -> bool:
        row = self._bank_rows.get(post.id)
        return row is not None and self.index.bank[row].tokens == list(post.tokens)

    def __call__(self, posts: list[Post], training: bool = False) -> list[Post]:
        texts = self.contexts(posts)
        if training and self.none_share > 0:
            dropped = (torch.rand(len(posts)) < self.none_share).tolist()  # the seeded torch RNG: resumable
            texts = ["" if d else t for t, d in zip(texts, dropped)]
        out = []
        for post, text in zip(posts, texts):
            if self.append_to:
                base = " ".join(capped(((post.visual_text or {}).get(self.append_to) or "").split(),
                                       self.knowledge_max_subwords, self.count_pieces))
                text = f"{base}{NEIGHBOUR_SEP}{text}" if base and text else base or text
            out.append(dataclasses.replace(post, visual_text={**(post.visual_text or {}), self.field: text}))
        return out

    def save_assets(self, directory: Path) -> None:
        self.index.save(Path(directory) / INDEX_DIR)
