"""Soft IoU targets, and the head's inputs on the two real VinVL files."""

from pathlib import Path

import pytest
import torch

from mner.data.post import Post
from mner.grounding.head import GroundingHead
from mner.grounding.targets import iou_matrix, region_target
from mner.metrics.grounding import grounded_scores
from mner.metrics.grounding import GroundedPrediction as P

VINVL = Path(__file__).parents[2] / ".." / "shared" / "data" / "vinvl_samples"


def test_iou_matrix_and_soft_targets():
    a = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 8.0], [50.0, 50.0, 60.0, 60.0]])
    m = iou_matrix(a, torch.tensor([[0.0, 0.0, 10.0, 10.0]]))
    assert m[:, 0].tolist() == pytest.approx([1.0, 0.8, 0.0])
    soft = region_target([tuple(r) for r in a.tolist()], [(0.0, 0.0, 10.0, 10.0)])
    assert soft.tolist() == pytest.approx([1 / 1.8, 0.8 / 1.8, 0.0])  # mass in proportion to IoU > 0.5
    assert region_target([(50.0, 50.0, 60.0, 60.0)], [(0.0, 0.0, 10.0, 10.0)]) is None  # uncovered
    assert region_target([(0.0, 0.0, 1.0, 1.0)], []) is None  # "none"
    assert region_target([], [(0.0, 0.0, 1.0, 1.0)]) is None


@pytest.mark.skipif(not VINVL.is_dir(), reason="../shared/data/vinvl_samples absent")
def test_real_vinvl_regions_feed_the_head_and_the_hindex_protocol():
    from mner.data.readers.regions import read_vinvl

    regions = read_vinvl(VINVL / "1953977.jpg.npz", top_k=16)
    gold_box = regions[3].box
    post = Post("1953977", ["Kevin", "Durant", "in", "Oakland"], ["B-PER", "I-PER", "O", "B-LOC"],
                images=["1953977.jpg"], regions=regions)
    post.entities[0].boxes = [gold_box]
    head = GroundingHead(word_dim=8, types=["LOC", "PER"], feature_dim=2048, hidden_dim=16, top_k=16)
    features = head.featurize([post])
    assert features["region_features"].shape == (1, 16, 2048)
    assert features["groundable"][0].tolist() == [1.0, 0.0]
    target = features["region_target"][0, 0]  # (k,)
    assert target.sum().item() == pytest.approx(1.0) and target[3] == target.max()
    region_logits, groundable = head(torch.randn(1, 4, 8), features)
    assert region_logits.shape == (1, 2, 16) and groundable.shape == (1, 2)

    right = {post.id: [P(0, 2, "PER", gold_box), P(3, 4, "LOC", None)]}
    for protocol in ("direct", "hindex"):
        assert grounded_scores([post], right, protocol)["gmner"]["f1"] == pytest.approx(100.0)
