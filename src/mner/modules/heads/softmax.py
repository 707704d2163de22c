"""Softmax tagger: one independent label distribution per word."""

from __future__ import annotations

import torch
from torch import nn


class SoftmaxHead(nn.Module):
    def __init__(self, input_dim: int, num_labels: int, class_weights: torch.Tensor | None = None):
        super().__init__()
        self.proj = nn.Linear(input_dim, num_labels)
        # a buffer, so weights travel with the checkpoint and the device
        self.register_buffer("class_weights", class_weights if class_weights is not None else torch.ones(num_labels))

    def emissions(self, states: torch.Tensor) -> torch.Tensor:
        return self.proj(states)  # (b, w, L)

    def loss(self, emissions: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        logits = emissions[mask]  # (n, L)
        return nn.functional.cross_entropy(logits, labels[mask], weight=self.class_weights)

    def loss_rows(self, emissions: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(b,) summed cross-entropy of each row's words (what a CRF row's NLL is to a sequence)."""
        per_word = nn.functional.cross_entropy(emissions.float().transpose(1, 2), labels, weight=self.class_weights,
                                               reduction="none")  # (b, w)
        return (per_word * mask).sum(1)

    def log_marginals(self, emissions: torch.Tensor, mask: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        return (emissions.float() / temperature).log_softmax(-1)  # (b, w, L): words are independent

    @torch.no_grad()
    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> tuple[list[list[int]], list[list[float]]]:
        probs = emissions.float().softmax(-1)  # (b, w, L)
        best_p, best = probs.max(-1)  # (b, w)
        lengths = mask.sum(1).tolist()
        return (
            [row[:n] for row, n in zip(best.tolist(), lengths)],
            [row[:n] for row, n in zip(best_p.tolist(), lengths)],
        )
