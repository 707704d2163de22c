"""Training precision: fp32, bf16 autocast, or fp16 autocast with dynamic loss scaling.

Training precisions are not inference precisions (`mner.precision.PRECISIONS`): a model
trained in any of them is saved as plain fp32 weights and runs at fp32, bf16 or int8.

fp32 and bf16 run exactly as before this module existed: autocast (bf16 only) around the
forward and loss, then `loss.backward()` and `optimizer.step()`; no scaler, no extra work.

fp16 (for GPUs without bf16, e.g. V100 and T4) has a 5-bit exponent: gradients below ~6e-8
flush to zero and values above 65504 overflow. So the loss is multiplied by a scale before
backward (`torch.amp.GradScaler`; 2^16 to start, or `train.loss_scale`) to lift small gradients into range, and the
gradients are divided by it again before clipping (`unscale`), so `train.grad_clip` limits
the true gradient norm. A step whose gradients hold an inf or NaN is skipped (weights and
AdamW's moments untouched) and the scale halves; after 2000 clean steps in a row it doubles.

The learning-rate schedule counts batches, not applied steps: a skipped step still moves the
schedule on. Skips are rare (the first few steps while the scale finds its level, then about
one per 2000 steps when a doubling overshoots), and a schedule that is a function of the
batch index keeps resume exact (`mner.training.schedule`), where counting applied steps
would need its own saved counter and would leave linear decay short of zero at the end.

Across processes (`mner.distributed`) every process holds the same scale: gradients are
summed before `unscale`, so an inf on any process is an inf on all of them, and all skip the
same steps. The scaler's state (a few numbers) is saved as JSON in the training checkpoint's
progress (`state_dict`), so a resumed run continues with the scale it had.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import torch

from mner.precision import precision_context

TRAINING_PRECISIONS = ("fp32", "bf16", "fp16")
SCALER_KEYS = ("scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker")


def check_training_precision(precision: str) -> str:
    if precision not in TRAINING_PRECISIONS:
        raise ValueError(f"train.precision: unknown precision {precision!r} (from the config or accelerate launch "
                         f"--mixed_precision); choose from {', '.join(TRAINING_PRECISIONS)}")
    return precision


class TrainingPrecision:
    """The autocast around forward + loss and, in fp16, the loss scaler around backward and the step."""

    def __init__(self, precision: str, device: torch.device | str = "cpu", init_scale: float | None = None):
        self.precision = check_training_precision(precision)
        self.device = torch.device(device)
        if init_scale is not None and (isinstance(init_scale, bool) or not isinstance(init_scale, (int, float))
                                       or not init_scale > 0):
            raise ValueError(f"train.loss_scale must be a number above 0, not {init_scale!r}")
        self.scaler = (torch.amp.GradScaler(self.device.type, init_scale=float(init_scale or 2.0**16))
                       if precision == "fp16" else None)
        self.skipped_steps = 0  # in this process's lifetime (not saved: a count for the log)

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        if self.precision != "fp16":
            with precision_context(self.precision, self.device):
                yield
            return
        with torch.autocast(device_type=self.device.type, dtype=torch.float16):
            yield

    def backward(self, loss: torch.Tensor) -> None:
        (self.scaler.scale(loss) if self.scaler is not None else loss).backward()

    def unscale(self, optimizer: torch.optim.Optimizer) -> None:
        """Divide the gradients by the loss scale (before clipping, so the clip sees true norms)."""
        if self.scaler is not None:
            self.scaler.unscale_(optimizer)

    def step(self, optimizer: torch.optim.Optimizer) -> bool:
        """Apply the gradients; False when fp16 found an inf/NaN among them and skipped the step."""
        if self.scaler is None:
            optimizer.step()
            return True
        before = self.scaler.get_scale()
        self.scaler.step(optimizer)  # unscales first if `unscale` was not called
        self.scaler.update()
        # update() lowers the scale exactly when this step found an inf/NaN and was skipped
        applied = self.scaler.get_scale() >= before
        self.skipped_steps += 0 if applied else 1
        return applied

    def loss_scale(self) -> float | None:
        return self.scaler.get_scale() if self.scaler is not None else None

    def state_dict(self) -> dict[str, Any] | None:
        """The scaler's numbers (JSON), None without a scaler."""
        return dict(self.scaler.state_dict()) if self.scaler is not None else None

    def load_state_dict(self, state: dict[str, Any] | None, source: str = "the checkpoint") -> None:
        """Continue with a saved scale; nothing to do without a scaler or a saved state."""
        if self.scaler is None or state is None:
            return
        if not isinstance(state, dict) or any(not isinstance(state.get(k), (int, float)) for k in SCALER_KEYS):
            raise ValueError(f"{source}: grad_scaler must hold the numbers {', '.join(SCALER_KEYS)}, not {state!r}")
        self.scaler.load_state_dict({k: state[k] for k in SCALER_KEYS})
