"""F1 as R-GCN's released code computes it (1429904852/R-GCN, `test.py` + `metrics.py`), so a user
can see how much of a published gap is the metric and not the model.

What that code does, reproduced here on purpose:
- the posts are cut into batches of 64 in file order and the last partial batch is dropped
  (`next_batch`: `num_batches = len(input_ids) // batch_size`);
- each post is read on wordpieces: `[CLS]` and `[SEP]` tagged `O`, a word's continuation pieces
  tagged `X`, the row cut at 98 pieces (`sequence_length`); a whole batch is one flat sequence;
- chunks are read by its `get_chunk`: `O` and `X` close a chunk, a `B-` of the running type
  opens a new one, a change of type opens a new one, an `I-` after `O` opens one;
- each batch's P/R/F1 is 0 when nothing is correct (a batch without entities scores 0), rounded
  to 4 digits, and the reported F1 is the mean of the batches' F1.
Predicted continuation pieces are `X`: R-GCN's model learns to tag them `X`, mner tags words.
The wordpieces are the scored model's tokenizer's (R-GCN used bert-base-uncased).
"""

from __future__ import annotations

from collections.abc import Sequence

RGCN_BATCH = 64
RGCN_SEQUENCE_LENGTH = 98
NOT_ENTITY = ("O", "X")


def rgcn_chunks(sequence: Sequence[str]) -> list[tuple[str, int, int]]:
    """R-GCN's `get_chunk`, on tag strings: (type, first index, last index) per chunk."""
    chunks: list[tuple[str, int, int]] = []
    chunk_type: str | None = None
    chunk_start = 0
    for index, label in enumerate(sequence):
        if label in NOT_ENTITY:
            if chunk_type is not None:
                chunks.append((chunk_type, chunk_start, index - 1))
                chunk_type = None
            continue
        label_class, label_type = label.split("-", 1)
        if chunk_type is None:
            chunk_type, chunk_start = label_type, index
        elif label_type == chunk_type:
            if index == len(sequence) - 1:
                chunks.append((chunk_type, chunk_start, index))
            elif label_class == "B":
                chunks.append((chunk_type, chunk_start, index - 1))
                chunk_start = index
        else:
            chunks.append((chunk_type, chunk_start, index - 1))
            chunk_type, chunk_start = label_type, index
    return chunks


def rgcn_row(tags: Sequence[str], pieces: Sequence[int], continuation: str = "X") -> list[str]:
    """One post as R-GCN's model sees it: [CLS] word pieces [SEP], cut at 98 pieces."""
    row = ["O"]
    for tag, n in zip(tags, pieces):
        row.append(tag)
        row.extend([continuation] * (n - 1))
    return (row + ["O"])[:RGCN_SEQUENCE_LENGTH]


def _batch_prf(gold: list[str], pred: list[str]) -> tuple[float, float, float]:
    true_chunks, pred_chunks = set(rgcn_chunks(gold)), set(rgcn_chunks(pred))
    correct = len(true_chunks & pred_chunks)
    precision = correct / len(pred_chunks) if correct > 0 else 0.0
    recall = correct / len(true_chunks) if correct > 0 else 0.0
    f1 = 2 * precision * recall / (precision + recall) if correct > 0 else 0.0
    return round(f1, 4), round(precision, 4), round(recall, 4)


def rgcn_protocol_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]],
                         pieces: Sequence[Sequence[int]] | None = None,
                         batch_size: int = RGCN_BATCH) -> dict[str, float]:
    """Mean per-batch P/R/F1 (percent) over the full batches; `pieces[i][j]` = wordpieces of word j
    of post i (one each when None). Raises when there is not one full batch."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold posts but {len(pred)} predicted")
    n_batches = len(gold) // batch_size
    if n_batches == 0:
        raise ValueError(f"the R-GCN protocol scores full batches of {batch_size} posts; only {len(gold)} given")
    pieces = pieces if pieces is not None else [[1] * len(g) for g in gold]
    f1s, precisions, recalls = [], [], []
    for b in range(n_batches):
        ids = range(b * batch_size, (b + 1) * batch_size)
        flat_gold = [t for i in ids for t in rgcn_row(gold[i], pieces[i])]
        flat_pred = [t for i in ids for t in rgcn_row(pred[i], pieces[i])]
        f1, precision, recall = _batch_prf(flat_gold, flat_pred)
        f1s.append(f1)
        precisions.append(precision)
        recalls.append(recall)
    mean = lambda xs: 100.0 * sum(xs) / len(xs)  # noqa: E731
    return {"f1": mean(f1s), "precision": mean(precisions), "recall": mean(recalls), "batches": n_batches,
            "posts_scored": n_batches * batch_size, "posts_dropped": len(gold) - n_batches * batch_size}
