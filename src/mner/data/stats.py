"""Statistics of data files, as dicts (for ``--json``) or text tables.

`compute_stats` describes a list of posts; `visual_text_stats`,
`regions_stats` and `image_folder_stats` describe the other things a dataset
folder holds (caption/knowledge files, VinVL npz files, image folders).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any

from mner.data.errors import DataFormatError
from mner.data.images import EXTENSION_FORMATS, extension_mismatch, sniff_image_format
from mner.data.post import Post, Region
from mner.data.readers import read_posts, read_vinvl, read_visual_text
from mner.data.readers.detect import data_files, detect_format, resolve_kind


def image_path(image: str, images_dir: str | PathLike[str] | None) -> Path:
    path = Path(image)
    return path if path.is_absolute() or images_dir is None else Path(images_dir) / path


def compute_stats(posts: Sequence[Post], images_dir: str | PathLike[str] | None = None) -> dict[str, Any]:
    """Counts of posts, tokens, entities per type, images, grounding and visual text.

    `images_found` / `images_missing` are only present when `images_dir` is
    given (relative image names are looked up there; absolute paths as they are).
    """
    entity_types: Counter[str] = Counter(e.type for p in posts for e in p.entities)
    image_counts = Counter(min(len(p.images), 2) for p in posts)
    lengths = [len(p.tokens) for p in posts]
    grounded = [e for p in posts for e in p.entities if e.boxes]
    stats: dict[str, Any] = {
        "posts": len(posts),
        "tokens": sum(lengths),
        "tokens_per_post": {
            "mean": round(sum(lengths) / len(posts), 2) if posts else 0.0,
            "max": max(lengths, default=0),
        },
        "labelled_posts": sum(1 for p in posts if p.tags is not None),
        "entities": dict(sorted(entity_types.items())),
        "entities_total": sum(entity_types.values()),
        "posts_by_images": {"0": image_counts[0], "1": image_counts[1], "2+": image_counts[2]},
        "images": sum(len(p.images) for p in posts),
        "grounded_entities": len(grounded),
        "boxes": sum(len(e.boxes) for e in grounded),
        "posts_with_regions": sum(1 for p in posts if p.regions),
        "visual_text": dict(sorted(Counter(name for p in posts for name in p.visual_text).items())),
    }
    if images_dir is not None:
        found = sum(1 for p in posts for img in p.images if image_path(img, images_dir).is_file())
        stats["images_found"] = found
        stats["images_missing"] = stats["images"] - found
    return stats


def render_stats(stats: dict[str, Any], title: str | None = None) -> str:
    """A two-column text table of `compute_stats` output."""
    rows: list[tuple[str, str]] = [
        ("posts", str(stats["posts"])),
        ("labelled posts", str(stats["labelled_posts"])),
        ("tokens", str(stats["tokens"])),
        ("tokens per post (mean / max)", f"{stats['tokens_per_post']['mean']} / {stats['tokens_per_post']['max']}"),
        ("entities", str(stats["entities_total"])),
        *((f"  {entity_type}", str(n)) for entity_type, n in stats["entities"].items()),
        ("posts with 0 / 1 / 2+ images", " / ".join(str(stats["posts_by_images"][k]) for k in ("0", "1", "2+"))),
        ("images", str(stats["images"])),
    ]
    if "images_found" in stats:
        rows += [("  found", str(stats["images_found"])), ("  missing", str(stats["images_missing"]))]
    if stats["grounded_entities"] or stats["boxes"]:
        rows += [("grounded entities", str(stats["grounded_entities"])), ("boxes", str(stats["boxes"]))]
    if stats["posts_with_regions"]:
        rows.append(("posts with regions", str(stats["posts_with_regions"])))
    rows += [(f"visual text '{name}'", f"{n} posts") for name, n in stats["visual_text"].items()]
    width = max(len(label) for label, _ in rows)
    lines = [title] if title else []
    lines += [f"{label:<{width}}  {value:>8}" for label, value in rows]
    return "\n".join(lines)


def visual_text_stats(texts: dict[str, str]) -> dict[str, Any]:
    """Entries of a caption/knowledge file (see `read_visual_text`)."""
    lengths = [len(t) for t in texts.values()]
    mean = round(sum(lengths) / len(lengths), 1) if lengths else 0.0
    return {
        "entries": len(texts),
        "empty": sum(1 for n in lengths if n == 0),
        "chars_per_entry": {"mean": mean, "max": max(lengths, default=0)},
    }


def regions_stats(regions: Sequence[Region]) -> dict[str, Any]:
    """Boxes of one VinVL npz (see `read_vinvl`)."""
    labels = Counter(r.label for r in regions if r.label)
    dims = {int(r.feature.shape[-1]) for r in regions if r.feature is not None}
    return {
        "boxes": len(regions),
        "feature_dim": dims.pop() if len(dims) == 1 else sorted(dims),
        "best_score": round(max((r.score or 0.0 for r in regions), default=0.0), 4),
        "top_labels": dict(labels.most_common(5)),
    }


def image_folder_stats(folder: str | PathLike[str]) -> dict[str, Any]:
    """Image files of a folder by their real (content) format; no decoding, so it is fast."""
    by_format: Counter[str] = Counter()
    mismatched = 0
    for path in sorted(p for p in Path(folder).iterdir() if p.is_file()):
        kind = sniff_image_format(path)
        if kind is None and path.suffix.lower() not in EXTENSION_FORMATS:
            continue  # not an image: README, npz, ...
        by_format[kind or "unknown"] += 1
        mismatched += extension_mismatch(path) is not None
    return {
        "images": sum(by_format.values()),
        "by_format": dict(sorted(by_format.items())),
        "extension_mismatch": mismatched,
    }


def describe_path(
    path: str | PathLike[str], format: str | None = None, images_dir: str | PathLike[str] | None = None
) -> dict[str, Any]:
    """The stats of whatever `path` is, with ``path`` and ``kind`` keys.

    Posts files give `compute_stats` (plus ``format``); caption/knowledge files,
    VinVL npz files and image folders their own stats; a folder of data files
    gives ``files``: one entry per file (``error`` for one that cannot be read).
    """
    path = Path(path)
    kind, name = resolve_kind(path, format)
    head: dict[str, Any] = {"path": str(path), "kind": kind}
    if kind == "images":
        return {**head, **image_folder_stats(path)}
    if kind == "folder":
        files: dict[str, Any] = {}
        for file in data_files(path):
            try:
                files[file.name] = describe_path(file)
            except (DataFormatError, ValueError) as err:
                files[file.name] = {"path": str(file), "error": str(err)}
        return {**head, "files": files}
    if kind == "visual_text":
        return {**head, **visual_text_stats(read_visual_text(path, name))}
    if kind == "regions":
        return {**head, **regions_stats(read_vinvl(path))}
    name = name or detect_format(path)
    posts = read_posts(path, name, images_dir=images_dir)
    return {**head, "format": name, **compute_stats(posts, images_dir=images_dir)}


def render_description(description: dict[str, Any]) -> str:
    """`describe_path` output as text: one table per file."""
    if description["kind"] == "folder":
        parts = [
            render_description(d) if "kind" in d else f"{d['path']}\n  error: {d['error']}"
            for d in description["files"].values()
        ]
        return "\n\n".join(parts) if parts else f"{description['path']}: no data files"
    if description["kind"] == "posts":
        return render_stats(description, title=f"{description['path']} ({description['format']})")
    return render_mapping({k: v for k, v in description.items() if k != "path"}, title=description["path"])


def render_mapping(stats: dict[str, Any], title: str | None = None) -> str:
    """A two-column text table of any flat-ish stats dict (nested dicts become indented rows)."""
    rows: list[tuple[str, str]] = []
    for key, value in stats.items():
        if isinstance(value, dict):
            rows.append((key.replace("_", " "), ""))
            rows += [(f"  {k}", str(v)) for k, v in value.items()]
        else:
            rows.append((key.replace("_", " "), str(value)))
    width = max((len(label) for label, _ in rows), default=0)
    lines = [title] if title else []
    lines += [f"{label:<{width}}  {value:>8}" for label, value in rows]
    return "\n".join(lines)
