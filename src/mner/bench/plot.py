"""bench.png: dev F1 against batch-64 posts/s, one labelled point per system (matplotlib, if installed).

Uses matplotlib's object API with the Agg canvas, so it never touches a global
backend or opens a window, and writes the PNG atomically.
"""

from __future__ import annotations

import importlib.util
import io
import os
import tempfile
from pathlib import Path
from typing import Any

MARKERS = {"peer": "s", "mner": "o", "int8": "^", "onnx": "D", "onnx-int8": "v", "bf16": "P"}
OFFSETS = [(6, 4), (6, -11), (6, 15), (6, -22)]  # points


def available() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def plot_f1_vs_speed(systems: list[dict[str, Any]], path: str | Path, title: str = "") -> bool:
    """Write the plot to `path`; False (and nothing written) when matplotlib is not installed."""
    if not available():
        return False
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.2))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    points = [r for r in systems if r.get("posts_per_s_b64") and r.get("f1") is not None]
    for i, r in enumerate(points):
        ax.scatter(r["posts_per_s_b64"], r["f1"], marker=MARKERS.get(r["kind"], "o"), s=60, label=r["name"])
        # staggered label offsets: systems with equal F1 and speed would otherwise print over each other
        ax.annotate(r["name"], (r["posts_per_s_b64"], r["f1"]), textcoords="offset points",
                    xytext=OFFSETS[i % len(OFFSETS)], fontsize=8)
    if points and max(r["posts_per_s_b64"] for r in points) / min(r["posts_per_s_b64"] for r in points) > 20:
        ax.set_xscale("log")
    ax.margins(x=0.1, y=0.15)  # room for the labels inside the frame
    ax.set_xlabel("inference posts/s (batch 64, CPU)")
    ax.set_ylabel("dev entity F1 (%)")
    ax.set_title(title or "F1 against inference speed (up and right is better)", fontsize=10)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as handle:
        handle.write(buffer.getvalue())
    os.replace(tmp, path)
    return True
