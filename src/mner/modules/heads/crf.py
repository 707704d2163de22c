"""Linear-chain CRF with BIO-constrained transitions.

Why our own: the maintained packages (pytorch-crf, torchcrf) are unmaintained
or pin old torch, and a CRF is ~100 lines. Transitions that BIO forbids
(`O -> I-X`, `B-X -> I-Y`, `I-X -> I-Y`, start `-> I-X`) get a fixed large
negative score, so Viterbi can only return well-formed BIO. Marginals from
forward-backward give each word's confidence, used as entity scores.
"""

from __future__ import annotations

import torch
from torch import nn

from mner.data.tags import parse_tag

FORBIDDEN = -10000.0


def bio_transition_mask(labels: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """(L, L) allowed[i, j] for i -> j, and (L,) allowed at the start."""
    parsed = [parse_tag(label) for label in labels]
    n = len(labels)
    allowed = torch.ones(n, n, dtype=torch.bool)
    start = torch.ones(n, dtype=torch.bool)
    for j, (pj, tj) in enumerate(parsed):
        if pj == "I":
            start[j] = False
            for i, (pi, ti) in enumerate(parsed):
                allowed[i, j] = pi in "BI" and ti == tj
    return allowed, start


class CRF(nn.Module):
    def __init__(self, num_labels: int, allowed: torch.Tensor | None = None, start_allowed: torch.Tensor | None = None):
        super().__init__()
        self.transitions = nn.Parameter(torch.zeros(num_labels, num_labels))  # (L, L) from -> to
        self.start = nn.Parameter(torch.zeros(num_labels))
        self.end = nn.Parameter(torch.zeros(num_labels))
        allowed = allowed if allowed is not None else torch.ones(num_labels, num_labels, dtype=torch.bool)
        start_allowed = start_allowed if start_allowed is not None else torch.ones(num_labels, dtype=torch.bool)
        self.register_buffer("transition_penalty", (~allowed).float() * FORBIDDEN)
        self.register_buffer("start_penalty", (~start_allowed).float() * FORBIDDEN)

    def _scores(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.transitions + self.transition_penalty, self.start + self.start_penalty

    def _forward_alphas(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        trans, start = self._scores()
        alpha = start + emissions[:, 0]  # (b, L)
        for t in range(1, emissions.shape[1]):
            step = torch.logsumexp(alpha.unsqueeze(2) + trans, dim=1) + emissions[:, t]  # (b, L)
            alpha = torch.where(mask[:, t : t + 1], step, alpha)
        return alpha  # (b, L) at each sequence's last word

    def nll(self, emissions: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Mean negative log-likelihood; every row must have mask[:, 0] True."""
        emissions = emissions.float()
        trans, start = self._scores()
        b, w, _ = emissions.shape
        labels = labels.clamp(min=0)  # padded positions are masked out below
        gold = start[labels[:, 0]] + emissions[:, 0].gather(1, labels[:, :1]).squeeze(1)  # (b,)
        for t in range(1, w):
            step = trans[labels[:, t - 1], labels[:, t]] + emissions[:, t].gather(1, labels[:, t : t + 1]).squeeze(1)
            gold = gold + step * mask[:, t]
        last = labels.gather(1, (mask.sum(1, keepdim=True) - 1).clamp(min=0)).squeeze(1)  # (b,)
        gold = gold + self.end[last]
        log_z = torch.logsumexp(self._forward_alphas(emissions, mask) + self.end, dim=1)  # (b,)
        return (log_z - gold).mean()

    @torch.no_grad()
    def viterbi(self, emissions: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        emissions = emissions.float()
        trans, start = self._scores()
        score = start + emissions[:, 0]  # (b, L)
        history = []
        for t in range(1, emissions.shape[1]):
            best, idx = (score.unsqueeze(2) + trans).max(dim=1)  # (b, L)
            history.append(idx)
            score = torch.where(mask[:, t : t + 1], best + emissions[:, t], score)
        score = score + self.end
        lengths = mask.sum(1).tolist()
        last = score.argmax(1).tolist()
        history_cpu = [h.tolist() for h in history]
        paths = []
        for i, n in enumerate(lengths):
            path = [last[i]]
            for t in range(n - 1, 0, -1):
                path.append(history_cpu[t - 1][i][path[-1]])
            paths.append(path[::-1])
        return paths

    @torch.no_grad()
    def marginals(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(b, w, L) posterior probability of each label at each word."""
        emissions = emissions.float()
        trans, start = self._scores()
        b, w, n = emissions.shape
        alphas = [start + emissions[:, 0]]
        for t in range(1, w):
            step = torch.logsumexp(alphas[-1].unsqueeze(2) + trans, dim=1) + emissions[:, t]
            alphas.append(torch.where(mask[:, t : t + 1], step, alphas[-1]))
        betas = [torch.zeros(b, n, device=emissions.device)] * w
        lengths = mask.sum(1)
        beta = self.end.expand(b, n).clone()
        for t in range(w - 1, -1, -1):
            at_end = (lengths - 1 == t).unsqueeze(1)
            beta = torch.where(at_end, self.end.expand(b, n), beta)
            betas[t] = beta
            if t > 0:
                back = torch.logsumexp(trans.unsqueeze(0) + (emissions[:, t] + beta).unsqueeze(1), dim=2)  # (b, L)
                beta = torch.where(mask[:, t : t + 1], back, beta)
        log_z = torch.logsumexp(alphas[-1] + self.end, dim=1, keepdim=True)  # (b, 1)
        post = torch.stack([a + bt for a, bt in zip(alphas, betas)], dim=1) - log_z.unsqueeze(1)
        return post.exp().clamp(0.0, 1.0) * mask.unsqueeze(-1)  # exp can overshoot 1 by rounding


class CrfHead(nn.Module):
    """Linear emissions + BIO-constrained CRF."""

    def __init__(self, input_dim: int, labels: list[str]):
        super().__init__()
        self.proj = nn.Linear(input_dim, len(labels))
        allowed, start = bio_transition_mask(labels)
        self.crf = CRF(len(labels), allowed, start)

    def emissions(self, states: torch.Tensor) -> torch.Tensor:
        return self.proj(states)  # (b, w, L)

    def loss(self, emissions: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.crf.nll(emissions, labels, mask)

    @torch.no_grad()
    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> tuple[list[list[int]], list[list[float]]]:
        paths = self.crf.viterbi(emissions, mask)
        probs = self.crf.marginals(emissions, mask).tolist()  # (b, w, L)
        confidences = [[probs[i][t][label] for t, label in enumerate(path)] for i, path in enumerate(paths)]
        return paths, confidences
