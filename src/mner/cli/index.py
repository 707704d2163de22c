"""`mner index ...`: build a retrieval index over training posts (registered in cli/main.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

index_app = typer.Typer(help="Retrieval indexes over labelled training posts (docs/retrieval.md).",
                        no_args_is_help=True)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


@index_app.command("build")
def build(
    train: Path = typer.Argument(..., help="Labelled training posts (never dev or test)."),
    to: Path = typer.Option(..., "--to", help="Index directory (reused when its content hash matches)."),
    fmt: Optional[str] = typer.Option(None, "--format", help="Input format (default: auto-detect)."),
    key: str = typer.Option("text", "--key", help="text | caption | knowledge, or several joined by | "
                            "(text|caption); or image (the posts' pixels, with a vision --encoder)."),
    images: Optional[Path] = typer.Option(None, "--images", help="Folder the posts' image names are read "
                                          "from (the image key)."),
    captions: Optional[Path] = typer.Option(None, "--captions", help="Caption file attached as visual text."),
    knowledge: Optional[Path] = typer.Option(None, "--knowledge", help="Knowledge file attached as visual text."),
    encoder: Optional[str] = typer.Option(None, "--encoder", help="Sentence encoder: preset, hub id or path "
                                          "(default minilm-l6); for --key image, a vision model (ViT, CLIP, ResNet)."),
    kind: str = typer.Option("auto", "--kind", help="flat (exact) | hnsw | ivf | auto (exact below 100k posts)."),
    no_centre: bool = typer.Option(False, "--no-centre", help="Plain cosine (no mean-centring)."),
    hubness_k: int = typer.Option(10, "--hubness-k", help="Neighbour-list length of the hubness report."),
    latency: int = typer.Option(0, "--latency", help="Also time N queries (the first N posts): one at a "
                                "time and in batches of 64."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Embed every training post and store them with their gold tags in a faiss index."""
    from tqdm import tqdm

    from mner.data.loading import load_posts
    from mner.retrieval.index import cached_index, check_bank_source, query_latency

    try:
        check_bank_source(train)
        if key == "image" and encoder is None:
            raise ValueError("--key image embeds the posts' pixels: name a vision model with --encoder "
                             "(a hub id or local directory)")
        posts = load_posts(train, fmt, images_dir=images, visual_text={"caption": captions, "knowledge": knowledge})
        with tqdm(total=len(posts), desc="embedding", unit="post", disable=as_json) as bar:
            index, reused = cached_index(posts, to, key, encoder or "minilm-l6", kind, not no_centre,
                                         log=typer.echo, progress=bar.update)
    except (FileNotFoundError, ValueError, OSError) as err:
        _fail(str(err))
    report = {**index.meta, "reused": reused, "directory": str(to), "hubness": index.hubness(hubness_k)}
    if latency > 0:
        report["latency"] = query_latency(index, posts, n=latency)
    if as_json:
        typer.echo(json.dumps(report))
        return
    h = report["hubness"]
    typer.echo(f"{'reused' if reused else 'built'} {to}: {index.meta['count']} posts by {key!r}, "
               f"{index.meta['encoder']}, {index.meta['searched_by']} index, built in {index.meta.get('build_seconds')} s")
    if index.meta.get("without_image"):
        typer.echo(f"{index.meta['without_image']} posts had no readable image and are not in the bank")
    typer.echo(f"hubness (k={h['k']}): top 1% of posts fill {h['centred']['top1pct']:.1f}% of neighbour slots "
               f"(uncentred {h['raw']['top1pct']:.1f}%), top 10 posts {h['centred']['top10']:.1f}% "
               f"(uncentred {h['raw']['top10']:.1f}%)")
    if "latency" in report:
        lat = report["latency"]
        typer.echo(f"query latency ({lat['queries']} queries, k={lat['k']}): {lat['single_ms']} ms one at a time "
                   f"(search alone {lat['search_only_ms']} ms), {lat['batch64_ms']} ms each in batches of 64")


def _numbers(text: str, kind: type) -> list:
    try:
        return [kind(x) for x in text.split(",") if x.strip()]
    except ValueError:
        _fail(f"{text!r} is not a comma-separated list of numbers")
        return []


@index_app.command("knn")
def knn(
    run_dir: Path = typer.Argument(..., help="A trained model: run folder or model directory."),
    train: list[Path] = typer.Option(..., "--train", help="Labelled posts for the datastore: its training posts, "
                                     "or others it was not trained on (repeat the flag for several files)."),
    to: Path = typer.Option(..., "--to", help="Where the copy with kNN tagging goes (a new directory)."),
    dev: Optional[Path] = typer.Option(None, "--dev", help="Dev posts: tune k / temperature / weight on them."),
    fmt: Optional[str] = typer.Option(None, "--format", help="Input format (default: auto-detect)."),
    captions: Optional[Path] = typer.Option(None, "--captions", help="Caption file (train and dev images)."),
    knowledge: Optional[list[Path]] = typer.Option(None, "--knowledge", help="Knowledge file of the --train posts "
                                                   "(repeatable: read as one table)."),
    dev_knowledge: Optional[Path] = typer.Option(None, "--dev-knowledge", help="Knowledge file of the dev posts."),
    k: str = typer.Option("8", "--k", help="Neighbours (comma list to sweep on --dev)."),
    temperature: str = typer.Option("0.1", "--temperature", help="Softmax temperature on cosine (comma list)."),
    weight: str = typer.Option("0.3", "--weight", help="Share of the kNN distribution (comma list; 0 = off)."),
    folds: int = typer.Option(2, "--folds", help="Also score each of N interleaved parts of dev with the setting "
                              "tuned on the others (an honest estimate; 0 = off)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Add kNN tagging to a trained model: its word states over the training posts -> gold tags."""
    from tqdm import tqdm

    from mner.data.loading import load_posts
    from mner.retrieval.index import check_bank_source
    from mner.retrieval.knn_sweep import make_knn_model

    try:
        train_posts = []
        for path in train:
            check_bank_source(path)
            train_posts += load_posts(path, fmt, visual_text={"caption": captions, "knowledge": knowledge or None})
        dev_posts = load_posts(dev, fmt, visual_text={"caption": captions, "knowledge": dev_knowledge}) if dev else None
        with tqdm(total=len(train_posts), desc="datastore", unit="post", disable=as_json) as bar:
            result = make_knn_model(run_dir, train_posts, to, dev_posts, _numbers(k, int), _numbers(temperature, float),
                                    _numbers(weight, float), log=lambda m: None if as_json else typer.echo(m),
                                    progress=bar.update, folds=folds)
    except (FileNotFoundError, ValueError) as err:
        _fail(str(err))
    s = result["settings"]
    if as_json:
        typer.echo(json.dumps({"k": s.k, "temperature": s.temperature, "weight": s.weight, "sweep": result["sweep"],
                               "held_out": result["held_out"]}))
        return
    for row in result["sweep"]:
        typer.echo(f"k {row['k']:>3}  T {row['temperature']:<5}  weight {row['weight']:<4}  dev F1 {row['f1']:.2f}")
    held = result["held_out"]
    if held:
        typer.echo(f"held out ({held['folds']} folds, each scored with the setting tuned on the others): "
                   f"kNN F1 {held['knn_f1']:.2f} against the tagger's {held['tagger_f1']:.2f} ({held['gain']:+.2f})")
    typer.echo(f"kNN tagging (k {s.k}, temperature {s.temperature}, weight {s.weight}) -> {to}")
