"""Write a DETR-ResNet-50-sized detector with random weights to a folder (no hub access needed), so
`mner data regions --detector FOLDER` can be timed where real weights are unreachable.

    python scripts/random_detr.py /tmp/detr-r50-random
"""

import sys

import torch
from transformers import DetrConfig, DetrForObjectDetection, DetrImageProcessorPil, ResNetConfig


def main(directory: str) -> None:
    torch.manual_seed(0)
    backbone = ResNetConfig(depths=[3, 4, 6, 3], hidden_sizes=[256, 512, 1024, 2048], layer_type="bottleneck",
                            out_features=["stage4"])
    config = DetrConfig(use_timm_backbone=False, use_pretrained_backbone=False, backbone_config=backbone,
                        num_labels=91)  # facebook/detr-resnet-50's shape: 41.5M parameters, 100 queries
    model = DetrForObjectDetection(config)
    model.save_pretrained(directory)
    DetrImageProcessorPil().save_pretrained(directory)  # shortest edge 800, longest 1333, as the hub model
    print(f"{sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters -> {directory}")


if __name__ == "__main__":
    main(sys.argv[1])
