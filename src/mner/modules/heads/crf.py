"""Linear-chain CRF with BIO-constrained transitions.

Why our own: the maintained packages (pytorch-crf, torchcrf) are unmaintained
or pin old torch, and a CRF is ~100 lines. Transitions that BIO forbids
(`O -> I-X`, `B-X -> I-Y`, `I-X -> I-Y`, start `-> I-X`) get a fixed large
negative score, so Viterbi can only return well-formed BIO. Marginals from
forward-backward give each word's confidence, used as entity scores.
"""

from __future__ import annotations

import numpy as np
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
        return self.nll_rows(emissions, labels, mask).mean()

    def nll_rows(self, emissions: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(b,) negative log-likelihood of each row's gold path."""
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
        return log_z - gold

    def log_marginals(self, emissions: torch.Tensor, mask: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        """(b, w, L) log posterior of each label at each word, differentiable (torch forward-backward).

        What distillation and cross-view alignment compare: the distribution the CRF itself puts
        on each word's label, not the emissions' softmax, which ignores the transitions.
        `temperature` divides every score (emissions, transitions, start, end): T > 1 softens
        the posteriors. Values on padding are meaningless; mask them.
        """
        trans, start = self._scores()
        e = emissions.float() / temperature  # (b, w, L)
        trans, start, end = trans / temperature, start / temperature, self.end / temperature
        b, w, n = e.shape
        alphas = [start + e[:, 0]]  # each (b, L); padding keeps the last real word's alpha
        for t in range(1, w):
            step = torch.logsumexp(alphas[-1].unsqueeze(2) + trans, dim=1) + e[:, t]
            alphas.append(torch.where(mask[:, t : t + 1], step, alphas[-1]))
        lengths = mask.sum(1)  # (b,)
        last_end = end.expand(b, n)
        beta, betas = last_end, [last_end] * w
        for t in range(w - 1, -1, -1):
            beta = torch.where((lengths - 1 == t).unsqueeze(1), last_end, beta)
            betas[t] = beta
            if t > 0:
                back = torch.logsumexp(trans.unsqueeze(0) + (e[:, t] + beta).unsqueeze(1), dim=2)  # (b, L)
                beta = torch.where(mask[:, t : t + 1], back, beta)
        log_z = torch.logsumexp(alphas[-1] + end, dim=1)  # (b,)
        return torch.stack(alphas, 1) + torch.stack(betas, 1) - log_z[:, None, None]  # (b, w, L)

    def _numpy_scores(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        trans, start = self._scores()
        return tuple(x.detach().double().cpu().numpy() for x in (trans, start, self.end))  # type: ignore[return-value]

    @torch.no_grad()
    def viterbi(self, emissions: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        """Best BIO path per row. Decoding runs in numpy (float64) on the CPU: at these sizes
        ((b, L, L) with L ~ 9) each torch op costs more in dispatch than in arithmetic, and
        a request's decode is then ~10x cheaper; `nll` (training) stays in torch."""
        e, m = _as_numpy(emissions, mask)  # (b, w, L), (b, w)
        trans, start, end = self._numpy_scores()
        b, w, _ = e.shape
        score = start + e[:, 0]  # (b, L)
        history = np.zeros((max(w - 1, 0), b, e.shape[2]), dtype=np.int64)  # (w-1, b, L)
        for t in range(1, w):
            candidates = score[:, :, None] + trans  # (b, L_from, L_to)
            history[t - 1] = candidates.argmax(1)
            score = np.where(m[:, t, None], candidates.max(1) + e[:, t], score)
        last = (score + end).argmax(1).tolist()
        lengths = m.sum(1).tolist()
        paths = []
        for i, n in enumerate(lengths):
            path = [last[i]]
            for t in range(n - 1, 0, -1):
                path.append(int(history[t - 1, i, path[-1]]))
            paths.append(path[::-1])
        return paths

    @torch.no_grad()
    def marginals(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(b, w, L) posterior probability of each label at each word (zero on padding)."""
        e, m = _as_numpy(emissions, mask)
        return torch.from_numpy(self._marginals(e, m)).float().to(emissions.device)

    def _marginals(self, e: np.ndarray, m: np.ndarray) -> np.ndarray:
        """Forward-backward in log space, numpy float64: (b, w, L) posteriors."""
        trans, start, end = self._numpy_scores()
        b, w, n = e.shape
        alphas = np.empty((b, w, n))  # (b, w, L); padding keeps the last real word's alpha
        alphas[:, 0] = start + e[:, 0]
        for t in range(1, w):
            step = _logsumexp(alphas[:, t - 1, :, None] + trans, 1) + e[:, t]
            alphas[:, t] = np.where(m[:, t, None], step, alphas[:, t - 1])
        betas = np.empty((b, w, n))
        lengths = m.sum(1)
        beta = np.broadcast_to(end, (b, n)).copy()
        for t in range(w - 1, -1, -1):
            beta = np.where((lengths - 1 == t)[:, None], end, beta)
            betas[:, t] = beta
            if t > 0:
                back = _logsumexp(trans + (e[:, t] + beta)[:, None, :], 2)  # (b, L)
                beta = np.where(m[:, t, None], back, beta)
        log_z = _logsumexp(alphas[:, -1] + end, 1)  # (b,)
        post = np.exp(alphas + betas - log_z[:, None, None])
        return np.clip(post, 0.0, 1.0) * m[:, :, None]  # exp can overshoot 1 by rounding

    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> tuple[list[list[int]], list[list[float]]]:
        """Viterbi paths and each chosen label's marginal probability, one numpy pass."""
        paths = self.viterbi(emissions, mask)
        e, m = _as_numpy(emissions, mask)
        post = self._marginals(e, m)  # (b, w, L)
        confidences = [post[i, np.arange(len(path)), path].tolist() for i, path in enumerate(paths)]
        return paths, confidences


def _as_numpy(emissions: torch.Tensor, mask: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    return emissions.detach().cpu().double().numpy(), mask.detach().cpu().numpy().astype(bool)


def _logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    top = x.max(axis, keepdims=True)  # finite: forbidden moves score FORBIDDEN, not -inf
    return (top + np.log(np.exp(x - top).sum(axis, keepdims=True))).squeeze(axis)


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

    def loss_rows(self, emissions: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.crf.nll_rows(emissions, labels, mask)  # (b,)

    def log_marginals(self, emissions: torch.Tensor, mask: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        return self.crf.log_marginals(emissions, mask, temperature)  # (b, w, L)

    @torch.no_grad()
    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> tuple[list[list[int]], list[list[float]]]:
        return self.crf.decode(emissions, mask)
