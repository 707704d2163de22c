"""For `mner data regions` tests: tiny random vision models saved locally (a DETR detector and two
backbones), and a folder of the real tweet images."""

from __future__ import annotations

import shutil
from pathlib import Path

import torch

REAL_IMAGES = Path(__file__).parents[2] / ".." / "shared" / "data" / "images"


def real_images_folder(folder: Path, count: int = 3) -> Path:
    """`folder` holding copies of the first `count` real tweet images (some are PNG bytes under .jpg,
    as in the releases)."""
    folder.mkdir()
    for path in sorted(REAL_IMAGES.glob("*.jpg"))[:count]:
        shutil.copyfile(path, folder / path.name)
    return folder


def save_tiny_detr(directory: Path) -> Path:
    """DETR, d_model 16, 12 queries, labels person / logo / dog."""
    from transformers import DetrConfig, DetrForObjectDetection, DetrImageProcessorPil, ResNetConfig

    torch.manual_seed(0)
    backbone = ResNetConfig(num_channels=3, embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1],
                            out_features=["stage1", "stage2"])
    config = DetrConfig(use_timm_backbone=False, use_pretrained_backbone=False, backbone_config=backbone, d_model=16,
                        encoder_layers=1, decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2,
                        encoder_ffn_dim=16, decoder_ffn_dim=16, num_queries=12, num_labels=3,
                        id2label={0: "person", 1: "logo", 2: "dog"}, label2id={"person": 0, "logo": 1, "dog": 2})
    DetrForObjectDetection(config).save_pretrained(directory)
    DetrImageProcessorPil(size={"shortest_edge": 64, "longest_edge": 96}).save_pretrained(directory)
    return directory


SMALL = dict(num_hidden_layers=1, num_attention_heads=2, intermediate_size=24, image_size=32, patch_size=8)


def save_tiny_vit(directory: Path) -> Path:
    """ViT, hidden 24 (not the detector's 16, so a test can tell whose features a file holds), 32x32 input."""
    from transformers import ViTConfig, ViTImageProcessor, ViTModel

    torch.manual_seed(1)
    ViTModel(ViTConfig(hidden_size=24, **SMALL)).save_pretrained(directory)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(directory)
    return directory


def save_tiny_clip(directory: Path) -> Path:
    """A dual-tower CLIP checkpoint (hidden 20): `--backbone` takes its vision tower only."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    torch.manual_seed(2)
    config = CLIPConfig(text_config=dict(vocab_size=64, hidden_size=20, intermediate_size=20, num_hidden_layers=1,
                                         num_attention_heads=2, max_position_embeddings=16),
                        vision_config=dict(hidden_size=20, **{**SMALL, "intermediate_size": 20}), projection_dim=8)
    CLIPModel(config).save_pretrained(directory)
    size = {"shortest_edge": 32}
    CLIPImageProcessor(size=size, crop_size={"height": 32, "width": 32}).save_pretrained(directory)
    return directory
