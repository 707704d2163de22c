"""A tiny task only a fusion of both sides can solve, trained on CPU.

Each post has an image class c in {0, 1, 2}, written into its first visual
token (always real); each word carries an "entity" bit in its state. The tag is
O for a non-entity word and type c for an entity word. So:
  text only   knows entity vs O, not the type     -> loss ~ 0.5 ln 3 = 0.55
  visual only knows the type, not which word      -> loss ~ ln 2 = 0.69
  a fusion    can know both                       -> loss -> 0
Fresh posts every step (nothing to memorise); the loss is measured on held-out posts.
"""

from __future__ import annotations

import time

import pytest
import torch
from fusion_cases import TEXT_DIM, VISUAL_DIM, make
from torch import nn

from mner.modules.interfaces import VisualTokens

CLASSES, WORDS, TOKENS, STEPS = 3, 6, 3, 200
MULTIMODAL = ("fusion.linear.v1", "fusion.cross_attention.v1", "fusion.partial.v1")


def synthetic_batch(g: torch.Generator, b: int = 32) -> tuple[torch.Tensor, torch.Tensor, VisualTokens, torch.Tensor]:
    words = torch.randn(b, WORDS, TEXT_DIM, generator=g)  # (b, w, d)
    entity = torch.rand(b, WORDS, generator=g) < 0.5  # (b, w)
    words[..., 0] += 5.0 * entity  # the entity bit lives in the text
    word_mask = torch.arange(WORDS) < torch.randint(1, WORDS + 1, (b, 1), generator=g)  # (b, w)

    cls = torch.randint(0, CLASSES, (b,), generator=g)  # (b,)
    tokens = torch.randn(b, TOKENS, VISUAL_DIM, generator=g)  # (b, v, d_vis)
    visual_mask = torch.arange(TOKENS) < torch.randint(1, TOKENS + 1, (b, 1), generator=g)  # (b, v)
    tokens[torch.arange(b), 0, cls] += 4.0  # the type lives in the image ("no image" slot 0 is always real)
    labels = torch.where(entity, cls.unsqueeze(1) + 1, 0)  # (b, w): 0 = O, 1 + c = type c
    return words, word_mask, VisualTokens(tokens, visual_mask), labels


class Adam:
    """Plain Adam, written out: the first `torch.optim` optimizer in a process imports
    torch._dynamo (2-3 s on a shared CPU), longer than these trainings take."""

    def __init__(self, params: list[nn.Parameter], lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        self.params, self.lr, self.betas, self.eps, self.t = params, lr, betas, eps, 0
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        for p, m, v in zip(self.params, self.m, self.v):
            if p.grad is None:
                continue
            m.mul_(b1).add_(p.grad, alpha=1 - b1)
            v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
            denom = (v / (1 - b2**self.t)).sqrt_().add_(self.eps)
            p.addcdiv_(m, denom, value=-self.lr / (1 - b1**self.t))


def held_out_loss_after_training(name: str) -> float:
    fusion = make(name, seed=0)
    torch.manual_seed(0)
    head = nn.Linear(fusion.output_dim, CLASSES + 1)
    optimizer = Adam(list(fusion.parameters()) + list(head.parameters()), lr=1e-2)
    g = torch.Generator().manual_seed(0)

    def loss_on(batch) -> torch.Tensor:
        words, word_mask, visual, labels = batch
        logits = head(fusion(words, word_mask, visual))  # (b, w, L)
        return nn.functional.cross_entropy(logits[word_mask], labels[word_mask])

    for _ in range(STEPS):
        optimizer.zero_grad()
        loss_on(synthetic_batch(g)).backward()
        optimizer.step()
    fusion.eval()
    with torch.no_grad():
        return loss_on(synthetic_batch(torch.Generator().manual_seed(99), b=256)).item()


@pytest.fixture(scope="module")
def text_only_loss() -> float:
    return held_out_loss_after_training("fusion.text_only.v1")


def test_text_only_learns_what_the_text_tells(text_only_loss):
    assert 0.4 < text_only_loss < 0.8  # ~0.5 ln 3: it cannot know the type


def test_visual_only_learns_what_the_image_tells():
    loss = held_out_loss_after_training("fusion.visual_only.v1")
    assert 0.55 < loss < 0.9  # ~ln 2: it knows the type, not which words are entities


@pytest.mark.parametrize("name", MULTIMODAL)
def test_multimodal_fusion_learns_the_image_dependent_tags(name, text_only_loss):
    # CPU time of this process (one thread, see conftest): wall time on a shared box measures the neighbours.
    start = time.process_time()
    loss = held_out_loss_after_training(name)
    elapsed = time.process_time() - start
    assert loss < 0.3 * text_only_loss, f"{name}: held-out loss {loss:.3f} vs text-only {text_only_loss:.3f}"
    assert elapsed < 3.0, f"{name} took {elapsed:.1f}s of CPU"
