"""data.regions attaches VinVL-style npz regions to posts for training and evaluation."""

import numpy as np

from mner.data.post import Post
from mner.data.readers import write_posts
from mner.training.run import load_split


def test_load_split_attaches_regions(tmp_path):
    posts = [Post("1953977", ["Alice", "in", "Paris"], ["B-PER", "O", "B-LOC"], images=["1953977.jpg"])]
    write_posts(posts, tmp_path / "train.jsonl")
    regions = tmp_path / "regions"
    regions.mkdir()
    np.savez(regions / "1953977.jpg.npz", bounding_boxes=np.array([[1, 2, 30, 40], [0, 0, 5, 5]], "float32"),
             box_features=np.ones((2, 8), "float32"), scores=np.array([0.2, 0.9], "float32"),
             objects=np.array(["man", "hat"]))
    loaded = load_split({"format": "jsonl", "train": str(tmp_path / "train.jsonl"),
                         "regions": {"dir": str(regions), "top_k": 1}}, "train")
    assert len(loaded[0].regions) == 1 and loaded[0].regions[0].label == "hat"
    assert loaded[0].regions[0].feature.shape == (8,)
