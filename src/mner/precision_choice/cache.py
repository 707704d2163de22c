"""Calibrations remembered per host and model, so a Tagger measures once, not on every load.

Key: the host fingerprint (CPU model name, its instruction-set flags, torch's version,
torch's thread count, the int8 kernel override) and the model's digest (its weights and
config files). Anything in it changing (a torch upgrade, another thread count, a
retrained model) is a different key: a miss, measured afresh. One JSON file per key, so
two processes never rewrite each other's entries; written atomically.

Where: `$MNER_CACHE_DIR/precision/`, else `$XDG_CACHE_HOME/mner/precision/`, else
`~/.cache/mner/precision/`.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from pathlib import Path
from typing import Any

import torch

from mner.checkpoint import atomic_write_text
from mner.cpu import cpu_flags
from mner.precision_choice.choice import PrecisionChoice

FORMAT = "mner.precision-choice.v1"
MODEL_FILES = ("config.json", "labels.json", "model.safetensors", "quantization.json", "onnx.json", "model.onnx")


def cache_dir(override: str | Path | None = None) -> Path:
    if override is not None:
        return Path(override)
    if os.environ.get("MNER_CACHE_DIR"):
        return Path(os.environ["MNER_CACHE_DIR"]) / "precision"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mner" / "precision"


def cpu_model_name(cpuinfo: str | None = None) -> str:
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8")
        except OSError:
            return platform.processor() or platform.machine()
    for line in cpuinfo.splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def host_fingerprint(threads: int | None = None, cpuinfo: str | None = None) -> dict[str, Any]:
    """What makes one host's timings differ from another's (or from this host's under another torch)."""
    return {"cpu": cpu_model_name(cpuinfo), "flags": sorted(cpu_flags(cpuinfo)), "machine": platform.machine(),
            "torch": torch.__version__, "threads": int(threads if threads is not None else torch.get_num_threads()),
            "int8_kernel_override": os.environ.get("MNER_INT8_KERNEL", "")}


_DIGESTS: dict[tuple[str, int, int], str] = {}


def file_digest(path: Path) -> str:
    """sha256 of a file, remembered per (path, size, mtime) within the process (a model is ~90 MB)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        sha = hashlib.sha256()
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                sha.update(chunk)
        _DIGESTS[key] = sha.hexdigest()
    return _DIGESTS[key]


def model_digest(model_dir: str | Path) -> str:
    """A digest of the files that make the model what it is (weights, config, labels, int8/ONNX markers)."""
    sha = hashlib.sha256()
    for name in MODEL_FILES:
        path = Path(model_dir) / name
        if path.is_file():
            sha.update(f"{name}:{file_digest(path)}\n".encode())
    return sha.hexdigest()


def entry_key(host: dict[str, Any], digest: str, candidates: list[str]) -> str:
    text = json.dumps({"host": host, "model": digest, "candidates": candidates, "format": FORMAT}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class ChoiceCache:
    """Read and write calibrations under `directory` (see the module docstring for the key)."""

    def __init__(self, directory: str | Path | None = None):
        self.directory = cache_dir(directory)

    def path_for(self, host: dict[str, Any], digest: str, candidates: list[str]) -> Path:
        return self.directory / f"{entry_key(host, digest, candidates)}.json"

    def get(self, host: dict[str, Any], digest: str, candidates: list[str]) -> PrecisionChoice | None:
        """The cached choice, or None: absent, unreadable, another format, or made for another host/model."""
        path = self.path_for(host, digest, candidates)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            if (entry.get("format") != FORMAT or entry.get("host") != host or entry.get("model") != digest
                    or entry.get("candidates") != candidates):
                return None
            choice = PrecisionChoice.from_dict(entry["choice"])
        except (OSError, ValueError, KeyError, TypeError):  # a damaged entry is measured again and rewritten
            return None
        return PrecisionChoice(choice.precision, "cached", choice.timings, choice.candidates)

    def put(self, host: dict[str, Any], digest: str, candidates: list[str], choice: PrecisionChoice) -> Path:
        path = self.path_for(host, digest, candidates)
        entry = {"format": FORMAT, "host": host, "model": digest, "candidates": candidates,
                 "choice": choice.to_dict()}
        atomic_write_text(path, json.dumps(entry, indent=2))
        return path
