"""kNN tagging (kNN-NER style): a datastore of a trained tagger's word states -> gold tags over the
training posts; at inference each word's label distribution is mixed with that of its k nearest
training words, then the head decodes as usual (the CRF keeps its transitions). No retraining.

    p(y | word) = (1 - weight) * softmax(emissions) + weight * sum_j softmax_j(cos_j / temperature) [y_j = y]

The mixture's log is handed to the CRF as emissions: log-softmax differs from the emissions by a
constant per word, which no path comparison sees, so `weight = 0` decodes exactly as the tagger.
Files in a model directory: `knn/datastore.safetensors` (unit-length keys in fp16, label ids) and
the settings in `config.json` under `model.knn`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mner.data.post import Post

DATASTORE = "knn/datastore.safetensors"
KNN_NAMES = ("knn.words.v1",)


@dataclass
class KnnSettings:
    k: int = 8
    temperature: float = 0.1
    weight: float = 0.3

    def check(self) -> "KnnSettings":
        if self.k < 1 or self.temperature <= 0 or not 0.0 <= self.weight <= 1.0:
            raise ValueError(f"model.knn needs k >= 1, temperature > 0 and 0 <= weight <= 1; got {self}")
        return self


class WordDatastore:
    """(N, f) unit-length word states of training words and their (N,) gold label ids, in faiss."""

    def __init__(self, keys: np.ndarray, labels: np.ndarray, num_labels: int):
        import faiss

        self.keys = np.ascontiguousarray(keys, dtype=np.float32)
        self.labels = labels.astype(np.int64)
        self.num_labels = num_labels
        self.index = faiss.IndexFlatIP(self.keys.shape[1])  # exact: ~50k words per benchmark
        self.index.add(self.keys)

    def search(self, states: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(n, k) cosine similarities and label ids of each state's k nearest training words."""
        sims, rows = self.index.search(_unit(states), min(k, len(self.labels)))
        return sims, self.labels[rows]

    def save(self, directory: Path) -> None:
        from safetensors.numpy import save_file

        (directory / DATASTORE).parent.mkdir(parents=True, exist_ok=True)
        save_file({"keys": self.keys.astype(np.float16), "labels": self.labels}, str(directory / DATASTORE),
                  metadata={"num_labels": str(self.num_labels)})

    @classmethod
    def load(cls, directory: Path) -> "WordDatastore":
        from safetensors import safe_open

        path = Path(directory) / DATASTORE
        if not path.exists():
            raise FileNotFoundError(f"{directory}: model.knn is set but {DATASTORE} is missing")
        with safe_open(str(path), "np") as handle:
            num_labels = int(handle.metadata()["num_labels"])
            return cls(handle.get_tensor("keys").astype(np.float32), handle.get_tensor("labels"), num_labels)


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def knn_distribution(sims: np.ndarray, labels: np.ndarray, k: int, temperature: float, num_labels: int) -> np.ndarray:
    """(n, L) label distribution of the first k neighbours, softmax(cos / temperature)-weighted."""
    sims, labels = sims[:, :k], labels[:, :k]  # (n, k)
    weights = np.exp((sims - sims.max(1, keepdims=True)) / temperature)
    weights /= weights.sum(1, keepdims=True)
    dist = np.zeros((sims.shape[0], num_labels), dtype=np.float64)
    np.add.at(dist, (np.arange(sims.shape[0])[:, None], labels), weights)
    return dist


def mixed_emissions(emissions: torch.Tensor, mask: torch.Tensor, sims: np.ndarray, labels: np.ndarray,
                    settings: KnnSettings) -> torch.Tensor:
    """(b, w, L) log of the mixture on real words; `sims`/`labels` are (n, >=k) for the n masked words."""
    out = emissions.float().clone()
    model_p = torch.softmax(out[mask], dim=-1).double()  # (n, L)
    knn_p = torch.from_numpy(knn_distribution(sims, labels, settings.k, settings.temperature, out.shape[-1]))
    mixed = (1.0 - settings.weight) * model_p + settings.weight * knn_p
    out[mask] = torch.log(mixed.clamp(min=1e-12)).float()
    return out


class KnnTagging:
    """What `MnerModel.knn` holds: the datastore and the mixture's settings."""

    def __init__(self, datastore: WordDatastore, settings: KnnSettings):
        self.datastore = datastore
        self.settings = settings.check()

    def mix(self, emissions: torch.Tensor, states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        sims, labels = self.datastore.search(states[mask].detach().float().cpu().numpy(), self.settings.k)
        return mixed_emissions(emissions, mask, sims, labels, self.settings).to(emissions.dtype)

    def save_assets(self, directory: Path) -> None:
        self.datastore.save(Path(directory))


@torch.inference_mode()
def build_datastore(model: Any, posts: list[Post], batch_size: int = 64,
                    progress: Callable[[int], None] | None = None) -> WordDatastore:
    """The model's word states over labelled posts, each with its gold label (well-formed BIO)."""
    from mner.data.tags import repair_bio
    import dataclasses

    model.eval()
    knn, model.knn = model.knn, None  # the datastore holds the tagger's own states
    keys, labels = [], []
    try:
        posts = [dataclasses.replace(p, tags=repair_bio(p.tags)) for p in posts if p.tokens and p.tags]
        for start in range(0, len(posts), batch_size):
            chunk = posts[start:start + batch_size]
            batch = model.batch(chunk, with_labels=True)
            states = model.word_states(batch)  # (b, w, f)
            keys.append(_unit(states[batch.mask].float().numpy()))
            labels.append(batch.labels[batch.mask].numpy())
            if progress is not None:
                progress(len(chunk))
    finally:
        model.knn = knn
    if not keys:
        raise ValueError("no labelled posts to build a kNN datastore from")
    return WordDatastore(np.concatenate(keys), np.concatenate(labels), len(model.labels))
