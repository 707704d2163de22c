"""The peer: a plain Hugging Face token-classification fine-tune, as the library's tutorial does it.

`AutoModelForTokenClassification` on the same encoder; labels on each word's first
subword and -100 (ignored by the loss) on the others and on special tokens;
AdamW (lr 5e-5, the Trainer's defaults otherwise: no weight decay, grad-norm clip 1.0),
linear schedule with 10% warmup, batch 16, shuffled, N epochs; a simple torch loop
(no Trainer / accelerate). Dev is scored after every epoch with seqeval's default
(conlleval) mode; the best epoch's weights are kept, as Trainer's
`load_best_model_at_end` does and as mner keeps `best/`, so both sides are selected
by the same rule. Posts longer than `max_length` subwords are truncated: their last
words are predicted `O` (the tutorial's behaviour; mner chunks them instead). Training
tags are used as read (mner turns stray `I-X` into `B-X` for its CRF; a softmax peer
needs no repair).

Nothing from mner's model code is used here (only `Post` and the label list), so the
comparison is with what a user gets without mner.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from mner.data.post import Post


def first_subword_labels(word_ids: list[int | None], word_labels: list[int]) -> list[int]:
    """A label on each word's first subword; -100 on continuation pieces and special tokens."""
    out, previous = [], None
    for word in word_ids:
        out.append(-100 if word is None or word == previous else word_labels[word])
        previous = word
    return out


def seqeval_f1(gold: list[list[str]], pred: list[list[str]]) -> float:
    """Entity micro F1 in percent, seqeval default mode (conlleval semantics)."""
    try:
        from seqeval.metrics import f1_score
    except ImportError as err:  # pragma: no cover - seqeval comes with the bench/test extras
        raise ImportError("the peer is scored with seqeval: pip install seqeval (or mner[bench])") from err
    return 100.0 * float(f1_score(gold, pred))


def _pad(rows: list[list[int]], value: int) -> torch.Tensor:
    width = max(len(r) for r in rows)
    out = torch.full((len(rows), width), value, dtype=torch.long)  # (b, s)
    for i, row in enumerate(rows):
        out[i, : len(row)] = torch.tensor(row, dtype=torch.long)
    return out


class PeerTagger:
    """A fine-tuned token classifier + its tokenizer: `predict(posts, batch_size)` -> word tags."""

    def __init__(self, model: Any, tokenizer: Any, labels: list[str], max_length: int = 256):
        self.model = model
        self.tokenizer = tokenizer
        self.labels = list(labels)
        self.max_length = max_length

    @classmethod
    def load(cls, directory: str | Path, max_length: int = 256) -> "PeerTagger":
        from transformers import AutoModelForTokenClassification

        from mner._quiet import quiet_transformers
        from mner.modules.hf_text_encoder import _load_tokenizer

        quiet_transformers()
        model = AutoModelForTokenClassification.from_pretrained(str(directory), use_safetensors=True).eval()
        labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
        return cls(model, _load_tokenizer(str(directory)), labels, max_length)

    def save(self, directory: str | Path) -> None:
        from mner.checkpoint import atomic_directory

        def write(tmp: Path) -> None:
            self.model.save_pretrained(tmp)  # safetensors
            self.tokenizer.save_pretrained(tmp)

        atomic_directory(Path(directory), write)

    def encode(self, token_lists: list[list[str]], padding: bool = False) -> Any:
        return self.tokenizer(token_lists, is_split_into_words=True, truncation=True, max_length=self.max_length,
                              padding=padding, return_tensors="pt" if padding else None)

    def batches(self, posts: list[Post], batch_size: int) -> list[list[int]]:
        """Non-empty posts sorted by word count, as a plain pipeline would batch them."""
        nonempty = sorted((i for i, p in enumerate(posts) if p.tokens), key=lambda i: len(posts[i].tokens))
        return [nonempty[s : s + batch_size] for s in range(0, len(nonempty), batch_size)]

    def predict(self, posts: list[Post], batch_size: int = 64) -> list[list[str]]:
        """Word tags per post (input order): the argmax label of each word's first subword."""
        tags: list[list[str]] = [[] for _ in posts]
        self.model.eval()
        with torch.inference_mode():
            for chosen in self.batches(posts, batch_size):
                encoded = self.encode([posts[i].tokens for i in chosen], padding=True)
                logits = self.model(**encoded).logits  # (b, s, L)
                best = logits.argmax(-1).tolist()  # one transfer per batch
                for row, i in enumerate(chosen):
                    post_tags = ["O"] * len(posts[i].tokens)  # truncated or pieceless words: O
                    previous = None
                    for position, word in enumerate(encoded.word_ids(row)):
                        if word is not None and word != previous:
                            post_tags[word] = self.labels[best[row][position]]
                        previous = word
                    tags[i] = post_tags
        return tags

    def f1(self, posts: list[Post], batch_size: int = 64) -> float:
        labelled = [p for p in posts if p.tags is not None]
        return seqeval_f1([p.tags or [] for p in labelled], self.predict(labelled, batch_size))


@dataclass
class PeerResult:
    f1: float  # dev F1 (%) of the kept (best-epoch) weights, seqeval default mode
    train_seconds: float  # training steps only; the per-epoch dev scoring is not counted (as in mner)
    best_epoch: int
    f1_per_epoch: list[float]
    tagger: PeerTagger

    @property
    def predict(self) -> Callable[[list[Post], int], list[list[str]]]:
        return self.tagger.predict


def train_peer(encoder: str, labels: list[str], train: list[Post], dev: list[Post], epochs: int = 3,
               batch_size: int = 16, lr: float = 5e-5, warmup: float = 0.1, seed: int = 42, max_length: int = 256,
               log: Callable[[str], None] = lambda _: None) -> PeerResult:
    """Fine-tune `encoder` (a local path or hub id) on `train`; score `dev` after each epoch."""
    from transformers import AutoModelForTokenClassification, get_linear_schedule_with_warmup

    from mner._quiet import quiet_transformers
    from mner.modules.hf_text_encoder import _load_tokenizer

    quiet_transformers()
    torch.manual_seed(seed)  # the classifier's initialisation
    model = AutoModelForTokenClassification.from_pretrained(
        encoder, use_safetensors=True, num_labels=len(labels), id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)})
    tagger = PeerTagger(model, _load_tokenizer(encoder), labels, max_length)
    index = {label: i for i, label in enumerate(labels)}
    train = [p for p in train if p.tokens and p.tags is not None]

    # tokenized once, as `datasets.map` would: rows of ids, types and aligned labels
    encoded = tagger.encode([p.tokens for p in train])
    types = encoded.get("token_type_ids")  # absent for RoBERTa-style tokenizers
    examples = []
    for i, post in enumerate(train):
        word_labels = [index[t] for t in post.tags or []]
        examples.append((encoded["input_ids"][i], types[i] if types is not None else None,
                         first_subword_labels(encoded.word_ids(i), word_labels)))
    pad_id = tagger.tokenizer.pad_token_id or 0

    steps = epochs * -(-len(examples) // batch_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    schedule = get_linear_schedule_with_warmup(optimizer, int(warmup * steps), steps)
    rng = random.Random(seed)
    best_f1, best_epoch, seconds = -1.0, 0, 0.0
    best_state: dict[str, torch.Tensor] | None = None
    history: list[float] = []
    for epoch in range(epochs):
        model.train()
        order = list(range(len(examples)))
        rng.shuffle(order)
        started = time.perf_counter()
        for start in range(0, len(order), batch_size):
            chosen = [examples[i] for i in order[start : start + batch_size]]
            inputs = {"input_ids": _pad([c[0] for c in chosen], pad_id),  # (b, s)
                      # from the lengths, not `ids != pad_id`: the pad id may be a real token's
                      "attention_mask": _pad([[1] * len(c[0]) for c in chosen], 0),  # (b, s)
                      "labels": _pad([c[2] for c in chosen], -100)}  # (b, s), -100 = not scored
            if chosen[0][1] is not None:
                inputs["token_type_ids"] = _pad([c[1] for c in chosen], 0)
            loss = model(**inputs).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
        seconds += time.perf_counter() - started
        f1 = tagger.f1(dev)
        history.append(f1)
        log(f"peer epoch {epoch + 1}: dev F1 {f1:.2f} [{seconds:.0f}s of training]")
        if f1 > best_f1:
            best_f1, best_epoch = f1, epoch + 1
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return PeerResult(best_f1, seconds, best_epoch, history, tagger)
