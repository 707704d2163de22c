"""Tiny random Hugging Face encoders written to disk, so tests never touch the hub.

A 2-layer, hidden-32 BERT with a 99-piece vocabulary: lower-case letters,
a few common words and the special tokens. Random weights: tests check
behaviour (shapes, alignment, save/load, overfitting), never quality.
"""

from __future__ import annotations

import string
from pathlib import Path

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ["the", "in", "at", "and", "of", "to", "new", "york", "paris", "london", "alice", "bob", "smith",
         "apple", "google", "festival", "game", "city", "win", "wins", "fans", "love", "day", "rt", "with"]


def tiny_vocab() -> list[str]:
    letters = list(string.ascii_lowercase) + list(string.digits)
    pieces = [f"##{c}" for c in string.ascii_lowercase]
    punct = list("#@!?.,:;'\"-()&/_")
    vocab = SPECIALS + WORDS + letters + pieces + punct
    return vocab[:99] + [f"[unused{i}]" for i in range(99 - len(vocab[:99]))]


def write_tiny_bert(directory: Path, max_position: int = 64) -> Path:
    """Write config, tokenizer and random weights of a tiny BERT to `directory`."""
    from transformers import BertConfig, BertModel, BertTokenizer

    directory.mkdir(parents=True, exist_ok=True)
    vocab = tiny_vocab()
    tokenizer = BertTokenizer(vocab={w: i for i, w in enumerate(vocab)}, do_lower_case=True)
    tokenizer.model_max_length = max_position
    tokenizer.save_pretrained(directory)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=max_position, type_vocab_size=2)
    import torch

    torch.manual_seed(0)
    BertModel(config, add_pooling_layer=False).save_pretrained(directory)
    return directory


def overfit_config(out: Path, tiny_bert_dir: Path, epochs: int = 30, extra: tuple[str, ...] | list[str] = ()) -> dict:
    """A run config that overfits a few generated posts fast: the tiny BERT, high learning rates,
    no warmup, no dropout, no early stopping."""
    from mner.config import load_config

    cfg = load_config(None, [f"output_dir={out}", f"train.epochs={epochs}", "train.batch_size=4",
                             "train.lr.encoder=3e-3", "train.lr.head=3e-2", "train.patience=0",
                             "train.scheduler.warmup=0.0", "model.dropout=0.0", *extra])
    cfg["model"]["encoder"] = {"name": "encoder.hf.v1", "model": str(tiny_bert_dir)}
    return cfg
