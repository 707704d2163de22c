"""Region proposals for any image set: `mner data regions IMAGES_DIR --to DIR`.

Any Hugging Face object detector (DETR, Conditional/Deformable DETR, YOLOS,
RT-DETR, ...) or zero-shot detector (OWL-ViT, OWLv2, Grounding DINO, ...; with
`queries`), by hub name or local path. Per image it writes the npz layout
`mner.data.readers.regions.read_vinvl` reads:

    <DIR>/<image file name>.npz   bounding_boxes (N, 4) xyxy pixels, box_features (N, d), scores (N,),
                                  objects (N,) labels, image_h, image_w, num_boxes, content_sha256

Region features are the detector's own per-box states (DETR-style decoder
query states, OWL's class embeddings), or with `crop_features` (`--features
backbone --backbone NAME|PATH`) any vision backbone's embedding of each box's crop
(`mner.grounding.crop_features`); `model.grounding.feature_dim` is that width
(printed, and recorded in `<DIR>/regions.json`).

Cached by content: each result is first stored as `<DIR>/.by_content/<sha256>.npz`,
so the same picture under two names is detected once and an interrupted run
resumes where it stopped. `regions.json` records the detector, its queries and
`top_k`; a folder made by another detector is refused rather than mixed.
Every file is written to a temporary name and renamed into place.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mner.augment.image_files import content_hash
from mner.data.images import load_image

MANIFEST = "regions.json"
CACHE = ".by_content"


@dataclass
class Detections:
    boxes: np.ndarray  # (n, 4) xyxy pixels
    scores: np.ndarray  # (n,)
    labels: list[str]
    features: np.ndarray  # (n, d) float32
    width: int
    height: int


class RegionDetector:
    """A Hugging Face detector that returns the `top_k` best boxes of an image with a feature each."""

    def __init__(self, model: Any, processor: Any, name: str, top_k: int = 16, queries: list[str] | None = None,
                 crop_features: Any | None = None):
        self.model = model.eval()
        self.crop_features = crop_features  # a CropEmbedder: box features from a backbone over each crop
        self.processor = processor
        self.name = name
        self.top_k = top_k
        self.queries = list(queries or [])
        self.zero_shot = is_zero_shot(model.config)
        if self.zero_shot and not self.queries:
            raise ValueError(f"{name} is a zero-shot detector: give --queries, e.g. 'person,logo,building'")

    @classmethod
    def load(cls, name: str, top_k: int = 16, queries: list[str] | None = None,
             crop_features: Any | None = None) -> "RegionDetector":
        from transformers import (AutoConfig, AutoModelForObjectDetection, AutoModelForZeroShotObjectDetection,
                                  AutoProcessor)

        from mner._quiet import quiet_transformers

        quiet_transformers()
        try:
            config = AutoConfig.from_pretrained(name)
        except (OSError, ValueError) as err:
            raise ValueError(f"cannot load detector {name!r} (a hub name needs the network; or give a local "
                             f"folder): {err}") from None
        auto = AutoModelForZeroShotObjectDetection if is_zero_shot(config) else AutoModelForObjectDetection
        model = auto.from_pretrained(name)
        return cls(model, AutoProcessor.from_pretrained(name), name, top_k, queries, crop_features)

    @property
    def settings(self) -> dict[str, Any]:
        # the detector's own features add no key, so folders written before crop features existed still match
        crops = self.crop_features.settings if self.crop_features is not None else {}
        return {"detector": self.name, "queries": self.queries, "top_k": self.top_k, **crops}

    @torch.inference_mode()
    def detect(self, path: Path) -> Detections:
        image = load_image(path)  # RGB, EXIF-oriented: boxes are in the pixels a reader of the image sees
        width, height = image.size
        if self.zero_shot:
            inputs = self.processor(text=[self.queries], images=image, return_tensors="pt")
        else:
            inputs = self.processor(images=image, return_tensors="pt")
        out = self.model(**inputs)
        logits = out.logits[0].float()  # (q, c)
        if self.zero_shot:
            probs = logits.sigmoid()  # (q, n_queries): independent per query
            names = self.queries if probs.shape[-1] == len(self.queries) else None
        else:
            probs = logits.softmax(-1)[:, :-1] if logits.shape[-1] > 1 else logits.sigmoid()  # drop "no object"
            id2label = getattr(self.model.config, "id2label", None) or {}
            names = [str(id2label.get(i, i)) for i in range(probs.shape[-1])]
        scores, label_ids = probs.max(-1)  # (q,)
        features = query_features(out, logits.shape[0])  # (q, d)
        boxes = pixel_boxes(out.pred_boxes[0].float(), width, height, self.model.config.model_type)  # (q, 4)
        order = torch.argsort(scores, descending=True, stable=True)[: self.top_k]
        kept = boxes[order].numpy().astype(np.float32)  # (n, 4)
        return Detections(
            boxes=kept,
            scores=scores[order].numpy().astype(np.float32),
            labels=[names[i] if names else "object" for i in label_ids[order].tolist()],
            features=(self.crop_features(image, kept) if self.crop_features is not None
                      else features[order].numpy().astype(np.float32)),  # (n, d)
            width=width, height=height,
        )


def is_zero_shot(config: Any) -> bool:
    return config.model_type in {"owlvit", "owlv2", "grounding-dino", "omdet-turbo", "mm-grounding-dino"}


def query_features(out: Any, queries: int) -> torch.Tensor:
    """(q, d): one feature per predicted box. OWL: class embeddings; DETR-style: decoder states;
    YOLOS-style (detection tokens appended to the patches): the last q states."""
    for name in ("class_embeds", "last_hidden_state"):
        states = getattr(out, name, None)
        if isinstance(states, torch.Tensor) and states.dim() == 3 and states.shape[1] >= queries:
            return states[0, -queries:].float()
    raise ValueError("this detector returns no per-box states (class_embeds or last_hidden_state)")


def pixel_boxes(boxes: torch.Tensor, width: int, height: int, model_type: str) -> torch.Tensor:
    """Normalised (cx, cy, w, h) -> xyxy pixels, clipped to the image. OWLv2 predicts on the image
    padded to a square, so its coordinates are fractions of the longer side."""
    scale_x, scale_y = (max(width, height),) * 2 if model_type == "owlv2" else (width, height)
    cx, cy, w, h = boxes.unbind(-1)
    xyxy = torch.stack([(cx - w / 2) * scale_x, (cy - h / 2) * scale_y, (cx + w / 2) * scale_x,
                        (cy + h / 2) * scale_y], dim=-1)  # (q, 4)
    limits = torch.tensor([width, height, width, height], dtype=xyxy.dtype)
    return torch.minimum(xyxy.clamp(min=0), limits)


def save_npz(path: Path, detections: Detections, sha: str) -> None:
    """Atomic: a temporary file in the same folder, renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        np.savez(handle, bounding_boxes=detections.boxes, box_features=detections.features,
                 scores=detections.scores, objects=np.array(detections.labels, dtype=str),
                 image_h=np.int64(detections.height), image_w=np.int64(detections.width),
                 num_boxes=np.int64(len(detections.scores)), content_sha256=np.array(sha))
    os.replace(tmp, path)


def check_manifest(out_dir: Path, settings: dict[str, Any], feature_dim: int | None) -> None:
    path = out_dir / MANIFEST
    if path.is_file():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: not valid JSON ({err.msg}); remove it or choose another --to") from None
        keys = sorted(set(settings) | set(old) - {"feature_dim"})  # both ways: crop-feature keys may be absent
        mismatch = {k: (old.get(k), settings.get(k)) for k in keys if old.get(k) != settings.get(k)}
        if mismatch:
            raise ValueError(f"{out_dir} holds regions made with other settings {mismatch}; "
                             f"choose another --to folder")
        if feature_dim is None:
            return
    out_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{MANIFEST}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({**settings, "feature_dim": feature_dim}, handle, indent=2)
    os.replace(tmp, path)


@dataclass
class RegionRun:
    images: int = 0
    detected: int = 0  # images the detector ran on (the rest came from the content cache)
    failed: list[str] | None = None
    feature_dim: int | None = None


def write_regions(images: Iterable[Path], out_dir: Path, detector: RegionDetector,
                  progress: Callable[[Iterable[Path]], Iterable[Path]] | None = None) -> RegionRun:
    """One npz per image in `out_dir`; unreadable images are listed in `failed`, not fatal."""
    out_dir = Path(out_dir)
    check_manifest(out_dir, detector.settings, None)
    run = RegionRun(failed=[])
    cache = out_dir / CACHE
    for path in (progress or (lambda x: x))(list(images)):
        run.images += 1
        try:
            sha = content_hash(path)
            cached = cache / f"{sha}.npz"
            if not cached.is_file():
                detections = detector.detect(path)
                save_npz(cached, detections, sha)
                run.detected += 1
                run.feature_dim = int(detections.features.shape[1])
        except (OSError, ValueError) as err:  # ImageError is a ValueError and names the file
            run.failed.append(f"{path}: {err}")
            continue
        target = out_dir / f"{path.name}.npz"
        fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{target.name}.", suffix=".tmp")
        os.close(fd)
        shutil.copyfile(cached, tmp)
        os.replace(tmp, target)
    if run.feature_dim is None:  # everything came from the cache: read the width back
        for npz in sorted(cache.glob("*.npz"))[:1]:
            with np.load(npz, allow_pickle=False) as data:
                run.feature_dim = int(data["box_features"].shape[1])
    check_manifest(out_dir, detector.settings, run.feature_dim)
    return run
