"""A searchable bank of labelled training posts: sentence embeddings in a faiss index.

    index = PostIndex.build(train_posts, key="text")           # embeds with minilm-l6
    index.save("runs/index-t17")                               # index.faiss + bank.jsonl + vectors + meta.json
    hits = index.search(dev_posts, k=5)                        # [[(bank row, cosine), ...], ...]

Similarity is mean-centred cosine: the bank's mean embedding is subtracted before normalising,
because sentence embeddings share a large common direction that makes a few generic posts the
neighbour of everything (hubs); `hubness()` reports the share of neighbour slots the most frequent
posts take. A query never gets back a bank post with its own id or its own words (self-retrieval,
and the same tweet in two splits). Only what `build` is given enters the bank: callers build it
from training posts, never from dev or test posts (`mner index build` refuses those file names).
No pickle: faiss's own index file, JSON lines, safetensors.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mner.data.post import Post
from mner.file_lock import exclusive_lock
from mner.retrieval.embed import SentenceEmbedder, key_text
from mner.retrieval.image_embed import IMAGE_KEY, ImageEmbedder, with_image

KINDS = ("flat", "hnsw", "ivf", "auto")
APPROXIMATE_FROM = 100_000  # "auto": exact search below this many posts, HNSW above
FORMAT_VERSION = 1


def posts_digest(posts: list[Post], key: str, encoder: str) -> str:
    """What the index depends on: the encoder, the key and every post's key text (for the image key:
    its image paths, not their pixels) and tags."""
    h = hashlib.sha256(f"v{FORMAT_VERSION}|{encoder}|{key}".encode())
    for p in posts:
        keyed = list(p.images) if key == IMAGE_KEY else key_text(p, key)
        h.update(json.dumps([p.id, keyed, p.tokens, p.tags]).encode())
    return h.hexdigest()[:20]


def make_embedder(key: str, encoder: str) -> SentenceEmbedder | ImageEmbedder:
    """The image key embeds pixels with a vision model; every other key embeds text."""
    names = [k.strip() for k in key.split("|")]
    if IMAGE_KEY in names:
        if len(names) > 1:
            raise ValueError(f"index key {key!r}: the image key cannot be joined with text keys "
                             "(their embeddings live in different spaces)")
        return ImageEmbedder(encoder)
    return SentenceEmbedder(encoder)


def _normalise(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def resolved_kind(kind: str, n: int) -> str:
    return ("flat" if n < APPROXIMATE_FROM else "hnsw") if kind == "auto" else kind


def _faiss_index(vectors: np.ndarray, kind: str) -> Any:
    import faiss

    n, d = vectors.shape
    kind = resolved_kind(kind, n)
    if kind == "flat":
        index = faiss.IndexFlatIP(d)  # exact inner product = cosine on normalised rows
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(d, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = 128
    elif kind == "ivf":
        nlist = max(1, min(4096, int(np.sqrt(n))))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, nlist, faiss.METRIC_INNER_PRODUCT)
        index.train(vectors)
        index.nprobe = max(1, nlist // 8)
    else:
        raise ValueError(f"unknown index kind {kind!r}; choose from {', '.join(KINDS)}")
    index.add(vectors)
    return index


@dataclass
class BankPost:
    """What a neighbour hands back: a training post's words and gold tags (and its visual text)."""

    id: str
    tokens: list[str]
    tags: list[str]
    visual_text: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, post: Post) -> "BankPost":
        return cls(post.id, list(post.tokens), list(post.tags or ["O"] * len(post.tokens)),
                   dict(post.visual_text or {}))


class PostIndex:
    def __init__(self, bank: list[BankPost], vectors: np.ndarray, meta: dict[str, Any],
                 embedder: SentenceEmbedder | ImageEmbedder | None = None, faiss_index: Any | None = None):
        self.bank = bank
        self.vectors = vectors.astype(np.float32)  # (n, d) raw embeddings
        self.meta = meta
        self._embedder = embedder
        self.mean = self.vectors.mean(0, keepdims=True) if meta.get("centred", True) else np.zeros(
            (1, self.vectors.shape[1]), np.float32)  # (1, d)
        self._texts = {" ".join(b.tokens).lower(): i for i, b in enumerate(bank)}
        self._ids = {b.id: i for i, b in enumerate(bank)}
        self.index = faiss_index if faiss_index is not None else _faiss_index(self.keys(self.vectors),
                                                                              meta.get("kind", "flat"))

    # ---- building -------------------------------------------------------------------------
    @classmethod
    def build(cls, posts: list[Post], key: str = "text", encoder: str = "minilm-l6", kind: str = "auto",
              centred: bool = True, embedder: SentenceEmbedder | ImageEmbedder | None = None,
              progress: Callable[[int], None] | None = None) -> "PostIndex":
        posts = [p for p in posts if p.tokens]
        if not posts:
            raise ValueError("an index needs at least one non-empty post")
        if any(p.tags is None for p in posts):
            raise ValueError("an index is a bank of labelled posts: every post needs gold tags")
        if kind not in KINDS:
            raise ValueError(f"unknown index kind {kind!r}; choose from {', '.join(KINDS)}")
        embedder = embedder or make_embedder(key, encoder)
        digest = posts_digest(posts, key, encoder)  # of what it was given: the cache compares that
        started = time.perf_counter()
        vectors = embedder.embed_posts(posts, key, progress)  # (n, d)
        key_meta: dict[str, Any] = {}
        if key == IMAGE_KEY:  # a post with no usable image has nothing to be found by
            found = with_image(vectors)
            if not found.any():
                raise ValueError("an image index needs posts with readable images: none of the posts has one")
            posts, vectors = [p for p, f in zip(posts, found) if f], vectors[found]
            key_meta["without_image"] = int((~found).sum())  # posts given without a readable image: not in the bank
        meta = {"format": FORMAT_VERSION, "encoder": encoder, "key": key, "kind": kind, "centred": centred,
                "searched_by": resolved_kind(kind, len(posts)), "count": len(posts), "dim": int(vectors.shape[1]), "digest": digest,
                "embed_seconds": round(time.perf_counter() - started, 2), **key_meta}
        index = cls([BankPost.of(p) for p in posts], vectors, meta, embedder)
        index.meta["build_seconds"] = round(time.perf_counter() - started, 2)
        return index

    # ---- search -------------------------------------------------------------------------
    @property
    def embedder(self) -> SentenceEmbedder | ImageEmbedder:
        if self._embedder is None:
            self._embedder = make_embedder(self.meta["key"], self.meta["encoder"])
        return self._embedder

    def keys(self, vectors: np.ndarray) -> np.ndarray:
        """Raw embeddings -> the searched vectors: centred by the bank's mean, unit length."""
        return np.ascontiguousarray(_normalise(vectors - self.mean), dtype=np.float32)

    def embed(self, posts: list[Post]) -> np.ndarray:
        return self.embedder.embed_posts(posts, self.meta["key"])  # (q, d)

    def search(self, posts: list[Post], k: int, vectors: np.ndarray | None = None) -> list[list[tuple[int, float]]]:
        """The k nearest bank posts of each post, best first, never the post itself (same id or
        same words)."""
        if k <= 0 or not posts:
            return [[] for _ in posts]
        vectors = self.embed(posts) if vectors is None else vectors
        excluded = [{i for i in (self._ids.get(p.id), self._texts.get(" ".join(p.tokens).lower()))
                     if i is not None} for p in posts]
        extra = max((len(e) for e in excluded), default=0)
        scores, rows = self.index.search(self.keys(vectors), min(k + extra, len(self.bank)))  # (q, k')
        hits = []
        unfindable = ~with_image(vectors) if self.meta.get("key") == IMAGE_KEY else np.zeros(len(posts), bool)
        for q, (srow, irow) in enumerate(zip(scores, rows)):
            kept = [(int(i), float(s)) for s, i in zip(srow, irow) if i >= 0 and int(i) not in excluded[q]]
            hits.append([] if unfindable[q] else kept[:k])  # a post without an image has no image neighbours
        return hits

    def bank_neighbours(self, k: int) -> list[list[tuple[int, float]]]:
        """Each bank post's k nearest other bank posts (what training posts retrieve)."""
        posts = [Post(id=b.id, tokens=b.tokens) for b in self.bank]
        return self.search(posts, k, vectors=self.vectors)

    def hubness(self, k: int = 10) -> dict[str, float]:
        """Share (percent) of all k-neighbour slots of the bank's own posts taken by the most
        frequent 1% of posts and by the 10 most frequent, with and without centring."""
        return {"k": k, "centred": hub_shares(self.keys(self.vectors), k),
                "raw": hub_shares(np.ascontiguousarray(_normalise(self.vectors)), k)}

    # ---- files -------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        import faiss
        from safetensors.numpy import save_file

        from mner.checkpoint import atomic_directory

        def write(tmp: Path) -> None:
            faiss.write_index(self.index, str(tmp / "index.faiss"))
            save_file({"vectors": self.vectors}, str(tmp / "vectors.safetensors"))
            with open(tmp / "bank.jsonl", "w", encoding="utf-8") as handle:
                for b in self.bank:
                    handle.write(json.dumps({"id": b.id, "tokens": b.tokens, "tags": b.tags,
                                             "visual_text": b.visual_text}, ensure_ascii=False) + "\n")
            (tmp / "meta.json").write_text(json.dumps(self.meta, indent=2), encoding="utf-8")

        atomic_directory(Path(directory), write)
        return Path(directory)

    @classmethod
    def load(cls, directory: str | Path) -> "PostIndex":
        import faiss
        from safetensors.numpy import load_file

        directory = Path(directory)
        for name in ("meta.json", "bank.jsonl", "vectors.safetensors", "index.faiss"):
            if not (directory / name).exists():
                raise FileNotFoundError(f"{directory} is not an mner index: {name} is missing "
                                        "(build one with `mner index build TRAIN --to DIR`)")
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        bank = []
        with open(directory / "bank.jsonl", encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, 1):
                try:
                    d = json.loads(line)
                    bank.append(BankPost(d["id"], d["tokens"], d["tags"], d.get("visual_text") or {}))
                except (json.JSONDecodeError, KeyError) as err:
                    raise ValueError(f"{directory / 'bank.jsonl'}:{line_no}: not a bank post ({err})") from None
        vectors = load_file(str(directory / "vectors.safetensors"))["vectors"]
        return cls(bank, vectors, meta, None, faiss.read_index(str(directory / "index.faiss")))


def hub_shares(keys: np.ndarray, k: int) -> dict[str, float]:
    """Exact self-excluded k-NN over `keys` (n, d unit rows); share of slots of the top posts."""
    import faiss

    n = keys.shape[0]
    k = min(k, n - 1)
    if k <= 0:
        return {"top1pct": 0.0, "top10": 0.0}
    flat = faiss.IndexFlatIP(keys.shape[1])
    flat.add(keys)
    _, rows = flat.search(keys, k + 1)  # (n, k+1): usually itself first
    counts: Counter[int] = Counter()
    for q, row in enumerate(rows):
        counts.update([int(i) for i in row if i != q][:k])
    slots = n * k
    ranked = [c for _, c in counts.most_common()]
    top = max(1, n // 100)
    return {"top1pct": 100.0 * sum(ranked[:top]) / slots, "top10": 100.0 * sum(ranked[:10]) / slots}


HELD_OUT_NAMES = ("dev", "valid", "validation", "test")


def check_bank_source(path: str | Path) -> None:
    """Dev and test posts never enter a bank with their labels: refuse files named like them."""
    stem = Path(path).stem.lower()
    if any(stem == n or stem.startswith(f"{n}_") or stem.endswith(f"_{n}") for n in HELD_OUT_NAMES):
        raise ValueError(f"{path}: looks like a dev/test split; an index is a bank of labelled training "
                         "posts, and held-out posts must not enter it with their labels")


def cached_index(posts: list[Post], directory: str | Path, key: str = "text", encoder: str = "minilm-l6",
                 kind: str = "auto", centred: bool = True, log: Callable[[str], None] = print,
                 progress: Callable[[int], None] | None = None) -> tuple[PostIndex, bool]:
    """The index of `posts` in `directory`: reused when its content hash matches, else built
    and saved there. Returns (index, reused)."""
    directory = Path(directory)
    labelled = [p for p in posts if p.tokens]
    digest = posts_digest(labelled, key, encoder)
    meta_path = directory / "meta.json"
    # Why a lock: the runs of a grid (`mner experiment --jobs N`) share one cache directory per key.
    # Unlocked, two of them built it at once and swapped it in turn, and a third could read it
    # between the two renames of a swap. Under the lock the first builds and the others wait and reuse.
    directory.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(directory.with_name(f".{directory.name}.lock")):
        if meta_path.exists():
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if meta.get("digest") == digest and meta.get("kind") == kind and meta.get("centred") == centred:
                return PostIndex.load(directory), True
            log(f"{directory}: the index there was built from other posts or settings; rebuilding it")
        index = PostIndex.build(labelled, key, encoder, kind, centred, progress=progress)
        index.save(directory)
    return index, False


def query_latency(index: PostIndex, posts: list[Post], k: int = 5, n: int = 100) -> dict[str, float]:
    """Milliseconds per query post: embedding + search one at a time (a request), the search alone,
    and embedding + search in batches of 64 (offline tagging). Queries are the first `n` posts."""
    queries = [p for p in posts if p.tokens]
    if index.meta.get("key") == IMAGE_KEY:  # time image queries on posts that have their image here
        queries = [p for p in queries if p.images and all(Path(i).is_file() for i in p.images)]
    queries = queries[:n]
    if not queries:
        return {}
    started = time.perf_counter()
    vectors = [index.embed([q]) for q in queries]
    embed_s = time.perf_counter() - started
    started = time.perf_counter()
    for q, v in zip(queries, vectors):
        index.search([q], k, vectors=v)
    search_s = time.perf_counter() - started
    started = time.perf_counter()
    for start in range(0, len(queries), 64):
        index.search(queries[start:start + 64], k)
    batched_s = time.perf_counter() - started
    per = 1000.0 / len(queries)
    return {"queries": len(queries), "k": k, "single_ms": round((embed_s + search_s) * per, 2),
            "search_only_ms": round(search_s * per, 3), "batch64_ms": round(batched_s * per, 2)}
