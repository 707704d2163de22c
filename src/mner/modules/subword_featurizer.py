"""Words -> subword rows for a Hugging Face encoder, and the index back to words.

Why per-word tokenization with a cache: social-media posts repeat words a
lot, and tokenizing each distinct word once keeps Python work off the hot
path. A word the tokenizer maps to nothing (an emoji variation selector,
a zero-width joiner) becomes the unknown token, so every word has a state.

Long posts: a post whose subwords do not fit in the encoder's limit is cut
into consecutive chunks of whole words, each encoded as its own row; the
word states are gathered back into one sequence, so no word is dropped.
A second segment (caption / knowledge, context fusion) is only appended
when the post fits in one row; it is truncated to the room left.

URLs (`url_placeholder`): a `http://t.co/Z3neVBQ7vF` is ~15 subwords of noise
to the encoder and is never an entity; Twitter-2015 has 1.3 per post, so they
are 43% of its subwords. With a placeholder set, the encoder reads every URL
as that one word (BERTweet's `HTTPURL` habit); the post keeps its words, so
predictions and word shape (which marks URLs itself) are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from mner.data.tokenize import is_url


# "last": a causal decoder's last subword of a word is the only one that has read the whole word
POOLINGS = ("first", "mean", "last")


@dataclass
class SpecialTokens:
    """Where a tokenizer puts its special tokens around one or two segments."""

    prefix: list[int]
    middle: list[int]
    suffix: list[int]
    pad_id: int
    unk_id: int
    second_type_id: int  # token_type id of segment B (0 for models without types)

    @classmethod
    def from_tokenizer(cls, tokenizer: Any) -> "SpecialTokens":
        a = tokenizer("x", add_special_tokens=False)["input_ids"]
        b = tokenizer("y", add_special_tokens=False)["input_ids"]
        pair = tokenizer("x", "y")
        ids = pair["input_ids"]
        ia = _find(ids, a, 0)
        ib = _find(ids, b, ia + len(a))
        types = pair.get("token_type_ids") or [0] * len(ids)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        unk = tokenizer.unk_token_id if tokenizer.unk_token_id is not None else pad
        return cls(ids[:ia], ids[ia + len(a) : ib], ids[ib + len(b) :], pad, unk, types[ib])


def _find(seq: list[int], sub: list[int], start: int) -> int:
    for i in range(start, len(seq) - len(sub) + 1):
        if seq[i : i + len(sub)] == sub:
            return i
    raise ValueError("could not locate the segment in the tokenizer's pair encoding")


class SubwordFeaturizer:
    """Turns word lists (and optional second segments) into encoder inputs."""

    def __init__(self, tokenizer: Any, max_length: int = 256, pooling: str = "first",
                 second_max_length: int | None = None, url_placeholder: str | None = None):
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, not {pooling!r}")
        self.tokenizer = tokenizer
        limit = getattr(tokenizer, "model_max_length", max_length) or max_length
        self.max_length = int(min(max_length, limit if limit < 100_000 else max_length))
        self.pooling = pooling
        # a cap on the second segment's subwords: long knowledge texts would otherwise
        # multiply the encoder's cost per post
        self.second_max_length = second_max_length
        self.special = SpecialTokens.from_tokenizer(tokenizer)
        self._cache: dict[str, list[int]] = {}
        self.url_placeholder = url_placeholder
        self._url_pieces: list[int] | None = None
        if url_placeholder is not None:
            self._url_pieces = self._pieces(url_placeholder)
            if not url_placeholder.strip() or self._url_pieces == [self.special.unk_id]:
                raise ValueError(f"model.encoder.url_placeholder {url_placeholder!r} is not a word the "
                                 "tokenizer knows; use one such as 'http'")
        self._second_cache: dict[str, list[int]] = {}

    def word_pieces(self, word: str) -> list[int]:
        pieces = self._cache.get(word)
        if pieces is None:
            if self._url_pieces is not None and is_url(word):
                pieces = self._url_pieces
            else:
                pieces = self._pieces(word)
            self._cache[word] = pieces
        return pieces

    def _pieces(self, word: str) -> list[int]:
        return self.tokenizer([word], is_split_into_words=True, add_special_tokens=False)[
            "input_ids"
        ] or [self.special.unk_id]

    def _second_pieces(self, text: str) -> list[int]:
        # the same caption recurs for every post of an image (and across epochs): cache it
        pieces = self._second_cache.get(text)
        if pieces is None:
            pieces = self.tokenizer(text, add_special_tokens=False)["input_ids"]
            if len(self._second_cache) < 200_000:
                self._second_cache[text] = pieces
        return pieces

    def encoded_length(self, words: list[str], second: str | None = None) -> int:
        """Width of the widest encoder row this post becomes (what a batch pads to).

        Inference sorts by it, not by word count: words split into 1-5 subwords, so
        batches of similar word counts still padded ~30% of Twitter-2017's subword slots.
        """
        sp = self.special
        room = self.max_length - len(sp.prefix) - len(sp.suffix)
        counts = [min(len(self.word_pieces(w)), room) for w in words]
        width = len(sp.prefix) + sum(counts) + len(sp.suffix)
        if width > self.max_length:  # chunked into several rows (and no second segment): the widest
            return len(sp.prefix) + max(sum(counts[a:b]) for a, b in self._chunks(counts)) + len(sp.suffix)
        if second:
            left = self.max_length - width - len(sp.middle)
            if self.second_max_length is not None:
                left = min(left, self.second_max_length)
            width += len(sp.middle) + min(len(self._second_pieces(second)), max(left, 0))
        return width

    def _chunks(self, counts: list[int]) -> list[tuple[int, int]]:
        """Word ranges [a, b) whose subwords (`counts` per word) fit in one row."""
        room = self.max_length - len(self.special.prefix) - len(self.special.suffix)
        chunks, start, used = [], 0, 0
        for i, count in enumerate(counts):
            n = min(count, room)  # a single giant word is cut to the room
            if used + n > room and i > start:
                chunks.append((start, i))
                start, used = i, 0
            used += n
        chunks.append((start, len(counts)))
        return chunks

    def __call__(
        self, token_lists: list[list[str]], second: list[str | None] | None = None
    ) -> dict[str, torch.Tensor]:
        sp = self.special
        room = self.max_length - len(sp.prefix) - len(sp.suffix)
        rows: list[list[int]] = []
        types: list[list[int]] = []
        word_pos: list[list[list[int]]] = []  # per post, per word: flat positions of its subwords
        for b, words in enumerate(token_lists):
            pieces = [self.word_pieces(w)[:room] for w in words]
            positions: list[list[int]] = []
            chunks = self._chunks([len(p) for p in pieces]) if words else [(0, 0)]
            for start, end in chunks:
                row = list(sp.prefix)
                for p in pieces[start:end]:
                    positions.append([(len(rows), len(row) + k) for k in range(len(p))])
                    row.extend(p)
                n_first = -1  # -1: a single segment, every token is type 0
                text_b = second[b] if second is not None and len(chunks) == 1 else None
                if text_b:
                    left = self.max_length - len(row) - len(sp.middle) - len(sp.suffix)
                    if self.second_max_length is not None:
                        left = min(left, self.second_max_length)
                    ids_b = self._second_pieces(text_b)[: max(left, 0)]
                    row.extend(sp.middle)
                    n_first = len(row)  # the separator belongs to segment A (BERT convention)
                    row.extend(ids_b)
                row.extend(sp.suffix)
                rows.append(row)
                n_first = len(row) if n_first < 0 else n_first
                types.append([0] * n_first + [sp.second_type_id] * (len(row) - n_first))
            word_pos.append(positions)  # type: ignore[arg-type]
        # padded Python lists, then one tensor per field: per-element tensor writes cost a
        # dispatch each (~40k per pass over a dev set), more than the lists
        seq = max(len(r) for r in rows)
        input_ids = torch.tensor([row + [sp.pad_id] * (seq - len(row)) for row in rows], dtype=torch.long)  # (r, s)
        attention = torch.tensor([[1] * len(row) + [0] * (seq - len(row)) for row in rows], dtype=torch.long)  # (r, s)
        type_ids = torch.tensor([ty + [0] * (seq - len(ty)) for ty in types], dtype=torch.long)  # (r, s)
        b = len(token_lists)
        w = max(1, max(len(t) for t in token_lists))
        k = 1 if self.pooling in ("first", "last") else max(1, max((len(p) for ps in word_pos for p in ps), default=1))
        index_rows: list[list[list[int]]] = []
        mask_rows: list[list[list[bool]]] = []
        counts: list[list[int]] = []
        empty_word = ([0] * k, [False] * k)
        for positions in word_pos:
            words_index, words_mask = [], []
            for pos in positions:
                kept = pos[-1:] if self.pooling == "last" else pos[:k]
                flat = [row * seq + col for row, col in kept]
                words_index.append(flat + [0] * (k - len(flat)))
                words_mask.append([True] * len(flat) + [False] * (k - len(flat)))
            pad = w - len(positions)
            index_rows.append(words_index + [empty_word[0]] * pad)
            mask_rows.append(words_mask + [empty_word[1]] * pad)
            counts.append([len(pos) for pos in positions] + [0] * pad)
        index = torch.tensor(index_rows, dtype=torch.long).reshape(b, w, k)  # (b, w, k) flat subword positions
        sub_mask = torch.tensor(mask_rows, dtype=torch.bool).reshape(b, w, k)  # (b, w, k)
        n_sub = torch.tensor(counts, dtype=torch.long).reshape(b, w)  # (b, w) subwords per word
        return {
            "input_ids": input_ids,
            "attention_mask": attention,
            "token_type_ids": type_ids,
            "word_index": index,
            "word_subword_mask": sub_mask,
            "subwords_per_word": n_sub,
        }
