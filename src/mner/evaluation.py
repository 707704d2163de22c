"""Run a model over posts and score it: the one code path behind every F1 a user sees."""

from __future__ import annotations

from typing import Any

import torch

from mner.data.post import Post
from mner.data.tags import parse_tag
from mner.metrics import entity_scores, token_macro_f1
from mner.precision import precision_context
from mner.second_segment import second_texts


def predict_tags(model: Any, posts: list[Post], batch_size: int = 64,
                 precision: str = "fp32") -> tuple[list[list[str]], list[list[float]]]:
    """Tags and confidences per post, in input order. Empty posts get no tags.

    `precision`: "fp32" or "bf16" (autocast; see `mner.precision`).
    """
    tags, confidences, _ = predict_grounded(model, posts, batch_size, precision, ground=False)
    return tags, confidences


def predict_grounded(model: Any, posts: list[Post], batch_size: int = 64, precision: str = "fp32",
                     ground: bool = True) -> tuple[list[list[str]], list[list[float]], list[list[Any]]]:
    """`predict_tags` plus, for a model with a grounding head, each predicted entity's (box or None, score)
    in span order (empty lists for other models)."""
    if getattr(model, "training", True):  # eval() walks every submodule: ~1 ms a request at batch 1
        model.eval()
    tags: list[list[str]] = [[] for _ in posts]
    confidences: list[list[float]] = [[] for _ in posts]
    groundings: list[list[Any]] = [[] for _ in posts]
    ground = ground and getattr(model, "grounding", None) is not None
    device = next(model.parameters()).device
    with torch.inference_mode(), precision_context(precision, device):
        for chosen in inference_order(model, posts, batch_size):
            batch = model.batch([posts[i] for i in chosen], with_labels=False).to(device)
            if ground:
                batch_tags, batch_conf, batch_ground = model.decode_grounded(batch)
            else:
                (batch_tags, batch_conf), batch_ground = model.decode(batch), [[] for _ in chosen]
            for i, t, c, g in zip(chosen, batch_tags, batch_conf, batch_ground):
                tags[i], confidences[i], groundings[i] = t, c, g
    return tags, confidences, groundings


def inference_batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Sorted by length for minimal padding; callers restore the original order.

    Lives here, not in `mner.training`: evaluation is used by training, never the reverse.
    """
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    return [order[s : s + batch_size] for s in range(0, len(order), batch_size)]


def inference_order(model: Any, posts: list[Post], batch_size: int) -> list[list[int]]:
    """The batches `predict_tags` runs: indices of the non-empty posts, sorted by encoder row width."""
    nonempty = [i for i, p in enumerate(posts) if p.tokens]
    lengths = encoder_lengths(model, [posts[i] for i in nonempty])
    return [[nonempty[i] for i in ids] for ids in inference_batches(lengths, batch_size)]


def encoder_lengths(model: Any, posts: list[Post]) -> list[int]:
    """Per post, the row width the encoder sees (subwords, plus a second segment), so that
    length-sorted batches pad little; word counts for encoders without subwords (BiLSTM)."""
    featurizer = getattr(getattr(model, "text_encoder", None), "featurizer", None)
    if featurizer is None or not hasattr(featurizer, "encoded_length"):
        return [len(p.tokens) for p in posts]
    second = second_texts(featurizer, posts, getattr(model, "second_segment", None)) or [None] * len(posts)
    return [featurizer.encoded_length(p.tokens, text) for p, text in zip(posts, second)]


def subword_tags(tags: list[str], counts: list[int]) -> list[str]:
    """Word tags spread over subwords: continuation pieces of X are I-X (the thesis's metric)."""
    out: list[str] = []
    for tag, n in zip(tags, counts):
        out.append(tag)
        prefix, entity_type = parse_tag(tag)
        out.extend(["O" if prefix == "O" else f"I-{entity_type}"] * (n - 1))
    return out


def subword_counts(model: Any, tokens: list[str]) -> list[int]:
    featurizer = getattr(model.text_encoder, "featurizer", None)
    if featurizer is None:
        return [1] * len(tokens)
    return [len(featurizer.word_pieces(t)) for t in tokens]


def score_tags(gold: list[list[str]], pred: list[list[str]], model: Any | None = None,
               posts: list[Post] | None = None) -> dict[str, Any]:
    """Entity micro/per-type scores plus token-level macro F1 (word and, given a model, subword)."""
    result = entity_scores(gold, pred).to_dict()
    result["token_macro_f1"] = token_macro_f1(gold, pred)
    result["token_macro_f1_relaxed"] = token_macro_f1(gold, pred, relaxed=True)
    if model is not None and posts is not None:
        counts = [subword_counts(model, p.tokens) for p in posts]
        gold_sub = [subword_tags(g, c) for g, c in zip(gold, counts)]
        pred_sub = [subword_tags(p, c) for p, c in zip(pred, counts)]
        result["subword_macro_f1"] = token_macro_f1(gold_sub, pred_sub)
        result["subword_macro_f1_relaxed"] = token_macro_f1(gold_sub, pred_sub, relaxed=True)
    return result


PROTOCOLS = ("standard", "rgcn")


def evaluate(model: Any, posts: list[Post], batch_size: int = 64, precision: str = "fp32",
             protocol: str = "standard", seen: set[tuple[str, str]] | None = None) -> dict[str, Any]:
    """Scores of `model` on the labelled `posts`; `protocol="rgcn"` adds `rgcn_protocol`, the
    per-batch-averaged F1 of R-GCN's released code (`mner.metrics.rgcn`), beside the micro F1.
    `seen` (the training set's `mner.metrics.seen.entity_names`) adds `seen_unseen`: the scores of
    the entities training has seen and of those it has not."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; choose from {', '.join(PROTOCOLS)}")
    labelled = [p for p in posts if p.tags is not None]
    if not labelled:
        raise ValueError("no post has gold tags: nothing to evaluate against")
    pred, _, groundings = predict_grounded(model, labelled, batch_size, precision)
    gold = [p.tags or [] for p in labelled]
    scores = score_tags(gold, pred, model, labelled)
    if getattr(model, "grounding", None) is not None:
        from mner.grounding.scoring import grounded_predictions
        from mner.metrics.grounding import grounded_scores

        scores["grounded"] = grounded_scores(labelled, grounded_predictions(labelled, pred, groundings))
    if protocol == "rgcn":
        from mner.metrics.rgcn import rgcn_protocol_scores

        pieces = [subword_counts(model, p.tokens) if hasattr(model, "text_encoder") else None for p in labelled]
        scores["rgcn_protocol"] = rgcn_protocol_scores(gold, pred, [c or [1] * len(g) for c, g in zip(pieces, gold)])
    if seen is not None:
        from mner.data.tags import bio_to_spans
        from mner.metrics.seen import seen_unseen_scores

        scores["seen_unseen"] = seen_unseen_scores(labelled, [bio_to_spans(t) for t in pred], seen)
    return scores
