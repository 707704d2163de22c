"""The configs we ship load, name known components, and every grid variant resolves to a sound config."""

from __future__ import annotations

from pathlib import Path

import pytest

from mner.builders import ENCODERS, HEADS
from mner.builders_visual import VISUALS
from mner.config import load_config
from mner.experiments import load_grid
from mner.modules.fusion.registry import FUSIONS
from mner.second_segment import segment_fields

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _check(cfg: dict, where: str) -> None:
    model = cfg["model"]
    assert model["encoder"]["name"] in ENCODERS, where
    assert model["head"]["name"] in HEADS, where
    if model.get("visual"):
        assert model["visual"]["name"] in VISUALS, where
        assert model["fusion"]["name"] in FUSIONS or model["fusion"]["name"] == "fusion.visual_prompt.v1", where
        for field in model["visual"].get("fields", []):
            assert field in cfg["data"]["visual_text"], f"{where}: no data for visual text {field!r}"
    neighbours = model.get("neighbours") or {}
    if neighbours:  # the model makes its second segment from retrieved training posts
        for name in [*str(neighbours.get("key", "text")).split("|"), neighbours.get("append_to")]:
            assert name in (None, "text") or name in cfg["data"]["visual_text"], f"{where}: no data for {name!r}"
    else:
        for field in segment_fields(model.get("second_segment")):
            assert field in cfg["data"]["visual_text"], f"{where}: no data for {field!r}"
    assert cfg["train"]["precision"] in ("fp32", "bf16"), where


@pytest.mark.parametrize("path", sorted(p for p in CONFIGS.glob("*/*.yaml") if p.parent.name != "experiments"),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_config_loads(path):
    _check(load_config(path, []), str(path))


@pytest.mark.parametrize("path", sorted((CONFIGS / "experiments").glob("*.yaml")), ids=lambda p: p.name)
def test_every_grid_variant_resolves(path):
    grid = load_grid(path)
    assert grid["base"].exists() and len(grid["seeds"]) >= 3
    for variant, overrides in grid["variants"].items():
        cfg = load_config(grid["base"], [*grid["overrides"], *(overrides or []), "output_dir=x"])
        _check(cfg, f"{path.name}:{variant}")
