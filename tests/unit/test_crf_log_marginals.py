"""The differentiable CRF posteriors agree with the numpy forward-backward, and carry gradients."""

import torch

from mner.modules.heads.crf import CrfHead
from mner.modules.heads.softmax import SoftmaxHead

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def _head_and_inputs(seed=0):
    torch.manual_seed(seed)
    head = CrfHead(8, LABELS)
    with torch.no_grad():
        head.crf.transitions.normal_()
        head.crf.start.normal_()
        head.crf.end.normal_()
    emissions = torch.randn(3, 6, len(LABELS))
    mask = torch.tensor([[1] * 6, [1] * 4 + [0] * 2, [1] + [0] * 5], dtype=torch.bool)
    return head, emissions, mask


def test_log_marginals_match_numpy_forward_backward():
    head, emissions, mask = _head_and_inputs()
    torch_post = head.log_marginals(emissions, mask).exp() * mask.unsqueeze(-1)
    numpy_post = head.crf.marginals(emissions, mask)
    assert torch.allclose(torch_post, numpy_post, atol=1e-5)
    sums = torch_post.sum(-1)[mask]
    assert torch.allclose(sums, torch.ones_like(sums), atol=1e-5)


def test_temperature_softens_and_gradients_flow():
    head, emissions, mask = _head_and_inputs(1)
    emissions.requires_grad_(True)
    sharp = head.log_marginals(emissions, mask).exp()
    soft = head.log_marginals(emissions, mask, temperature=4.0).exp()
    entropy = lambda p: -(p * p.clamp_min(1e-12).log()).sum(-1)[mask].mean()  # noqa: E731
    assert entropy(soft) > entropy(sharp)
    (soft[mask][:, 1]).sum().backward()
    assert emissions.grad is not None and emissions.grad.abs().sum() > 0
    assert head.crf.transitions.grad is not None


def test_row_losses_average_to_the_batch_loss():
    head, emissions, mask = _head_and_inputs(2)
    labels = torch.randint(0, 1, (3, 6))  # all O: always a legal path
    assert torch.allclose(head.loss_rows(emissions, labels, mask).mean(), head.loss(emissions, labels, mask))
    soft = SoftmaxHead(8, len(LABELS))
    rows = soft.loss_rows(emissions, labels, mask)
    assert rows.shape == (3,) and torch.all(rows > 0)
    assert torch.allclose(soft.log_marginals(emissions, mask).exp().sum(-1), torch.ones(3, 6), atol=1e-6)
