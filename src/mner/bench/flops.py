"""FLOPs per post of a BERT-like encoder + tagging head, to set beside the machine's matmul ceiling.

One multiply-add counts as 2 FLOPs. For an encoder row of n subwords, hidden size d,
feed-forward size f and N layers:

  per layer, projections   Q, K, V, attention output: 4 x (n, d) @ (d, d)    2n * 4d^2
             feed-forward  (n, d) @ (d, f) and (n, f) @ (f, d)             2n * 2df
             attention     scores Q K^T (all heads): (n, d) @ (d, n)       2n^2 * d
                           mixing P V:               (n, n) @ (n, d)       2n^2 * d
  encoder   = N * [2n (4d^2 + 2df) + 4 n^2 d]
            = 2 x (weight-matrix parameters per layer) x n x N  +  attention terms
  head      = 2 * words * head_input * labels      (the emission projection)

Not counted: embeddings (a lookup), biases, LayerNorm, GELU, softmax, residual adds
(all O(n d), memory-bound) and the CRF (O(words x labels^2) compares) - together a few
percent of the total for tweet-length rows. Padding is not counted either: the figure
is the useful work per post, so `bound = ceiling / flops` is what a machine that did
nothing but the necessary matmuls at full speed would reach, and the gap to the
measured rate is padding, element-wise ops, Python and dispatch overhead.

A post that is longer than the encoder's window is several rows; a post's FLOPs are
the sum over its rows. A second segment (caption, knowledge) is part of the row. A
visual module's own network (an image encoder, a fusion layer) is not counted: the
figure covers the text encoder and head, which is all there is for text-only and
context-fusion models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mner.data.post import Post
from mner.second_segment import second_texts


@dataclass(frozen=True)
class EncoderShape:
    layers: int
    hidden: int
    intermediate: int

    @classmethod
    def from_config(cls, config: Any) -> "EncoderShape":
        """From a Hugging Face config (BERT/RoBERTa/XLM-R/DeBERTa names, or DistilBERT's)."""
        layers = getattr(config, "num_hidden_layers", None) or getattr(config, "n_layers")
        hidden = getattr(config, "hidden_size", None) or getattr(config, "dim")
        intermediate = getattr(config, "intermediate_size", None) or getattr(config, "hidden_dim")
        return cls(int(layers), int(hidden), int(intermediate))

    @property
    def weight_params_per_layer(self) -> int:
        """Parameters of a layer's weight matrices: 4 d^2 (attention) + 2 d f (feed-forward)."""
        return 4 * self.hidden * self.hidden + 2 * self.hidden * self.intermediate


@dataclass
class FlopCount:
    """FLOPs split by where they run: weight x activation (`linear`, int8-able) or activation x activation."""

    linear: float = 0.0  # encoder projections and feed-forward (nn.Linear)
    attention: float = 0.0  # Q K^T and P V
    head: float = 0.0  # emission projection (nn.Linear)

    @property
    def total(self) -> float:
        return self.linear + self.attention + self.head

    def __add__(self, other: "FlopCount") -> "FlopCount":
        return FlopCount(self.linear + other.linear, self.attention + other.attention, self.head + other.head)

    def scaled(self, factor: float) -> "FlopCount":
        return FlopCount(self.linear * factor, self.attention * factor, self.head * factor)


def row_flops(shape: EncoderShape, n: int) -> FlopCount:
    """The encoder's FLOPs for one row of `n` subwords (special tokens and second segment included)."""
    linear = 2.0 * shape.weight_params_per_layer * n * shape.layers
    attention = 4.0 * n * n * shape.hidden * shape.layers
    return FlopCount(linear=linear, attention=attention)


def post_flops(shape: EncoderShape, rows: list[int], words: int, head_input: int, labels: int) -> FlopCount:
    """One post: its encoder rows (subword counts) plus the head over its words."""
    count = FlopCount(head=2.0 * words * head_input * labels)
    for n in rows:
        count = count + row_flops(shape, n)
    return count


def mean_post_flops(shape: EncoderShape, rows_per_post: list[list[int]], words_per_post: list[int],
                    head_input: int, labels: int) -> FlopCount:
    if not rows_per_post:
        return FlopCount()
    total = FlopCount()
    for rows, words in zip(rows_per_post, words_per_post):
        total = total + post_flops(shape, rows, words, head_input, labels)
    return total.scaled(1.0 / len(rows_per_post))


def mner_rows(featurizer: Any, posts: list[Post], second_segment: str | list[str] | None = None) -> list[list[int]]:
    """Subword count of each encoder row of each post, exactly as the model's featurizer builds them.

    One post per call so rows map to posts; analysis only, never on a timed path.
    """
    rows = []
    for post in posts:
        second = second_texts(featurizer, [post], second_segment)
        mask = featurizer([post.tokens], second)["attention_mask"]  # (r, s)
        rows.append([int(n) for n in mask.sum(1).tolist()])
    return rows


def bound_posts_per_second(flops: FlopCount, fp32_flops_per_s: float, int8_ops_per_s: float | None = None) -> float:
    """Posts/s if every counted FLOP ran at the measured matmul ceiling (int8 Linear at the int8 rate)."""
    linear_rate = int8_ops_per_s if int8_ops_per_s else fp32_flops_per_s
    seconds = (flops.linear + flops.head) / linear_rate + flops.attention / fp32_flops_per_s
    return 1.0 / seconds if seconds > 0 else float("inf")
