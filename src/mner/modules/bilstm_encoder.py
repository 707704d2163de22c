"""BiLSTM over trainable word embeddings: the thesis's non-transformer text module.

The vocabulary is built from the training posts (lower-cased; casing comes
from the word-shape features) and saved as `vocab.json` beside the weights.
Embeddings can start from a whitespace-separated vectors file (GloVe/word2vec
text format: `word v1 v2 ...`).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import torch
from torch import nn

PAD, UNK = "<pad>", "<unk>"


class WordVocab:
    def __init__(self, words: list[str]):
        self.words = [PAD, UNK] + [w for w in words if w not in (PAD, UNK)]
        self.index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def build(cls, token_lists: list[list[str]], min_count: int = 1, max_size: int = 50_000) -> "WordVocab":
        counts = Counter(t.lower() for tokens in token_lists for t in tokens)
        kept = [w for w, c in counts.most_common(max_size) if c >= min_count]
        return cls(kept)

    def ids(self, tokens: list[str]) -> list[int]:
        unk = self.index[UNK]
        return [self.index.get(t.lower(), unk) for t in tokens]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.words, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "WordVocab":
        return cls(json.loads(path.read_text(encoding="utf-8"))[2:])

    def __len__(self) -> int:
        return len(self.words)


def load_vectors(path: str, vocab: WordVocab, dim: int) -> tuple[torch.Tensor, int]:
    """(len(vocab), dim) initial embeddings, and how many words were found."""
    weights = torch.randn(len(vocab), dim) * 0.1
    weights[0] = 0.0
    found = 0
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line_no, line in enumerate(handle, 1):
            parts = line.rstrip().split(" ")
            if len(parts) == 2 and line_no == 1:
                continue  # word2vec header "count dim"
            if len(parts) != dim + 1:
                raise ValueError(f"{path}:{line_no}: expected a word and {dim} numbers, got {len(parts) - 1}")
            idx = vocab.index.get(parts[0].lower())
            if idx is not None:
                weights[idx] = torch.tensor([float(x) for x in parts[1:]])
                found += 1
    return weights, found


class BiLstmEncoder(nn.Module):
    """Encodes posts into word states `(b, w, 2*hidden)`."""

    def __init__(self, vocab: WordVocab, embedding_dim: int = 100, hidden_size: int = 200, num_layers: int = 1,
                 dropout: float = 0.3, vectors: torch.Tensor | None = None):
        super().__init__()
        self.vocab = vocab
        self.embedding = nn.Embedding(len(vocab), embedding_dim, padding_idx=0)
        if vectors is not None:
            self.embedding.weight.data.copy_(vectors)
        self.dropout = nn.Dropout(dropout)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, num_layers=num_layers, batch_first=True,
                            bidirectional=True, dropout=dropout if num_layers > 1 else 0.0)
        self.hidden_size = 2 * hidden_size

    def featurize(self, token_lists: list[list[str]], second: list[str | None] | None = None) -> dict:
        w = max(1, max(len(t) for t in token_lists))
        ids = torch.zeros((len(token_lists), w), dtype=torch.long)  # (b, w)
        for i, tokens in enumerate(token_lists):
            if tokens:
                ids[i, : len(tokens)] = torch.tensor(self.vocab.ids(tokens))
        lengths = torch.tensor([max(1, len(t)) for t in token_lists])
        return {"word_ids": ids, "lengths": lengths}

    def save_assets(self, directory: Path) -> None:
        self.vocab.save(directory / "vocab.json")

    def forward(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        embedded = self.dropout(self.embedding(features["word_ids"]))  # (b, w, e)
        packed = nn.utils.rnn.pack_padded_sequence(embedded, features["lengths"].cpu(), batch_first=True,
                                                   enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=embedded.shape[1])
        return out  # (b, w, 2h)
