"""Frozen backbone features on disk, so each image is encoded once, not once per epoch.

Key: sha256 of the image file's *content* + the model + the token mode.
Content, not path: the same picture under two names (retweets, copies across
splits) is encoded once, and a file replaced under the same name is encoded
again. "The model" is its id (hub name or path, for humans) plus a
fingerprint: sha256 over the backbone's weights, its class and the image
processor's settings. So two different checkpoints saved at the same path,
or the same model at another resolution, never share entries, while a saved
MnerModel whose frozen backbone is unchanged finds the features it was trained on.

Layout, one safetensors file per image:

    <root>/<model-slug>-<tokens>-<fingerprint16>/model.json
    <root>/<model-slug>-<tokens>-<fingerprint16>/<sha[:2]>/<sha>.safetensors   {"features": (t, d) float32}

Why one file per image and not shards: a new image is one new file, never a
rewrite of a shard; parallel writers (data-loader workers, two runs on the
same data) cannot clobber each other; a crash loses at most the file being
written; a hit reads just that image. The cost, one small file per image, is
fine at MNER scale (Twitter-2015 has ~8k images); the two-hex-digit fan-out
keeps directories small. Writes go to a temporary file in the same folder
and are renamed into place (`os.replace`), so readers see a whole file or
none. Files are not fsynced (thousands of tiny fsyncs are slow); a file that
cannot be read back after a crash counts as a miss and is rewritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from mner.data.errors import ImageError

CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    hasher = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while block := handle.read(CHUNK):
                hasher.update(block)
    except FileNotFoundError:
        raise ImageError(path, "image file not found") from None
    except OSError as err:
        raise ImageError(path, f"cannot read image file: {err.strerror or err}") from None
    return hasher.hexdigest()


def model_fingerprint(backbone: nn.Module, processor: Any) -> str:
    """sha256 of what decides the features: backbone class, weights, preprocessing settings."""
    hasher = hashlib.sha256(type(backbone).__name__.encode())
    for name, tensor in sorted(backbone.state_dict().items()):
        flat = tensor.detach().cpu().contiguous().reshape(-1)
        hasher.update(f"{name}:{flat.dtype}:{tuple(tensor.shape)}".encode())
        hasher.update(flat.view(torch.uint8).numpy())
    settings = processor.to_dict() if hasattr(processor, "to_dict") else {}
    hasher.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return hasher.hexdigest()


def slug(text: str) -> str:
    """A folder-safe short form of a model id (`openai/clip-vit-base-patch32` -> `openai--clip-vit-base-patch32`)."""
    text = text.replace("/", "--").replace("\\", "--")
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")[-80:] or "model"


class FeatureCache:
    """Backbone features by image content for one (model, token mode)."""

    def __init__(self, root: str | Path, model_id: str, tokens: str, fingerprint: str):
        self.root = Path(root)
        self.key = f"{slug(model_id)}-{tokens}-{fingerprint[:16]}"
        self.directory = self.root / self.key
        self.model_id, self.tokens, self.fingerprint = model_id, tokens, fingerprint
        self.hits = 0
        self.misses = 0
        self._digests: dict[tuple[str, int, int], str] = {}  # (path, size, mtime) -> sha256

    def digest(self, path: str | Path) -> str:
        """sha256 of the file content; memoised per (path, size, mtime) so later epochs skip re-reading."""
        path = Path(path)
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise ImageError(path, "image file not found") from None
        except OSError as err:
            raise ImageError(path, f"cannot read image file: {err.strerror or err}") from None
        memo = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if memo not in self._digests:
            self._digests[memo] = file_sha256(path)
        return self._digests[memo]

    def path_for(self, digest: str) -> Path:
        return self.directory / digest[:2] / f"{digest}.safetensors"

    def get(self, digest: str) -> torch.Tensor | None:
        """The cached (t, d) features, or None (absent or unreadable: both count as a miss)."""
        path = self.path_for(digest)
        try:
            features = load_file(str(path))["features"]
        except (FileNotFoundError, KeyError, SafetensorError, OSError):
            self.misses += 1
            return None
        self.hits += 1
        return features

    def put(self, digest: str, features: torch.Tensor) -> None:
        path = self.path_for(digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._write_model_card()
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{digest[:8]}.", suffix=".tmp")
        os.close(fd)
        try:
            save_file({"features": features.detach().float().cpu().contiguous()}, tmp,
                      metadata={"model": self.key, "image_sha256": digest})
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _write_model_card(self) -> None:
        card = self.directory / "model.json"
        if card.exists():
            return
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".model.json.")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"model_id": self.model_id, "tokens": self.tokens, "fingerprint": self.fingerprint}, handle,
                      indent=2)
        os.replace(tmp, card)
