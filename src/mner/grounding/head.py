"""GroundingHead: for each entity span, a candidate region of the post's image(s) or "none".

    span   = LayerNorm(W_s [mean; first; last word state] + E[type])          (b, e, h)
    region = RegionEncoder(feature, box geometry, image index)               (b, k, h)
    region logits     = (W_q span) . region / sqrt(h)                        (b, e, k)
    groundable logit  = MLP([span; attention summary of the regions; has_region])   (b, e)

"none" is the learned groundable-or-not decision, so a post without
regions (no image, no proposals) still learns and predicts it from its text
(and whatever the encoder saw: captions, knowledge). Training: binary
cross-entropy on groundable, plus cross-entropy to the soft IoU targets of
`mner.grounding.targets` for entities some candidate covers; `weight` scales
the sum against the tagging loss. Spans are the gold entities in training and
the tagger's entities at prediction.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
from torch import nn

from mner.data.post import Box, Post
from mner.grounding.targets import region_target
from mner.modules.visual.regions import RegionEncoder

Grounding = tuple[Box | None, float]  # a box (None = "no region") and the probability that the entity is shown


class GroundingHead(nn.Module):
    def __init__(self, word_dim: int, types: list[str], feature_dim: int = 2048, hidden_dim: int = 256,
                 top_k: int = 16, weight: float = 1.0, dropout: float = 0.1, image_root: str | Path | None = None,
                 threshold: float = 0.5):
        super().__init__()
        self.types = list(types)
        self.type_index = {t: i + 1 for i, t in enumerate(self.types)}  # 0: a type the head never saw
        self.weight = weight
        self.threshold = threshold
        self.regions = RegionEncoder(feature_dim, hidden_dim, top_k, image_root=image_root, dropout=dropout)
        self.span_projection = nn.Linear(3 * word_dim, hidden_dim)
        self.type_embedding = nn.Embedding(len(self.types) + 1, hidden_dim)
        self.span_norm = nn.LayerNorm(hidden_dim)
        self.query = nn.Linear(hidden_dim, hidden_dim)
        self.groundable = nn.Sequential(nn.Linear(2 * hidden_dim + 1, hidden_dim), nn.GELU(), nn.Dropout(dropout),
                                        nn.Linear(hidden_dim, 1))
        self.hidden_dim = hidden_dim

    # ---- data path -------------------------------------------------------------------------------
    def featurize(self, posts: list[Post]) -> dict[str, torch.Tensor]:
        """Candidate regions (the RegionEncoder's inputs + their pixel boxes) and the gold spans with targets."""
        features = self.regions.featurize(posts)
        k = features["region_mask"].shape[1]
        boxes = torch.zeros(len(posts), k, 4)  # (b, k, 4) pixel xyxy, the order featurize chose
        candidates = [self.candidates(p) for p in posts]
        for i, chosen in enumerate(candidates):
            if chosen:
                boxes[i, : len(chosen)] = torch.tensor(chosen, dtype=torch.float32)
        features["region_boxes"] = boxes
        spans = [[(e.start, e.end, e.type) for e in p.entities] for p in posts]
        features.update(self.span_tensors(spans))
        for i, post in enumerate(posts):
            if not post.grounding_annotated:  # an MNER-only post: its spans teach the grounding nothing
                features["span_mask"][i] = False
        e = features["span_index"].shape[1]
        groundable = torch.zeros(len(posts), e)  # (b, e)
        target = torch.zeros(len(posts), e, k)  # (b, e, k)
        has_target = torch.zeros(len(posts), e, dtype=torch.bool)  # (b, e)
        for i, post in enumerate(posts):
            for j, entity in enumerate(post.entities):
                groundable[i, j] = float(bool(entity.boxes))
                soft = region_target(candidates[i], entity.boxes, self.threshold)
                if soft is not None:
                    target[i, j, : soft.shape[0]] = soft
                    has_target[i, j] = True
        features.update(groundable=groundable, region_target=target, has_region_target=has_target)
        return features

    def candidates(self, post: Post) -> list[Box]:
        """The boxes the RegionEncoder keeps, in its order (best score first, at most top_k)."""
        order = sorted(range(len(post.regions)), key=lambda i: -(post.regions[i].score or 0.0))
        return [post.regions[i].box for i in order[: self.regions.top_k]]

    def span_tensors(self, spans: list[list[tuple[int, int, str]]]) -> dict[str, torch.Tensor]:
        """span_index (b, e, 2) [start, end), span_type (b, e), span_mask (b, e)."""
        e = max(1, max((len(s) for s in spans), default=1))
        index = torch.zeros(len(spans), e, 2, dtype=torch.long)
        index[..., 1] = 1
        types = torch.zeros(len(spans), e, dtype=torch.long)
        mask = torch.zeros(len(spans), e, dtype=torch.bool)
        for i, row in enumerate(spans):
            for j, (start, end, entity_type) in enumerate(row):
                index[i, j] = torch.tensor([start, end])
                types[i, j] = self.type_index.get(entity_type, 0)
                mask[i, j] = True
        return {"span_index": index, "span_type": types, "span_mask": mask}

    # ---- tensors ---------------------------------------------------------------------------------
    def forward(self, states: torch.Tensor, features: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """states (b, w, d) -> region logits (b, e, k) (-inf on padding) and groundable logits (b, e)."""
        span = self.span_states(states, features["span_index"], features["span_type"])  # (b, e, h)
        visual = self.regions(features)  # tokens (b, k, h), mask (b, k)
        real = features["region_mask"].bool() & features["has_region"].bool()[:, None]  # (b, k) actual regions
        scores = torch.einsum("beh,bkh->bek", self.query(span), visual.tokens) / math.sqrt(self.hidden_dim)
        region_logits = scores.masked_fill(~real[:, None, :], float("-inf"))  # (b, e, k)
        attention = scores.masked_fill(~visual.mask[:, None, :], float("-inf")).softmax(-1)  # (b, e, k)
        summary = torch.einsum("bek,bkh->beh", attention, visual.tokens)  # (b, e, h)
        has_region = features["has_region"].to(span.dtype)[:, None, None].expand(-1, span.shape[1], 1)  # (b, e, 1)
        groundable = self.groundable(torch.cat([span, summary, has_region], dim=-1)).squeeze(-1)  # (b, e)
        return region_logits, groundable

    def span_states(self, states: torch.Tensor, index: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        b, w, d = states.shape
        positions = torch.arange(w, device=states.device)  # (w,)
        inside = (positions[None, None, :] >= index[..., :1]) & (positions[None, None, :] < index[..., 1:])  # (b,e,w)
        weights = inside.to(states.dtype) / inside.sum(-1, keepdim=True).clamp(min=1).to(states.dtype)
        mean = torch.einsum("bew,bwd->bed", weights, states)  # (b, e, d)
        first = states.gather(1, index[..., 0].clamp(max=w - 1)[..., None].expand(-1, -1, d))  # (b, e, d)
        last = states.gather(1, (index[..., 1] - 1).clamp(0, w - 1)[..., None].expand(-1, -1, d))  # (b, e, d)
        span = self.span_projection(torch.cat([mean, first, last], dim=-1)) + self.type_embedding(types)
        return self.span_norm(span)  # (b, e, h)

    def loss(self, states: torch.Tensor, features: dict[str, torch.Tensor]) -> torch.Tensor:
        """weight * (BCE on groundable over real spans + soft CE over covered entities' candidates)."""
        region_logits, groundable = self(states, features)
        mask = features["span_mask"].bool()  # (b, e)
        if not mask.any():
            return states.sum() * 0.0  # keeps the graph; nothing to ground in this batch
        decision = nn.functional.binary_cross_entropy_with_logits(
            groundable[mask].float(), features["groundable"][mask].float())
        covered = features["has_region_target"].bool() & mask  # (b, e)
        if covered.any():
            log_p = region_logits[covered].float().log_softmax(-1)  # (n, k)
            target = features["region_target"][covered]  # (n, k)
            region = -(target * log_p.masked_fill(target == 0, 0.0)).sum(-1).mean()
            decision = decision + region
        return self.weight * decision

    @torch.no_grad()
    def predict(self, states: torch.Tensor, features: dict[str, torch.Tensor]) -> list[list[Grounding]]:
        """Per post, per span (in `span_index` order): (box or None, probability the entity is groundable)."""
        region_logits, groundable = self(states, features)
        return choose_regions(region_logits, groundable, features)

    def save_assets(self, directory: Any) -> None:
        """Nothing besides the weights: the model config rebuilds it."""


def choose_regions(region_logits: torch.Tensor, groundable: torch.Tensor,
                   features: dict[str, torch.Tensor]) -> list[list[Grounding]]:
    """Region logits (b, e, k) and groundable logits (b, e) -> per post, per span, (box or None, probability).

    The box is the best candidate when the probability is >= 0.5 and the post has candidates; a
    groundable entity of a post without regions gets None with a probability >= 0.5. Shared by the
    torch head and the ONNX export (`mner.export.onnx_grounding`), so both choose alike."""
    p_ground = groundable.float().sigmoid()  # (b, e)
    has_region = features["has_region"].bool()
    out: list[list[Grounding]] = []
    for i in range(region_logits.shape[0]):
        row: list[Grounding] = []
        for j in range(int(features["span_mask"][i].sum())):
            p = float(p_ground[i, j])
            if p >= 0.5 and bool(has_region[i]):
                best = int(region_logits[i, j].float().argmax())  # softmax keeps the order
                box = tuple(float(v) for v in features["region_boxes"][i, best].tolist())
                row.append((box, p))  # type: ignore[arg-type]
            else:
                row.append((None, p))
        out.append(row)
    return out
