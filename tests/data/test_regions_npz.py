"""VinVL npz regions: top-k by score, no pickle, attached per image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mner.data.errors import DataFormatError
from mner.data.post import Post
from mner.data.readers import attach_regions, read_vinvl


def write_vinvl(path: Path, scores: list[float], dim: int = 8) -> None:
    n = len(scores)
    np.savez(
        path,
        bounding_boxes=np.arange(n * 4, dtype=np.float32).reshape(n, 4),
        box_features=np.tile(np.arange(n, dtype=np.float32)[:, None], (1, dim)),
        scores=np.asarray(scores, dtype=np.float32),
        objects=np.asarray([f"obj{i}" for i in range(n)]),
        image_h=np.int64(100),
        image_w=np.int64(200),
        num_boxes=np.int64(n),
    )


def test_top_k_by_score(tmp_path: Path) -> None:
    path = tmp_path / "1.jpg.npz"
    write_vinvl(path, [0.2, 0.9, 0.5, 0.9])
    regions = read_vinvl(path, top_k=3)
    assert [r.label for r in regions] == ["obj1", "obj3", "obj2"]  # ties keep file order
    assert regions[0].box == (4.0, 5.0, 6.0, 7.0)
    assert regions[0].feature.dtype == np.float32 and regions[0].feature.tolist() == [1.0] * 8
    assert read_vinvl(path, with_features=False)[0].feature is None


def test_attach_regions_per_image(tmp_path: Path) -> None:
    write_vinvl(tmp_path / "a.jpg.npz", [0.5, 0.7])
    write_vinvl(tmp_path / "b.npz", [0.3])  # the <image id>.npz naming works too
    posts = [Post(id="p", tokens=["x"], images=["/imgs/a.jpg", "/imgs/b.jpg"]), Post(id="q", tokens=["y"], images=["c.jpg"])]
    assert attach_regions(posts, tmp_path, top_k=1) == 1
    assert [(r.label, r.image_index) for r in posts[0].regions] == [("obj1", 0), ("obj0", 1)]
    assert posts[1].regions == []


def test_pickled_npz_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.npz"
    np.savez(path, bounding_boxes=np.zeros((1, 4)), box_features=np.zeros((1, 2)), scores=np.array([{"a": 1}], dtype=object))
    with pytest.raises(DataFormatError, match=rf"^{path}: cannot read VinVL npz"):
        read_vinvl(path)


def test_missing_keys_and_bad_shapes_are_named(tmp_path: Path) -> None:
    path = tmp_path / "x.npz"
    np.savez(path, scores=np.zeros(2))
    with pytest.raises(DataFormatError, match="without bounding_boxes, box_features"):
        read_vinvl(path)
    np.savez(path, bounding_boxes=np.zeros((2, 3)), box_features=np.zeros((2, 4)), scores=np.zeros(2))
    with pytest.raises(DataFormatError, match=r"bounding_boxes has shape \(2, 3\)"):
        read_vinvl(path)
