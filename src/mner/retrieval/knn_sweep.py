"""Tune kNN tagging on dev without retraining: the tagger runs over dev once, its words look up the
datastore once (at the largest k), and every (k, temperature, weight) only re-mixes and re-decodes.

    scores = sweep_knn(model, datastore, dev_posts, ks=[4, 8, 16], temperatures=[0.05, 0.1], weights=[0, .2, .4])
    attach_knn(model, datastore, best_settings(scores)); save_pretrained(model, "runs/x-knn")
"""

from __future__ import annotations

import itertools
from typing import Any

import torch

from mner.data.post import Post
from mner.retrieval.knn import KNN_NAMES, KnnSettings, KnnTagging, WordDatastore, mixed_emissions


@torch.inference_mode()
def sweep_knn(model: Any, datastore: WordDatastore, dev: list[Post], ks: list[int], temperatures: list[float],
              weights: list[float], batch_size: int = 64) -> list[dict[str, Any]]:
    """Dev scores (micro P/R/F1) of every setting; weight 0 is the tagger alone."""
    from mner.evaluation import inference_order, score_tags

    model.eval()
    knn, model.knn = model.knn, None
    try:
        labelled = [p for p in dev if p.tags is not None and p.tokens]
        runs = []  # per batch: indices, emissions (b, w, L), mask (b, w), neighbour sims/labels (n, kmax)
        for chosen in inference_order(model, labelled, batch_size):
            batch = model.batch([labelled[i] for i in chosen], with_labels=False)
            states = model.word_states(batch)  # (b, w, f)
            emissions = model.head.emissions(states)  # (b, w, L); dropout is off in eval
            sims, labels = datastore.search(states[batch.mask].float().numpy(), max(ks))
            runs.append((chosen, emissions, batch.mask, sims, labels))
    finally:
        model.knn = knn
    gold = [p.tags or [] for p in labelled]
    results = []
    for k, temperature, weight in itertools.product(ks, temperatures, weights):
        settings = KnnSettings(k, temperature, weight).check()
        pred: list[list[str]] = [[] for _ in labelled]
        for chosen, emissions, mask, sims, labels in runs:
            paths, _ = model.head.decode(mixed_emissions(emissions, mask, sims, labels, settings), mask)
            for i, path in zip(chosen, paths):
                pred[i] = [model.labels[j] for j in path]
        s = score_tags(gold, pred)
        results.append({"k": k, "temperature": temperature, "weight": weight,
                        "precision": s["precision"], "recall": s["recall"], "f1": s["f1"]})
    return results


def best_settings(results: list[dict[str, Any]]) -> KnnSettings:
    best = max(results, key=lambda r: (r["f1"], -r["weight"]))  # ties: the lighter mixture
    return KnnSettings(int(best["k"]), float(best["temperature"]), float(best["weight"]))


def attach_knn(model: Any, datastore: WordDatastore, settings: KnnSettings) -> Any:
    """Give `model` kNN tagging; its config then rebuilds it on load (`model.knn`)."""
    model.knn = KnnTagging(datastore, settings)
    model.config = {**model.config, "model": {**model.config["model"], "knn": {
        "name": KNN_NAMES[0], "k": settings.k, "temperature": settings.temperature, "weight": settings.weight}}}
    return model


def make_knn_model(run_dir: Any, train: list[Post], output: Any, dev: list[Post] | None = None,
                   ks: list[int] = (8,), temperatures: list[float] = (0.1,), weights: list[float] = (0.3,),
                   log: Any = print, progress: Any = None) -> dict[str, Any]:
    """A copy of a trained model with a kNN datastore over `train`, its settings tuned on `dev` when
    several are given. Returns {"settings", "sweep"}; the model goes to `output`."""
    from pathlib import Path

    from mner.checkpoint import from_pretrained, save_pretrained
    from mner.predict import resolve_model_dir
    from mner.retrieval.knn import build_datastore

    source = resolve_model_dir(run_dir)
    if Path(output).resolve() == source.resolve():
        raise ValueError("write the kNN model to a new directory, not over the model it is made from")
    model = from_pretrained(source)
    datastore = build_datastore(model, train, progress=progress)
    log(f"kNN datastore: {len(datastore.labels)} training words, {datastore.keys.shape[1]}-dim states")
    several = len(ks) * len(temperatures) * len(weights) > 1
    if several and not dev:
        raise ValueError("several k / temperature / weight values are tuned on dev: give dev posts (--dev)")
    sweep = sweep_knn(model, datastore, dev, list(ks), list(temperatures), list(weights)) if dev else []
    settings = best_settings(sweep) if several else KnnSettings(ks[0], temperatures[0], weights[0]).check()
    attach_knn(model, datastore, settings)
    save_pretrained(model, output, {"knn": {"k": settings.k, "temperature": settings.temperature,
                                            "weight": settings.weight}, "dev_sweep": sweep})
    return {"settings": settings, "sweep": sweep}
