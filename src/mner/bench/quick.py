"""Quick mode's inputs: a tiny random BERT on disk and a few generated posts (seconds, no downloads).

Random weights: quick mode checks that every step of the benchmark runs and writes
every figure; its F1 and speed say nothing about mner. Posts are built from templates
over the tiny vocabulary, with a caption naming the post's entities so the
multimodal (caption as a second segment) configuration has something to read.
"""

from __future__ import annotations

import random
import string
from pathlib import Path

from mner.data.post import Post

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ["the", "in", "at", "and", "of", "to", "new", "york", "paris", "london", "alice", "bob", "smith",
         "apple", "google", "festival", "game", "city", "win", "wins", "fans", "love", "day", "rt", "with",
         "photo", "a", "people"]

PEOPLE = [["Alice"], ["Bob"], ["Alice", "Smith"], ["Bob", "Smith"]]
PLACES = [["Paris"], ["London"], ["New", "York"]]
ORGS = [["Google"], ["Apple"]]
FILLER = ["fans", "love", "the", "game", "day", "with", "rt", "win"]


def tiny_vocab() -> list[str]:
    pieces = SPECIALS + WORDS + list(string.ascii_lowercase) + list(string.digits)
    pieces += [f"##{c}" for c in string.ascii_lowercase] + list("#@!?.,:;'\"-()&/_")
    return pieces


def write_tiny_encoder(directory: Path, hidden: int = 32, layers: int = 2, max_position: int = 128) -> Path:
    """Config, tokenizer and seeded random weights of a tiny BERT in `directory`."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizer

    from mner._quiet import quiet_transformers

    quiet_transformers()
    directory.mkdir(parents=True, exist_ok=True)
    vocab = tiny_vocab()
    tokenizer = BertTokenizer(vocab={w: i for i, w in enumerate(vocab)}, do_lower_case=True)
    tokenizer.model_max_length = max_position
    tokenizer.save_pretrained(directory)
    config = BertConfig(vocab_size=len(vocab), hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=2,
                        intermediate_size=2 * hidden, max_position_embeddings=max_position, type_vocab_size=2)
    state = torch.random.get_rng_state()
    torch.manual_seed(0)
    BertModel(config, add_pooling_layer=False).save_pretrained(directory)
    torch.random.set_rng_state(state)  # leave the caller's random stream as it was
    return directory


def _span(words: list[str], entity_type: str) -> tuple[list[str], list[str]]:
    return words, [f"B-{entity_type}"] + [f"I-{entity_type}"] * (len(words) - 1)


def generate_posts(n: int, seed: int = 0, prefix: str = "q") -> list[Post]:
    """`n` labelled posts: a person, an organisation or a place among filler words, plus a caption."""
    rng = random.Random(seed)
    posts = []
    for i in range(n):
        parts = [_span(rng.choice(PEOPLE), "PER"), ([rng.choice(FILLER)], ["O"]),
                 ([rng.choice(["in", "at"])], ["O"]), _span(rng.choice(PLACES), "LOC")]
        if rng.random() < 0.5:
            parts += [(["with"], ["O"]), _span(rng.choice(ORGS), "ORG")]
        if rng.random() < 0.3:
            parts.insert(0, (["rt"], ["O"]))
        tokens = [w for words, _ in parts for w in words]
        tags = [t for _, ts in parts for t in ts]
        names = " ".join(w.lower() for (words, ts) in parts if ts[0] != "O" for w in words)
        posts.append(Post(id=f"{prefix}{i}", tokens=tokens, tags=tags,
                          visual_text={"caption": f"a photo of {names} people"}))
    return posts
