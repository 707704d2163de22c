"""Run configuration: YAML files with defaults, plus `key.sub=value` overrides.

A config is a plain nested dict (JSON-serialisable, saved in every run and
checkpoint). Only builders (`mner.builders`) and the training runner read it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import yaml


class _ConfigLoader(yaml.SafeLoader):
    """SafeLoader that also reads `1e-4` as a number.

    YAML 1.1 only takes exponents with a dot (`1.0e-4`), so a learning rate
    written `1e-4`, in a file or an override, would otherwise be a string.
    """


_ConfigLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$"),
    list("-+0123456789."),
)


def _load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_ConfigLoader)  # noqa: S506 - a SafeLoader subclass

DEFAULTS: dict[str, Any] = {
    "data": {
        "format": None,  # auto-detect
        "train": None,
        "dev": None,
        "images": None,
        "visual_text": {},  # name -> {train: path, dev: path}
        "regions": {},  # {dir: folder of VinVL <image>.npz, top_k: 16}
        "type_map": None,  # None = tags.DEFAULT_TYPE_MAP
        "max_train_posts": None,
    },
    "model": {
        "encoder": {"name": "encoder.hf.v1", "model": "minilm-l6", "pooling": "first", "max_length": 256},
        "word_shape_dim": 16,  # 0 disables the casing features
        "head": {"name": "head.crf.v1"},
        "dropout": 0.1,
        "second_segment": None,  # e.g. "caption": context fusion with that visual text
    },
    "train": {
        "epochs": 10,
        "batch_size": 16,
        "eval_batch_size": 64,
        "lr": {"encoder": 5.0e-5, "head": 1.0e-3, "fusion": 1.0e-3, "visual": 1.0e-3},
        "weight_decay": 0.01,
        "scheduler": {"name": "linear", "warmup": 0.1},
        "grad_clip": 1.0,
        "patience": 3,
        "seed": 42,
        "class_weighting": False,
        "bucket_by_length": True,  # true: by word count; "subwords": by encoder row width (pads ~2%, not ~22%)
        "threads": None,
        "all_o_patience": 3,
        "precision": "fp32",  # bf16 | fp16: autocast for forward + loss (mner.training.mixed_precision); dev in fp32
        # Optional, absent unless set (a default here would change every finished run's digest):
        # device: auto           cpu | cuda | cuda:N; auto (= absent): the GPU when one is visible
        # modality_dropout: 0.3   share of each step's posts trained without visual text / images
        # loss_scale: 1024       fp16's first loss scale (default 65536; dynamic after)
        # cross_view: {weight: 1.0, direction: to_text, field: knowledge}   (mner.training.objectives)
        # init_from: runs/x       start from another mner model's weights (mner.training.init_from)
    },
    # Optional top-level section `distill: {teacher: RUN or [RUN, ...], weight, temperature, unlabelled, cache_dir}`
    # (mner.distill): train this config's model on a teacher's (or several teachers' mean) soft labels.
    "output_dir": "runs/run",
}


def deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and out[key]:
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def apply_override(config: dict[str, Any], assignment: str) -> None:
    """`train.epochs=3` sets config["train"]["epochs"] = 3 (value parsed as YAML)."""
    if "=" not in assignment:
        raise ValueError(f"override {assignment!r} is not of the form key.sub=value")
    key, raw = assignment.split("=", 1)
    parts = key.strip().split(".")
    node = config
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ValueError(f"override {assignment!r}: {part!r} is not a section")
    node[parts[-1]] = _load_yaml(raw) if raw.strip() else None


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> dict[str, Any]:
    config = copy.deepcopy(DEFAULTS)
    if path is not None:
        with open(path, encoding="utf-8") as handle:
            loaded = _load_yaml(handle.read()) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{path}: a config must be a mapping")
        config = deep_merge(config, loaded)
    for assignment in overrides or []:
        apply_override(config, assignment)
    return config


def learning_config(config: dict[str, Any]) -> dict[str, Any]:
    """The config without what does not change what is learned: where the run is written
    (`output_dir`), how many threads it used (`train.threads`) and where frozen features
    are cached (`model.visual.cache_dir`)."""
    relevant = {k: v for k, v in config.items() if k != "output_dir"}
    relevant["train"] = {k: v for k, v in relevant.get("train", {}).items() if k != "threads"}
    visual = (relevant.get("model") or {}).get("visual")
    if isinstance(visual, dict) and "cache_dir" in visual:
        relevant["model"] = {**relevant["model"], "visual": {k: v for k, v in visual.items() if k != "cache_dir"}}
    return relevant


def config_digest(config: dict[str, Any]) -> str:
    """sha256 of `learning_config(config)`: equal digests, same experiment."""
    return hashlib.sha256(json.dumps(learning_config(config), sort_keys=True, default=str).encode("utf-8")).hexdigest()


def config_differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Dotted keys whose values differ between two configs' `learning_config`s."""
    return _differences(learning_config(a), learning_config(b), "")


def _differences(a: dict[str, Any], b: dict[str, Any], prefix: str) -> list[str]:
    out: list[str] = []
    for key in sorted(set(a) | set(b)):
        x, y, name = a.get(key), b.get(key), f"{prefix}{key}"
        if isinstance(x, dict) and isinstance(y, dict):
            out += _differences(x, y, name + ".")
        elif json.dumps(x, sort_keys=True, default=str) != json.dumps(y, sort_keys=True, default=str):
            out.append(name)
    return out
