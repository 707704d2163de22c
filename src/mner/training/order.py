"""Which posts go in which batch: length-bucketed and reproducible from (seed, epoch).

Bucketing: shuffle, cut into pools of 50 batches, sort each pool by length,
cut into batches, shuffle the batches. Padding waste drops to a few percent
while batches stay random. The order depends only on (seed, epoch), so a
resumed run sees the same batches it would have seen.
"""

from __future__ import annotations

import random


def epoch_batches(lengths: list[int], batch_size: int, seed: int, epoch: int, bucket: bool = True) -> list[list[int]]:
    rng = random.Random(seed * 1_000_003 + epoch)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    if bucket:
        pool = batch_size * 50
        order = [i for s in range(0, len(order), pool) for i in sorted(order[s : s + pool], key=lengths.__getitem__)]
    batches = [order[s : s + batch_size] for s in range(0, len(order), batch_size)]
    if bucket:
        rng.shuffle(batches)
    return batches
