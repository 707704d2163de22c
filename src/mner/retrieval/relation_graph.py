"""R-GCN's relation graphs over retrieved training posts, as a visual module.

Two star graphs per post, each around the post itself:
  inter-modal: the post's *text* -> the training posts whose *caption* (the image rendered as text;
               R-GCN uses image features) is nearest to it;
  intra-modal: the post's *caption* -> the training posts with the nearest captions (R-GCN: image ->
               images with the same kinds of objects).
Edges are weighted by the softmax of their similarities; one graph convolution per graph,
    h_g = ReLU(W_self x_post + sum_j a_j W_nb x_j)       (x: frozen sentence embeddings)
gives one token per graph; `fusion.gated.v1` (mner.modules.fusion.gated) gates them into every word state.
`graphs: [inter]`, `[intra]` or `[]` are the seed's ablations (without intra, without inter,
without both: the last keeps the module but feeds it nothing, a constant token).

Defects of the released code (1429904852/R-GCN) fixed here: it retrieves from the images of all
three splits, test included (here: training posts only, never the post itself by id or words),
and it scores with a per-batch metric (see `mner.metrics.rgcn`; mner reports micro F1).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from mner.data.post import Post
from mner.modules.interfaces import VisualTokens
from mner.retrieval.image_embed import IMAGE_KEY
from mner.retrieval.index import PostIndex

GRAPHS = ("inter", "intra")
INDEX_DIR = "relation_index"  # inside a saved model directory


class RelationGraphs(nn.Module):
    def __init__(self, index: PostIndex, graphs: list[str] | tuple[str, ...] = GRAPHS, k: int = 5,
                 output_dim: int = 256, text_key: str = "text", image_key: str = "caption", dropout: float = 0.1):
        super().__init__()
        unknown = sorted(set(graphs) - set(GRAPHS))
        if unknown:
            raise ValueError(f"unknown relation graph(s) {unknown}; choose from {GRAPHS}")
        self.index = index
        self.graphs = list(graphs)
        self.k = int(k)
        self.keys = {"inter": text_key, "intra": image_key}
        if image_key == IMAGE_KEY and "inter" in self.graphs:
            raise ValueError("the inter-modal graph looks a post's text up among the bank's images, which needs "
                             "text and images in one space: with key: image use graphs: [intra], or key: caption")
        self.output_dim = output_dim
        dim = int(index.vectors.shape[1])
        self.self_proj = nn.ModuleList([nn.Linear(dim, output_dim) for _ in GRAPHS])  # one per graph
        self.neighbour_proj = nn.ModuleList([nn.Linear(dim, output_dim, bias=False) for _ in GRAPHS])
        self.empty = nn.Parameter(torch.zeros(output_dim))  # the token when no graph is used
        self.dropout = nn.Dropout(dropout)
        self._memo: dict[tuple[str, str, tuple[str, ...]], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    # ---- featurize: retrieval, memoised per post (training posts are looked up every epoch) ----
    def _graph(self, graph: str, posts: list[Post]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        keys = [(graph, p.id, tuple(p.tokens)) for p in posts]
        todo = [i for i, key in enumerate(keys) if key not in self._memo]
        if todo:
            query = self.index.embedder.embed_posts([posts[i] for i in todo], self.keys[graph])  # (q, d)
            hits = self.index.search([posts[i] for i in todo], self.k, vectors=query)
            centred = self.index.keys(query)  # (q, d) in the bank's space
            for i, q, row in zip(todo, centred, hits):
                nodes = np.zeros((self.k, q.shape[0]), np.float32)  # (k, d)
                sims = np.full(self.k, -np.inf, np.float32)
                for j, (bank_row, sim) in enumerate(row):
                    nodes[j] = self.index.keys(self.index.vectors[bank_row:bank_row + 1])[0]
                    sims[j] = sim
                self._memo[keys[i]] = (q, nodes, sims)
        return [self._memo[key] for key in keys]

    def featurize(self, posts: list[Post]) -> dict[str, torch.Tensor]:
        b, g, d = len(posts), len(GRAPHS), int(self.index.vectors.shape[1])
        centre = torch.zeros(b, g, d)  # (b, G, d) the post in each graph's query space
        nodes = torch.zeros(b, g, self.k, d)  # (b, G, k, d)
        sims = torch.full((b, g, self.k), float("-inf"))  # (b, G, k); -inf = no neighbour
        for gi, graph in enumerate(GRAPHS):
            if graph not in self.graphs:
                continue
            for i, (q, n, s) in enumerate(self._graph(graph, posts)):
                centre[i, gi], nodes[i, gi], sims[i, gi] = torch.from_numpy(q), torch.from_numpy(n), torch.from_numpy(s)
        return {"graph_centre": centre, "graph_nodes": nodes, "graph_sims": sims}

    # ---- forward: one graph convolution per graph -> one token per graph ----
    def forward(self, features: dict[str, torch.Tensor]) -> VisualTokens:
        centre, nodes, sims = features["graph_centre"], features["graph_nodes"], features["graph_sims"]
        b = centre.shape[0]
        tokens = []
        for gi, graph in enumerate(GRAPHS):
            if graph not in self.graphs:
                continue
            has = torch.isfinite(sims[:, gi])  # (b, k)
            weights = torch.softmax(sims[:, gi].masked_fill(~has, -1e4), dim=-1) * has  # (b, k)
            messages = (weights.unsqueeze(-1) * self.neighbour_proj[gi](nodes[:, gi])).sum(1)  # (b, o)
            tokens.append(torch.relu(self.self_proj[gi](centre[:, gi]) + messages))  # (b, o)
        if not tokens:  # the "without both" ablation: a constant token, so the fusion sees nothing retrieved
            tokens.append(self.empty.expand(b, -1))
        stacked = self.dropout(torch.stack(tokens, 1))  # (b, G', o)
        return VisualTokens(stacked, torch.ones(stacked.shape[:2], dtype=torch.bool, device=stacked.device))

    def save_assets(self, directory: Path) -> None:
        self.index.save(Path(directory) / INDEX_DIR)
