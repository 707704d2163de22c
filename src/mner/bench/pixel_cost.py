"""`mner bench-pixels`: what the pixel path costs per image on this machine.

Runs mner's own `PixelEncoder` (the code a training run uses: `load_image`, the model's
image processor, the frozen backbone, the `FeatureCache`) over a folder of images and
splits one image's cost into:
  decode      read + decode + EXIF + RGB (`mner.data.images.load_image`)
  preprocess  the model's own processor (resize, crop, normalise) -> pixel tensor
  backbone    the vision model's forward, batch 1 and batch `batch_size` (per image)
  cold        featurize() with an empty cache: all of the above + hashing + cache write
  warm        featurize() again: content hash (memoised per path/size/mtime) + cache read
Cold is what the first epoch pays per image, warm what every later epoch (and every
repeated image) pays, so a training run costs about cold + (epochs - 1) x warm per image.

Models: `--model` takes any Hugging Face vision model (hub id or local directory). Where
no hub is reachable, `--arch` builds a published architecture with random weights
(speed does not depend on the weights): the sizes of ViT-S/16, ResNet-50 and CLIP
ViT-B/32's vision tower, each with its family's processor settings.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif")


def _vit_s16() -> tuple[Any, Any]:
    from transformers import ViTConfig, ViTImageProcessor, ViTModel

    config = ViTConfig(hidden_size=384, num_hidden_layers=12, num_attention_heads=6, intermediate_size=1536,
                       image_size=224, patch_size=16)
    return ViTModel(config, add_pooling_layer=False), ViTImageProcessor(size={"height": 224, "width": 224})


def _resnet50() -> tuple[Any, Any]:
    from transformers import ConvNextImageProcessor, ResNetConfig, ResNetModel

    config = ResNetConfig(embedding_size=64, hidden_sizes=[256, 512, 1024, 2048], depths=[3, 4, 6, 3],
                          layer_type="bottleneck")
    return ResNetModel(config), ConvNextImageProcessor(size={"shortest_edge": 224}, crop_pct=0.875)


def _clip_b32() -> tuple[Any, Any]:
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel

    config = CLIPVisionConfig(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
                              image_size=224, patch_size=32)
    return CLIPVisionModel(config), CLIPImageProcessor(size={"shortest_edge": 224},
                                                       crop_size={"height": 224, "width": 224})


# name -> (builder, what it stands for)
ARCHITECTURES: dict[str, tuple[Callable[[], tuple[Any, Any]], str]] = {
    "vit-s16": (_vit_s16, "ViT-S/16 (22M params, DeiT-S / DINO ViT-S size), 224 px"),
    "resnet-50": (_resnet50, "ResNet-50 (24M params; the field's classic visual encoder family), 224 px"),
    "clip-b32": (_clip_b32, "CLIP ViT-B/32 vision tower (88M params), 224 px"),
}


def write_architecture(name: str, directory: Path, seed: int = 0) -> Path:
    """A random-weight model of a named architecture saved like a hub checkpoint (weights + processor)."""
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; choose from {', '.join(ARCHITECTURES)}")
    torch.manual_seed(seed)
    model, processor = ARCHITECTURES[name][0]()
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory


def image_files(folder: Path, limit: int | None = None) -> list[Path]:
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such image folder")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise ValueError(f"{folder}: no image files ({', '.join(IMAGE_SUFFIXES)})")
    return files[:limit] if limit else files


@dataclass
class PixelCost:
    model: str
    description: str
    parameters: int
    tokens: str
    images: int
    bad_images: int
    batch_size: int
    threads: int
    ms_per_image: dict[str, float]  # decode, preprocess, backbone_b1, backbone_batch, cold, warm
    cache_hits_per_warm_pass: float  # images the warm passes read from the feature cache, per pass

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _per_image_ms(seconds: float, n: int) -> float:
    return 1000.0 * seconds / max(1, n)


def _timed(run: Callable[[], Any]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def measure_pixel_cost(folder: Path, model: str | None = None, arch: str | None = "vit-s16", tokens: str = "pooled",
                       batch_size: int = 16, limit: int | None = None,
                       log: Callable[[str], None] = lambda _: None) -> PixelCost:
    """Time mner's pixel path on the images of `folder` (see the module docstring)."""
    from mner.data.errors import ImageError
    from mner.data.images import load_image
    from mner.data.post import Post
    from mner.modules.visual.backbone import backbone_tokens
    from mner.modules.visual.pixels import PixelEncoder

    files = image_files(Path(folder), limit)
    workdir = Path(tempfile.mkdtemp(prefix="mner-pixels-"))
    try:
        if model is None:
            if arch is None:
                raise ValueError("give a --model (hub id or path) or an --arch")
            log(f"building {arch} with random weights (speed does not depend on the weights)")
            source, description = str(write_architecture(arch, workdir / arch)), ARCHITECTURES[arch][1]
        else:
            source, description = model, model
        encoder = PixelEncoder.from_name(source, tokens=tokens, cache_dir=workdir / "cache",
                                         encode_batch_size=batch_size, max_images=1)
        encoder.eval()
        images, bad = [], 0
        started = time.perf_counter()
        for path in files:
            try:
                images.append(load_image(path, max_pixels=encoder.max_pixels))
            except ImageError as err:  # counted and reported, as training's bad-image policy would
                log(f"skipping {err}")
                bad += 1
        decode = time.perf_counter() - started
        if not images:
            raise ValueError(f"{folder}: none of the {len(files)} images could be decoded")
        n = len(images)
        preprocess = _timed(lambda: [encoder._pixels([im]) for im in images])
        pixels = encoder._pixels(images)  # (n, 3, H, W)
        with torch.inference_mode():
            backbone_tokens(encoder.backbone, pixels[:1], tokens)  # untimed: first-call setup
            b1 = _timed(lambda: [backbone_tokens(encoder.backbone, pixels[i : i + 1], tokens) for i in range(n)])
            batched = _timed(lambda: [backbone_tokens(encoder.backbone, pixels[s : s + batch_size], tokens)
                                      for s in range(0, n, batch_size)])
        # every file goes through featurize, bad ones too: the bad-image policy ("no-image") skips them
        posts = [Post(id=f"p{i}", tokens=["x"], images=[str(p)]) for i, p in enumerate(files)]
        batches = [posts[s : s + batch_size] for s in range(0, len(posts), batch_size)]
        with torch.inference_mode():
            cold = _timed(lambda: [encoder.featurize(b) for b in batches])
            hits_before = encoder.cache.hits if encoder.cache is not None else 0
            warm = statistics.median([_timed(lambda: [encoder.featurize(b) for b in batches]) for _ in range(3)])
            hits = ((encoder.cache.hits if encoder.cache is not None else 0) - hits_before) / 3
        return PixelCost(
            model=source if model else arch or "", description=description,
            parameters=sum(p.numel() for p in encoder.backbone.parameters()), tokens=tokens, images=n,
            bad_images=bad, batch_size=batch_size, threads=torch.get_num_threads(),
            ms_per_image={"decode": _per_image_ms(decode, len(files)), "preprocess": _per_image_ms(preprocess, n),
                          "backbone_b1": _per_image_ms(b1, n), "backbone_batch": _per_image_ms(batched, n),
                          "cold": _per_image_ms(cold, len(files)), "warm": _per_image_ms(warm, len(files))},
            cache_hits_per_warm_pass=hits)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def cost_table(results: list[PixelCost]) -> str:
    lines = ["| model | params | tokens | images | decode ms | preprocess ms | backbone ms b1 | backbone ms/img "
             "batch | first epoch ms/img (cold cache) | later epochs ms/img (warm cache) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        ms = r.ms_per_image
        lines.append(f"| {r.description} | {r.parameters / 1e6:.1f}M | {r.tokens} | {r.images} | {ms['decode']:.1f} | "
                     f"{ms['preprocess']:.1f} | {ms['backbone_b1']:.1f} | {ms['backbone_batch']:.1f} "
                     f"(batch {r.batch_size}) | {ms['cold']:.1f} | {ms['warm']:.2f} |")
    return "\n".join(lines) + "\n"
