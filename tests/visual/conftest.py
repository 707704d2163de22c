"""Fixtures of the visual-module tests: tiny random vision models and generated images, all in tmp dirs."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a mistyped local path must fail at once, not retry the hub
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session", autouse=True)
def _quiet() -> None:
    from mner._quiet import quiet_transformers

    quiet_transformers()


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A full (text + vision) CLIP checkpoint: the encoder must take its vision tower only."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    directory = tmp_path_factory.mktemp("tiny-clip")
    config = CLIPConfig(
        text_config=dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                         vocab_size=64, bos_token_id=0, eos_token_id=1, pad_token_id=1),
        vision_config=dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                           image_size=32, patch_size=16),
        projection_dim=16)
    torch.manual_seed(0)
    CLIPModel(config).save_pretrained(directory)
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def tiny_resnet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A conv backbone: last_hidden_state is a (b, d, h, w) map, pooler_output (b, d, 1, 1)."""
    from transformers import ConvNextImageProcessor, ResNetConfig, ResNetModel

    directory = tmp_path_factory.mktemp("tiny-resnet")
    config = ResNetConfig(embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1], layer_type="basic")
    torch.manual_seed(0)
    ResNetModel(config).save_pretrained(directory)
    ConvNextImageProcessor(size={"shortest_edge": 64}, crop_pct=1.0).save_pretrained(directory)
    return directory


def jpeg_bytes(color: tuple[int, int, int], size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, color)
    image.paste((255 - color[0], 40, 90), (5, 5, size[0] // 2, size[1] // 2))  # some structure
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture
def images(tmp_path: Path) -> Path:
    """red.jpg, green.jpg, blue.jpg; png_named.jpg (RGBA PNG bytes); truncated.jpg (half a JPEG); missing.jpg absent."""
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "red.jpg").write_bytes(jpeg_bytes((220, 20, 20)))
    (folder / "green.jpg").write_bytes(jpeg_bytes((20, 220, 20)))
    (folder / "blue.jpg").write_bytes(jpeg_bytes((20, 20, 220), (30, 50)))
    buffer = io.BytesIO()
    Image.new("RGBA", (20, 10), (0, 0, 255, 0)).save(buffer, "PNG")
    (folder / "png_named.jpg").write_bytes(buffer.getvalue())
    pixels = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=95)
    (folder / "truncated.jpg").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    return folder
