"""`mner bench`: the peer, mner text-only and mner multimodal on the same data, encoder and epochs,
plus int8 and ONNX exports of mner's text model; writes OUTPUT_DIR/bench.{md,json,png}.

  quick  a tiny random BERT in a temporary directory and generated posts: every step in
         seconds, for CI. Higher learning rates than full mode (a random 2-layer encoder
         learns nothing at 5e-5 in three epochs); its numbers mean nothing.
  full   `encoder` (default the offline minilm-l6), the data of the text and multimodal
         configs (or --data-train / --data-dev), `epochs` for everyone, no early stopping.

Where the CPU has native bf16, each trained mner system is also measured under bf16
autocast (`mner-text-bf16`, `mner-mm-bf16`: the same saved model, `mner.precision`).

OUTPUT_DIR/ peer/ (the peer's HF model dir), mner-text/ and mner-mm/ (run folders),
mner-text-int8/ and mner-text-onnx/ (exports), bench.json, bench.md, bench.png.
Each system is loaded back from its directory for scoring and timing, so what is
measured is what a user loads.
"""

from __future__ import annotations

import gc
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from mner.bench.flops import EncoderShape, bound_posts_per_second, mean_post_flops, mner_rows
from mner.bench.hardware import machine_description, measure_ceilings
from mner.bench.report import BF16_NOTE, FLOPS_NOTE, FP32_NOTE, MEMORY_NOTE, SYSTEM_KEYS, render_markdown
from mner.bench.speed import PeakRss, measure_speed, size_mb, time_split
from mner.data.post import Post
from mner.second_segment import segment_fields

MARKER = ".mner-bench"  # OUTPUT_DIR was written by mner bench: its system folders may be replaced
TRAINED_DIRS = ("peer", "mner-text", "mner-mm")
SYSTEM_DIRS = (*TRAINED_DIRS, "mner-text-int8", "mner-text-onnx", "mner-text-onnx-int8")
# settings that must match for --remeasure to reuse an earlier run's trained systems
REUSE_KEYS = ("mode", "encoder", "epochs", "train_posts", "dev_posts", "text_config", "mm_config", "peer_lr",
              "text_run")


@dataclass
class BenchOptions:
    quick: bool = False
    output_dir: Path | None = None  # default runs/bench-quick or runs/bench
    encoder: str = "minilm-l6"
    epochs: int | None = None  # default 3 (quick) / 5 (full)
    data_train: Path | None = None
    data_dev: Path | None = None
    text_config: Path | None = Path("configs/twitter2017/text_minilm.yaml")
    mm_config: Path | None = Path("configs/twitter2017/context_knowledge_minilm.yaml")
    threads: int | None = None
    b1_posts: int | None = None  # default 8 / 200
    repeats: int | None = None  # default 1 / 3
    matmul_n: int | None = None  # default 256 / 1024
    exports: tuple[str, ...] = ("int8", "onnx", "onnx-int8")
    command: str = "mner bench"
    bf16: bool = True  # also time the trained mner systems under bf16 autocast (native bf16 CPUs only)
    # measure again the systems an earlier run of the same settings trained (their training
    # figures are kept from its bench.json); exports are made afresh
    remeasure: bool = False
    rounds: int | None = None  # posts/s timed in turns: rounds (default 2 quick / 9 full)
    # a run mner already trained (e.g. a distilled student) measured as mner-text instead of
    # training one: its training figures are read from the run's summary.json
    text_run: Path | None = None

    def resolved(self) -> "BenchOptions":
        q = self.quick
        return BenchOptions(
            q, Path(self.output_dir or ("runs/bench-quick" if q else "runs/bench")), self.encoder,
            self.epochs or (3 if q else 5), self.data_train, self.data_dev, self.text_config, self.mm_config,
            self.threads, self.b1_posts or (8 if q else 200), self.repeats or (1 if q else 3),
            self.matmul_n or (256 if q else 1024), tuple(self.exports),
            "mner bench --quick" if q and self.command == "mner bench" else self.command, self.bf16, self.remeasure,
            self.rounds or (2 if q else 9), self.text_run)


@dataclass
class Prepared:
    """Everything the systems share: data, labels, configs, the encoder path."""

    encoder_path: str
    train: list[Post]
    dev: list[Post]
    text_cfg: dict[str, Any]
    mm_cfg: dict[str, Any] | None
    mm_train: list[Post]
    mm_dev: list[Post]
    labels: list[str]
    peer_lr: float
    max_length: int
    cleanup: list[Path] = field(default_factory=list)


def _labels(posts: list[Post]) -> list[str]:
    from mner.data.tags import bio_labels, entity_types

    return bio_labels(sorted(entity_types([t for p in posts for t in (p.tags or [])])))


def _prepare_quick(opts: BenchOptions, out: Path) -> Prepared:
    from mner.bench.quick import generate_posts, write_tiny_encoder
    from mner.config import load_config

    workdir = Path(tempfile.mkdtemp(prefix="mner-bench-"))
    tiny = write_tiny_encoder(workdir / "tiny-bert")
    train, dev = generate_posts(48, seed=1, prefix="t"), generate_posts(24, seed=2, prefix="d")
    common = [f"model.encoder.model={tiny}", f"train.epochs={opts.epochs}", "train.patience=0",
              "train.all_o_patience=1000", "train.lr.encoder=3e-3", "train.lr.head=3e-2",
              "model.encoder.max_length=128"]
    if opts.threads:
        common.append(f"train.threads={opts.threads}")
    text_cfg = load_config(None, [*common, f"output_dir={out / 'mner-text'}"])
    mm_cfg = load_config(None, [*common, f"output_dir={out / 'mner-mm'}", "model.second_segment=caption",
                                "model.encoder.second_max_length=32"])
    return Prepared(str(tiny), train, dev, text_cfg, mm_cfg, train, dev, _labels(train + dev), 3e-3, 128, [workdir])


def _prepare_full(opts: BenchOptions, out: Path) -> Prepared:
    from mner.config import load_config
    from mner.presets import resolve_model_name
    from mner.training.run import load_split

    overrides = [f"model.encoder.model={opts.encoder}", f"train.epochs={opts.epochs}", "train.patience=0"]
    for split, path in (("train", opts.data_train), ("dev", opts.data_dev)):
        if path:
            overrides.append(f"data.{split}={path}")
    if opts.threads:
        overrides.append(f"train.threads={opts.threads}")

    def config(path: Path, name: str) -> dict[str, Any]:
        if not Path(path).exists():
            raise FileNotFoundError(f"{path} not found: run from the repository root or pass --text-config/--mm-config")
        return load_config(path, [*overrides, f"output_dir={out / name}"])

    def splits(cfg: dict[str, Any]) -> tuple[list[Post], list[Post]]:
        train = load_split(cfg["data"], "train")
        if cfg["data"].get("max_train_posts"):
            train = train[: int(cfg["data"]["max_train_posts"])]
        return train, load_split(cfg["data"], "dev")

    if opts.text_config is None:
        raise ValueError("full mode needs a text config (--text-config)")
    text_cfg = config(opts.text_config, "mner-text")
    train, dev = splits(text_cfg)
    mm_cfg = config(opts.mm_config, "mner-mm") if opts.mm_config else None
    mm_train, mm_dev = splits(mm_cfg) if mm_cfg else ([], [])
    max_length = int(text_cfg["model"]["encoder"].get("max_length", 256))
    return Prepared(resolve_model_name(opts.encoder), train, dev, text_cfg, mm_cfg, mm_train, mm_dev,
                    _labels(train + dev), 5e-5, max_length)


def _prepare_output(out: Path, keep: tuple[str, ...] = ()) -> None:
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise FileExistsError(f"{out} exists and was not written by mner bench; choose another --output-dir")
    for name in SYSTEM_DIRS:
        if name not in keep:
            shutil.rmtree(out / name, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("written by mner bench; its system folders are replaced on every run\n", encoding="utf-8")


def _describe(cfg: dict[str, Any]) -> str:
    model = cfg["model"]
    parts = [str(model["encoder"].get("model")).rsplit("/", 1)[-1]]
    if model.get("word_shape_dim"):
        parts.append("word shape")
    if model.get("second_segment"):
        parts.append(f"{' + '.join(segment_fields(model['second_segment']))} as 2nd segment")
    if model.get("visual"):
        parts.append(f"{model['visual']['name']} + {(model.get('fusion') or {}).get('name', 'fusion')}")
    parts.append(model["head"]["name"].split(".")[1].upper())
    if (cfg.get("distill") or {}).get("teacher"):  # --text-config may name a student: say whose
        from mner.distill.prepare import teacher_list

        parts.append(f"distilled from {' + '.join(Path(t).name for t in teacher_list(cfg['distill']['teacher']))}")
    return "mner: " + " + ".join(parts)


@dataclass
class Contender:
    """One system to measure: how to load it from disk, score it, and count its FLOPs."""

    name: str
    kind: str  # peer | mner | int8 | onnx | bf16
    description: str
    path: Path
    posts: list[Post]
    load: Callable[[], Any]
    source: str | None = None
    train_seconds: float | None = None
    train_peak_mb: float | None = None
    export_seconds: float | None = None


def _precision(loaded: Any) -> str:
    return getattr(loaded, "precision", "fp32")  # a Tagger's; ONNX taggers are fp32


def _predictor(kind: str, loaded: Any) -> Callable[[list[Post], int], Any]:
    if kind == "peer":
        return loaded.predict
    from mner.evaluation import predict_tags

    return lambda posts, batch_size: predict_tags(loaded.model, posts, batch_size, _precision(loaded))


def _f1(kind: str, loaded: Any, posts: list[Post]) -> float:
    if kind == "peer":
        return loaded.f1(posts)
    from mner.evaluation import evaluate

    return float(evaluate(loaded.model, posts, precision=_precision(loaded))["f1"])


F1_BATCH_SIZES = (1, 16, 64, 128)
ROUNDED_KINDS = ("int8", "onnx-int8", "bf16")


def _f1_by_batch(kind: str, loaded: Any, posts: list[Post]) -> dict[str, float] | None:
    """Dev F1 at several batch sizes, for systems that round their activations.

    Why: onnxruntime's dynamic int8 quantizes each MatMul input with one scale per call,
    so which posts share a batch moves a post's rounding, and F1 with it (by a few tenths
    on Twitter-2017 dev); per-token scales (mner's torch int8) do not depend on the batch.
    One batch size is one draw; the mean over these is the steadier F1 cost.
    """
    if kind not in ROUNDED_KINDS:
        return None
    from mner.evaluation import evaluate

    return {str(b): round(float(evaluate(loaded.model, posts, batch_size=b, precision=_precision(loaded))["f1"]), 4)
            for b in F1_BATCH_SIZES}


def _padding(kind: str, loaded: Any, posts: list[Post], batch_size: int = 64) -> float:
    """Share of the encoder's subword slots that are padding in the system's own batch-64 batches
    (FLOPs per post count real subwords only; padding is work on top of them)."""
    if kind == "peer":
        masks = (loaded.encode([posts[i].tokens for i in chosen], padding=True)["attention_mask"]
                 for chosen in loaded.batches(posts, batch_size))
    else:
        from mner.evaluation import inference_order

        masks = (loaded.model.batch([posts[i] for i in chosen], with_labels=False).features["attention_mask"]
                 for chosen in inference_order(loaded.model, posts, batch_size))
    real = slots = 0
    for mask in masks:  # (b, s) 1 on real subwords
        real, slots = real + int(mask.sum()), slots + mask.numel()
    return 1.0 - real / max(1, slots)


def _flops(kind: str, loaded: Any, posts: list[Post]) -> tuple[Any, float]:
    """(FlopCount per post, mean subwords per post) for the loaded system on `posts`."""
    posts = [p for p in posts if p.tokens]
    if kind == "peer":
        shape = EncoderShape.from_config(loaded.model.config)
        rows = [[len(ids)] for ids in loaded.encode([p.tokens for p in posts])["input_ids"]]
        head_in, labels = shape.hidden, len(loaded.labels)
    else:
        model = loaded.model
        config = model.encoder_config if kind.startswith("onnx") else model.text_encoder.backbone.config
        shape = EncoderShape.from_config(config)
        rows = mner_rows(model.text_encoder.featurizer, posts, model.second_segment)
        head_in, labels = model.head.proj.in_features, len(model.labels)
    count = mean_post_flops(shape, rows, [len(p.tokens) for p in posts], head_in, labels)
    return count, sum(map(sum, rows)) / max(1, len(rows))


def _measure(c: Contender, ceilings: dict[str, Any], opts: BenchOptions) -> dict[str, Any]:
    holder: dict[str, Any] = {}

    def load() -> Callable[[list[Post], int], Any]:
        holder["loaded"] = c.load()
        return _predictor(c.kind, holder["loaded"])

    speed = measure_speed(load, c.posts, opts.b1_posts or 8, 64, opts.repeats or 1)
    loaded = holder.pop("loaded")
    f1 = _f1(c.kind, loaded, c.posts)
    f1_by_batch = _f1_by_batch(c.kind, loaded, c.posts)
    padding = _padding(c.kind, loaded, c.posts)
    count, subwords = _flops(c.kind, loaded, c.posts)
    split = None if c.kind == "peer" else time_split(loaded.model, c.posts, precision=_precision(loaded))
    # int8 rows: Linear FLOPs at the int8 rate (measured with mner's Int8Linear; onnxruntime's
    # integer kernels are of the same class)
    int8_rate = ceilings["int8_gops"] * 1e9 if c.kind in ("int8", "onnx-int8") else None
    matmul_rate = ceilings["bf16_gflops" if c.kind == "bf16" else "fp32_gflops"] * 1e9
    bound = bound_posts_per_second(count, matmul_rate, int8_rate)
    del loaded
    gc.collect()
    row = {
        "name": c.name, "kind": c.kind, "description": c.description, "path": str(c.path), "source": c.source,
        "f1": round(f1, 4), "train_seconds": c.train_seconds, "train_peak_mb": c.train_peak_mb,
        "export_seconds": c.export_seconds, **speed.to_dict(), "size_mb": round(size_mb(c.path), 3),
        "flops_per_post": count.total,
        "flops_split": {"linear": count.linear, "attention": count.attention, "head": count.head},
        "subwords_per_post": round(subwords, 2), "bound_posts_per_s": bound, "bound_ms_b1": 1000.0 / bound,
        "achieved_gflops": count.total * speed.posts_per_s_b64 / 1e9,
        "fraction_of_bound": speed.posts_per_s_b64 / bound, "time_split": split, "vs_peer": None, "vs_source": None,
        "f1_by_batch": f1_by_batch, "padding_b64": round(padding, 4), "posts_per_s_b64_alone": None,
    }
    assert set(row) == set(SYSTEM_KEYS), set(row) ^ set(SYSTEM_KEYS)
    return row


def _retime_in_turns(rows: list[dict[str, Any]], contenders: list[Contender], opts: BenchOptions,
                     log: Callable[[str], None]) -> None:
    """Replace each row's batch-64 posts/s by one timed with every system loaded, in turns
    (`interleaved_throughput`), so that the ratios compare the same minutes of the machine."""
    from mner.bench.speed import interleaved_throughput

    measured = {r["name"] for r in rows}
    chosen = [c for c in contenders if c.name in measured]
    if len(chosen) < 2:
        return
    log(f"timing {len(chosen)} systems in turns ({opts.rounds or 1} rounds)")
    systems = {c.name: (_predictor(c.kind, c.load()), c.posts) for c in chosen}
    rates = interleaved_throughput(systems, 64, opts.rounds or 1)
    for row in rows:
        rate = rates[row["name"]]
        row["posts_per_s_b64_alone"] = row["posts_per_s_b64"]
        row["posts_per_s_b64"] = rate
        row["achieved_gflops"] = row["flops_per_post"] * rate / 1e9
        row["fraction_of_bound"] = rate / row["bound_posts_per_s"]
    del systems
    gc.collect()


def _div(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def add_ratios(rows: list[dict[str, Any]]) -> None:
    """vs_peer (every non-peer row) and vs_source (exports against their fp32 model)."""
    by_name = {r["name"]: r for r in rows}
    peer = next((r for r in rows if r["kind"] == "peer"), None)
    for r in rows:
        if peer is not None and r is not peer:
            train = r["train_seconds"]
            r["vs_peer"] = {
                "f1_delta": r["f1"] - peer["f1"], "f1_ratio": _div(r["f1"], peer["f1"]),
                "train_time_ratio": _div(train, peer["train_seconds"]),
                "speed_ratio": _div(r["posts_per_s_b64"], peer["posts_per_s_b64"]),
                "p50_ratio": _div(r["p50_ms_b1"], peer["p50_ms_b1"]), "size_ratio": _div(r["size_mb"], peer["size_mb"]),
                "peak_delta_ratio": _div(r["peak_delta_mb"], peer["peak_delta_mb"]),
            }
        source = by_name.get(r["source"] or "")
        if source is not None:
            by_batch = r.get("f1_by_batch")
            r["vs_source"] = {
                "f1_cost": r["f1"] - source["f1"],
                "f1_cost_mean": (sum(by_batch.values()) / len(by_batch) - source["f1"]) if by_batch else None,
                "speedup": _div(r["posts_per_s_b64"], source["posts_per_s_b64"]),
                "p50_ratio": _div(r["p50_ms_b1"], source["p50_ms_b1"]),
                "size_ratio": _div(r["size_mb"], source["size_mb"]),
            }


def _train_mner(cfg: dict[str, Any], train: list[Post], dev: list[Post],
                log: Callable[[str], None]) -> tuple[dict[str, Any], float]:
    from mner.training.run import train_run

    with PeakRss() as memory:
        summary = train_run(cfg, train_posts=train, dev_posts=dev, progress_bar=False, log=log)
    return summary, memory.peak_mb


def _check_text_run(run: Path) -> tuple[Path, Path]:
    """(summary.json, config.yaml) of a finished run, checked before anything is trained."""
    summary_path, config_path = run / "summary.json", run / "config.yaml"
    for needed in (summary_path, config_path, run / "best"):
        if not needed.exists():
            raise FileNotFoundError(f"--text-run: {needed} not found (a finished `mner train` run folder is needed)")
    return summary_path, config_path


def _adopt_text_run(run: Path, out: Path, dev: list[Post], log: Callable[[str], None]) -> Contender:
    """An already trained run as the mner-text system: copied into OUTPUT_DIR/mner-text (its
    resumable checkpoint left behind) so the exports and --remeasure find it where they look."""
    from mner.config import load_config
    from mner.predict import Tagger

    summary_path, config_path = _check_text_run(run)
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    target = out / "mner-text"
    shutil.copytree(run, target, ignore=shutil.ignore_patterns("checkpoint", "*.lock"))
    log(f"mner-text: the trained run {run} ({summary.get('train_seconds')} s of training there), not trained here")
    best = target / "best"
    return Contender("mner-text", "mner", _describe(load_config(config_path)), best, dev,
                     lambda: Tagger.load(best), train_seconds=summary.get("train_seconds"))


def _train_systems(opts: BenchOptions, prep: Prepared, out: Path, log: Callable[[str], None]) -> list[Contender]:
    from mner.bench.peer import PeerTagger, train_peer
    from mner.predict import Tagger

    log(f"peer: fine-tuning {prep.encoder_path} for {opts.epochs} epochs on {len(prep.train)} posts")
    with PeakRss() as memory:
        peer = train_peer(prep.encoder_path, prep.labels, prep.train, prep.dev, opts.epochs, lr=prep.peer_lr,
                          max_length=prep.max_length, log=log)
    peer.tagger.save(out / "peer")
    peer_seconds = round(peer.train_seconds, 2)
    del peer  # measured later from its saved directory, like every system
    contenders = [Contender("peer", "peer", "plain HF AutoModelForTokenClassification fine-tune", out / "peer",
                            prep.dev, lambda: PeerTagger.load(out / "peer", prep.max_length),
                            train_seconds=peer_seconds, train_peak_mb=round(memory.peak_mb, 1))]
    systems = [] if opts.text_run else [("mner-text", prep.text_cfg, prep.train, prep.dev)]
    if opts.text_run:
        contenders.append(_adopt_text_run(Path(opts.text_run), out, prep.dev, log))
    if prep.mm_cfg is not None:
        systems.append(("mner-mm", prep.mm_cfg, prep.mm_train, prep.mm_dev))
    for name, cfg, train, dev in systems:
        log(f"{name}: training ({_describe(cfg)})")
        summary, peak = _train_mner(cfg, train, dev, log)
        best = out / name / "best"
        contenders.append(Contender(name, "mner", _describe(cfg), best, dev, lambda best=best: Tagger.load(best),
                                    train_seconds=summary["train_seconds"], train_peak_mb=round(peak, 1)))
    gc.collect()
    return contenders


def _bf16_systems(opts: BenchOptions, trained: list[Contender], skipped: list[dict[str, str]]) -> list[Contender]:
    """Each trained mner system again under bf16 autocast, where the CPU computes bf16 natively."""
    from mner.precision import native_bf16
    from mner.predict import Tagger

    mner = [c for c in trained if c.kind == "mner"]
    if not opts.bf16:
        return []
    if not native_bf16():
        skipped += [{"name": f"{c.name}-bf16", "reason": "this CPU has no native bf16 (AVX512-BF16 / AMX): torch "
                     "would emulate it, slower than fp32"} for c in mner]
        return []
    return [Contender(f"{c.name}-bf16", "bf16", f"{c.name} under bf16 autocast (same saved model)", c.path, c.posts,
                      lambda path=c.path: Tagger.load(path, precision="bf16"), source=c.name) for c in mner]


def _export_systems(opts: BenchOptions, prep: Prepared, out: Path, skipped: list[dict[str, str]],
                    log: Callable[[str], None]) -> list[Contender]:
    import importlib.util

    from mner.export import export_model, load_tagger

    contenders = []
    for target in opts.exports:
        name = f"mner-text-{target}"
        if target.startswith("onnx") and not all(importlib.util.find_spec(m) for m in ("onnx", "onnxruntime")):
            skipped.append({"name": name, "reason": "onnx / onnxruntime not installed (pip install mner[bench])"})
            continue
        log(f"{name}: exporting mner-text")
        started = time.perf_counter()
        try:
            path = export_model(out / "mner-text", target, out / name)
        except Exception as err:  # noqa: BLE001 - a failed export must not lose the trained systems' figures
            skipped.append({"name": name, "reason": f"export failed: {type(err).__name__}: {err}"})
            continue
        description = {"int8": "mner-text, dynamic int8 Linear layers, per-token activations (torch)",
                       "onnx": "mner-text, fp32 ONNX encoder (onnxruntime)",
                       "onnx-int8": "mner-text, ONNX encoder, attention fused, onnxruntime's dynamic int8"}[target]
        contenders.append(Contender(name, target, description, path, prep.dev,
                                    lambda path=path: load_tagger(path, threads=opts.threads), source="mner-text",
                                    export_seconds=round(time.perf_counter() - started, 2)))
    return contenders


def _reused_systems(opts: BenchOptions, prep: Prepared, out: Path, log: Callable[[str], None]) -> list[Contender]:
    """The peer and mner systems an earlier `mner bench` with the same settings trained in `out`."""
    from mner.bench.peer import PeerTagger
    from mner.predict import Tagger

    previous_path = out / "bench.json"
    if not previous_path.exists():
        raise FileNotFoundError(f"--remeasure: {previous_path} not found (run mner bench without it first)")
    previous = json.loads(previous_path.read_text(encoding="utf-8"))
    now = _settings(opts, prep)
    differ = [k for k in REUSE_KEYS if previous["settings"].get(k, previous.get(k)) != now.get(k)]
    if differ:
        raise ValueError(f"--remeasure: {previous_path} was made with other settings ({', '.join(differ)}); "
                         "run mner bench without --remeasure")
    contenders = []
    for row in previous["systems"]:
        if row["kind"] not in ("peer", "mner"):
            continue
        path = Path(row["path"])
        if not path.exists():
            raise FileNotFoundError(f"--remeasure: {path} ({row['name']}) is gone; run mner bench without it")
        posts = prep.mm_dev if row["name"] == "mner-mm" else prep.dev
        load = (lambda: PeerTagger.load(out / "peer", prep.max_length)) if row["kind"] == "peer" \
            else (lambda path=path: Tagger.load(path))
        contenders.append(Contender(row["name"], row["kind"], row["description"], path, posts, load,
                                    train_seconds=row["train_seconds"], train_peak_mb=row["train_peak_mb"]))
        log(f"{row['name']}: reusing the system trained on {previous['created']} ({row['train_seconds']} s)")
    return contenders


def _settings(opts: BenchOptions, prep: Prepared) -> dict[str, Any]:
    return {"mode": "quick" if opts.quick else "full",
            "encoder": "tiny random BERT (quick)" if opts.quick else opts.encoder,
            "encoder_path": prep.encoder_path, "epochs": opts.epochs,
            "threads": torch.get_num_threads(), "train_posts": len(prep.train),
            "dev_posts": len(prep.dev), "batch_size": 64, "b1_posts": opts.b1_posts,
            "repeats": opts.repeats, "rounds": opts.rounds, "peer_lr": prep.peer_lr,
            "text_config": None if opts.quick else str(opts.text_config),
            "mm_config": None if opts.quick or not opts.mm_config else str(opts.mm_config),
            "text_run": str(opts.text_run) if opts.text_run else None,
            "command": opts.command}


def run_bench(options: BenchOptions, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the benchmark; write bench.json, bench.md and bench.png into the output directory."""
    from mner.bench.plot import plot_f1_vs_speed
    from mner.checkpoint import atomic_write_text

    opts = options.resolved()
    out = Path(opts.output_dir)  # type: ignore[arg-type]
    previous_threads = torch.get_num_threads()
    prep: Prepared | None = None
    try:
        if opts.threads:
            torch.set_num_threads(opts.threads)
        machine = machine_description()  # before our own work raises the load average
        # data and configs first: a typo in a path must not cost the previous run's folders
        prep = _prepare_quick(opts, out) if opts.quick else _prepare_full(opts, out)
        if opts.text_run:
            _check_text_run(Path(opts.text_run))
        _prepare_output(out, keep=TRAINED_DIRS if opts.remeasure else ())
        log(f"measuring the matmul ceiling ({opts.matmul_n}x{opts.matmul_n}, {torch.get_num_threads()} threads)")
        ceilings = measure_ceilings(opts.matmul_n or 1024, 10 if not opts.quick else 3)
        skipped: list[dict[str, str]] = []
        if prep.mm_cfg is None:
            skipped.append({"name": "mner-mm", "reason": "no multimodal config given (--mm-config)"})
        contenders = _reused_systems(opts, prep, out, log) if opts.remeasure else _train_systems(opts, prep, out, log)
        contenders += _bf16_systems(opts, contenders, skipped)
        contenders += _export_systems(opts, prep, out, skipped, log)
        rows = []
        for contender in contenders:
            log(f"{contender.name}: scoring and timing")
            try:
                rows.append(_measure(contender, ceilings, opts))
            except Exception as err:  # noqa: BLE001 - report what could not be measured, keep the rest
                if contender.kind in ("peer", "mner"):  # the trained systems are the point: stop loudly
                    raise
                skipped.append({"name": contender.name, "reason": f"{type(err).__name__}: {err}"})
        _retime_in_turns(rows, contenders, opts, log)
        add_ratios(rows)
        result = {
            "mode": "quick" if opts.quick else "full",
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": machine,
            "ceilings": ceilings,
            "settings": {**_settings(opts, prep), **({"remeasured": True} if opts.remeasure else {})},
            "systems": rows,
            "skipped": skipped,
            "notes": {"fp32": FP32_NOTE, "bf16": BF16_NOTE, "flops": FLOPS_NOTE, "memory": MEMORY_NOTE},
        }
        atomic_write_text(out / "bench.json", json.dumps(result, indent=2))
        atomic_write_text(out / "bench.md", render_markdown(result))
        if not plot_f1_vs_speed(rows, out / "bench.png", f"mner bench ({result['mode']})"):
            log("matplotlib is not installed: no bench.png (pip install mner[bench])")
        log(f"wrote {out / 'bench.md'}, bench.json" + (", bench.png" if (out / "bench.png").exists() else ""))
        return result
    finally:
        torch.set_num_threads(previous_threads)
        for path in prep.cleanup if prep else []:
            shutil.rmtree(path, ignore_errors=True)
