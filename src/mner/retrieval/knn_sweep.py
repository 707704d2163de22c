"""Tune kNN tagging on dev without retraining: the tagger runs over dev once, its words look up the
datastore once (at the largest k), and every (k, temperature, weight) only re-mixes and re-decodes.

    scores = sweep_knn(model, datastore, dev_posts, ks=[4, 8, 16], temperatures=[0.05, 0.1], weights=[0, .2, .4])
    honest = held_out_scores(gold, predictions)  # each half of dev tagged with the setting tuned on the other
    attach_knn(model, datastore, best_settings(scores)); save_pretrained(model, "runs/x-knn")
"""

from __future__ import annotations

import itertools
from typing import Any

import torch

from mner.data.post import Post
from mner.retrieval.knn import KNN_NAMES, KnnSettings, KnnTagging, WordDatastore, mixed_emissions


@torch.inference_mode()
def sweep_predictions(model: Any, datastore: WordDatastore, dev: list[Post], ks: list[int],
                      temperatures: list[float], weights: list[float],
                      batch_size: int = 64) -> tuple[list[Post], list[tuple[KnnSettings, list[list[str]]]]]:
    """(the labelled dev posts, [(settings, tags per post)] for every setting); weight 0 is the tagger alone."""
    from mner.evaluation import inference_order

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
    predictions = []
    for k, temperature, weight in itertools.product(ks, temperatures, weights):
        settings = KnnSettings(k, temperature, weight).check()
        pred: list[list[str]] = [[] for _ in labelled]
        for chosen, emissions, mask, sims, labels in runs:
            paths, _ = model.head.decode(mixed_emissions(emissions, mask, sims, labels, settings), mask)
            for i, path in zip(chosen, paths):
                pred[i] = [model.labels[j] for j in path]
        predictions.append((settings, pred))
    return labelled, predictions


def _row(settings: KnnSettings, scores: dict[str, Any]) -> dict[str, Any]:
    return {"k": settings.k, "temperature": settings.temperature, "weight": settings.weight,
            "precision": scores["precision"], "recall": scores["recall"], "f1": scores["f1"]}


def scored_sweep(gold: list[list[str]], predictions: list[tuple[KnnSettings, list[list[str]]]]) -> list[dict[str, Any]]:
    """One row per setting: its micro P/R/F1 against `gold`."""
    from mner.evaluation import score_tags

    return [_row(settings, score_tags(gold, pred)) for settings, pred in predictions]


def sweep_knn(model: Any, datastore: WordDatastore, dev: list[Post], ks: list[int], temperatures: list[float],
              weights: list[float], batch_size: int = 64) -> list[dict[str, Any]]:
    """Dev scores (micro P/R/F1) of every setting; weight 0 is the tagger alone."""
    labelled, predictions = sweep_predictions(model, datastore, dev, ks, temperatures, weights, batch_size)
    return scored_sweep([p.tags or [] for p in labelled], predictions)


def held_out_scores(gold: list[list[str]], predictions: list[tuple[KnnSettings, list[list[str]]]],
                    folds: int = 2) -> dict[str, Any]:
    """What the tuning is worth on posts it did not see: dev is cut into `folds` interleaved parts;
    each part is tagged with the setting tuned on the other parts; the pooled micro F1 of those
    tags is set against the tagger alone (weight 0) on the same posts.

    Why: the best of dozens of settings scored on the dev set that chose it is an upper bound
    (on Twitter-2017 dev the winner of one half lost F1 on the other half)."""
    from mner.evaluation import score_tags

    if folds < 2:
        raise ValueError("a held-out estimate needs at least 2 folds")
    tagger = next((pred for settings, pred in predictions if settings.weight == 0), None)
    if tagger is None:
        raise ValueError("the held-out estimate compares against the tagger alone: include weight 0")
    parts = [list(range(f, len(gold), folds)) for f in range(folds)]
    pooled: list[list[str]] = [[] for _ in gold]
    chosen = []
    for f, part in enumerate(parts):
        rest = [i for g, other in enumerate(parts) if g != f for i in other]
        rows = scored_sweep([gold[i] for i in rest], [(s, [pred[i] for i in rest]) for s, pred in predictions])
        # ties: the lighter mixture
        best_row, (_, best_pred) = max(zip(rows, predictions), key=lambda t: (t[0]["f1"], -t[0]["weight"]))
        chosen.append({k: best_row[k] for k in ("k", "temperature", "weight")} | {"tuned_f1": best_row["f1"]})
        for i in part:
            pooled[i] = best_pred[i]
    knn_f1, tagger_f1 = score_tags(gold, pooled)["f1"], score_tags(gold, tagger)["f1"]
    return {"folds": folds, "chosen": chosen, "tagger_f1": tagger_f1, "knn_f1": knn_f1, "gain": knn_f1 - tagger_f1}


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
                   log: Any = print, progress: Any = None, folds: int = 2) -> dict[str, Any]:
    """A copy of a trained model with a kNN datastore over `train`, its settings tuned on `dev` when
    several are given. Returns {"settings", "sweep", "held_out"} (held_out: `held_out_scores` over
    `folds` parts of dev, when several settings including weight 0 are swept and folds >= 2; else
    None); the model goes to `output`."""
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
    sweep, held_out = [], None
    if dev:
        labelled, predictions = sweep_predictions(model, datastore, dev, list(ks), list(temperatures), list(weights))
        gold = [p.tags or [] for p in labelled]
        sweep = scored_sweep(gold, predictions)
        if several and folds >= 2 and 0.0 in [float(w) for w in weights]:
            held_out = held_out_scores(gold, predictions, folds)
    settings = best_settings(sweep) if several else KnnSettings(ks[0], temperatures[0], weights[0]).check()
    attach_knn(model, datastore, settings)
    save_pretrained(model, output, {"knn": {"k": settings.k, "temperature": settings.temperature,
                                            "weight": settings.weight}, "dev_sweep": sweep, "held_out": held_out})
    return {"settings": settings, "sweep": sweep, "held_out": held_out}
