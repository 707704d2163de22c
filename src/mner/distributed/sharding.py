"""How work is split across processes so that results do not depend on how many ran.

Training: each step's GLOBAL batch (`train.batch_size` posts, in the bucketed, reproducible
order of `mner.training.order`) is cut into `world_size` contiguous parts, one per process.
Each process weights its part's mean loss by the part's share of the batch
(`len(part) / len(batch)`) and the gradients are summed across processes
(`ProcessContext.sync_gradients`), so the summed gradient is the global batch's mean
gradient: the learning rate, the schedule (counted in global steps) and the number of
steps per epoch mean what they mean in one process. This is exact for a loss that is a
mean over posts (the CRF head, the default); the softmax head averages over words, where
the shares by post are close to, not exactly, the words' shares. Contiguous parts of a
length-bucketed batch hold posts of similar length, so no process pads much.

Evaluation: process r predicts posts r, r + n, r + 2n, ... (each post exactly once; the
last round simply has fewer posts, nothing is padded or repeated), the predictions are
gathered and put back in input order, and every process scores the same full list, so
all of them see the same F1 and agree on the best epoch and on early stopping.
"""

from __future__ import annotations

from typing import Any, TypeVar

from mner.data.post import Post
from mner.distributed.context import ProcessContext
from mner.evaluation import evaluate, predict_tags, score_tags

T = TypeVar("T")


def batch_part(batch: list[T], rank: int, world_size: int) -> list[T]:
    """This process's contiguous part of a global batch (sizes differ by at most one)."""
    base, extra = divmod(len(batch), world_size)
    start = rank * base + min(rank, extra)
    return batch[start : start + base + (1 if rank < extra else 0)]


def shard_batch(posts: list[Post], context: ProcessContext) -> tuple[list[Post], float]:
    """(this process's posts of the global batch, their share of it); may be empty."""
    if context.world_size == 1:
        return posts, 1.0
    part = batch_part(posts, context.rank, context.world_size)
    return part, len(part) / len(posts)


def gather_in_order(context: ProcessContext, indices: list[int], values: list[Any], total: int) -> list[Any]:
    """Values that the processes computed for disjoint `indices`, as one list in index order;
    fails loudly if a position is missing or came twice (a sharding bug, never silent)."""
    result: list[Any] = [None] * total
    seen = [False] * total
    for part_indices, part_values in context.gather_json([indices, values]):
        for i, value in zip(part_indices, part_values):
            if seen[i]:
                raise RuntimeError(f"sharded evaluation: post {i} was predicted twice")
            seen[i], result[i] = True, value
    if not all(seen):
        raise RuntimeError(f"sharded evaluation: {seen.count(False)} posts were not predicted")
    return result


def evaluate_sharded(model: Any, posts: list[Post], batch_size: int, context: ProcessContext) -> dict[str, Any]:
    """`mner.evaluation.evaluate`, with the posts' predictions spread over the processes."""
    if context.world_size == 1:
        return evaluate(model, posts, batch_size)
    labelled = [p for p in posts if p.tags is not None]
    if not labelled:
        raise ValueError("no post has gold tags: nothing to evaluate against")
    mine = list(range(context.rank, len(labelled), context.world_size))
    tags, _ = predict_tags(model, [labelled[i] for i in mine], batch_size)
    pred = gather_in_order(context, mine, tags, len(labelled))
    return score_tags([p.tags or [] for p in labelled], pred, model, labelled)
