"""The grounding head in an ONNX export (`mner export` of a model with `model.grounding`).

A grounded model is exported as two graphs, because the spans the grounding head scores are
the decoded entities, and decoding runs outside the graph (`mner.export.onnx_export`):

    model.onnx      encoder inputs -> emissions (b, w, L) and word_states (b, w, f)
    grounding.onnx  word_states, spans, candidate regions -> region_logits (b, e, k), groundable (b, e)

Between them, in Python: decoding (the head, as for any export), spans -> span_index /
span_type, and region featurization (reading `post.regions`, image sizes from file headers);
after them the same rule as the torch head (`mner.grounding.head.choose_regions`). The region
featurization is `GroundingHead.featurize` of a head built from the saved config: a data path
with no weights in it (the weights live in grounding.onnx).

`--to onnx-int8` quantizes model.onnx only: grounding.onnx stays fp32. It is a few small
products per entity (hidden 256 against the encoder's layers), and its answer is an argmax
over candidate scores that are often close, so int8 there would save nothing measurable
and could only move a box.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from mner.data.post import Region

GRAPH = "grounding.onnx"
INPUTS = ["word_states", "span_index", "span_type", "region_features", "region_geometry", "region_image",
          "region_mask", "has_region"]
OUTPUTS = ["region_logits", "groundable"]
DYNAMIC_AXES = {
    "word_states": {0: "posts", 1: "words"},
    "span_index": {0: "posts", 1: "spans"},
    "span_type": {0: "posts", 1: "spans"},
    "region_features": {0: "posts", 1: "regions"},
    "region_geometry": {0: "posts", 1: "regions"},
    "region_image": {0: "posts", 1: "regions"},
    "region_mask": {0: "posts", 1: "regions"},
    "has_region": {0: "posts"},
    "region_logits": {0: "posts", 1: "spans", 2: "regions"},
    "groundable": {0: "posts", 1: "spans"},
}


class GroundingGraph(nn.Module):
    """`GroundingHead.forward` with positional tensor inputs, for tracing (eval only)."""

    def __init__(self, head: nn.Module):
        super().__init__()
        self.head = head

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        given = dict(zip(INPUTS, inputs))
        return self.head(given["word_states"], given)  # (b, e, k), (b, e)


def example_inputs(head: Any, posts: list[Any], states: torch.Tensor) -> dict[str, torch.Tensor]:
    """The grounding graph's inputs for the export's example posts, given their word states (b, w, f).

    The first post gets three candidate regions (random features) and two spans, the second none and
    one span: padding of spans and regions and both sides of "has a region" are traced."""
    generator = torch.Generator().manual_seed(0)
    dim = head.regions.feature_dim
    boxes = [(10.0, 10.0, 60.0, 80.0), (0.0, 40.0, 30.0, 90.0), (50.0, 0.0, 100.0, 50.0)]
    posts = [replace(posts[0], regions=[Region(box, score=0.9 - 0.1 * i,
                                               feature=torch.randn(dim, generator=generator).numpy())
                                        for i, box in enumerate(boxes)]),
             replace(posts[1], regions=[])]
    types = head.types or ["ENTITY"]
    spans = [[(0, 2, types[0]), (3, 4, types[-1])], [(0, 1, types[0])]]
    features = {**head.regions.featurize(posts), **head.span_tensors(spans)}
    return {"word_states": states, **{name: features[name] for name in INPUTS[1:]}}


def export_grounding(head: nn.Module, inputs: dict[str, torch.Tensor], path: Path, opset: int,
                     tolerance: float) -> float:
    """Trace `head` to `path` and check onnxruntime's outputs against torch's; the largest gap."""
    import warnings

    from mner.export.onnx_export import _session

    graph = GroundingGraph(head).eval()
    args = tuple(inputs[name] for name in INPUTS)
    with torch.inference_mode():
        expected = [t.numpy() for t in graph(*args)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's notices (see onnx_export)
        torch.onnx.export(graph, args, str(path), dynamo=False, opset_version=opset, input_names=INPUTS,
                          output_names=OUTPUTS, dynamic_axes=DYNAMIC_AXES, do_constant_folding=True)
    session = _session(path)
    got = session.run(None, {i.name: inputs[i.name].numpy() for i in session.get_inputs()})
    gap = max(_gap(g, e) for g, e in zip(got, expected))
    if gap > tolerance:
        raise RuntimeError(f"ONNX grounding scores differ from torch's by {gap:.2e} (> {tolerance}); not exported")
    return gap


def _gap(got: np.ndarray, expected: np.ndarray) -> float:
    """Largest |difference|; -inf (padding) must be -inf in both."""
    finite = np.isfinite(expected)
    if not np.array_equal(finite, np.isfinite(got)):
        return float("inf")
    return float(np.abs(got[finite] - expected[finite]).max()) if finite.any() else 0.0


class OnnxGrounding:
    """Duck-types `GroundingHead` for `make_batch` and `decode_grounded`: featurize in Python, score in ONNX."""

    def __init__(self, session: Any, head: Any):
        self.session = session
        self.head = head  # featurization only: its weights are never used (module docstring)
        self.types = head.types

    @classmethod
    def load(cls, directory: Path, config: dict[str, Any], word_dim: int, labels: list[str],
             threads: int | None = None) -> "OnnxGrounding":
        from mner.export.onnx_export import _session
        from mner.grounding.builders import build_grounding
        from mner.model_files import ModelFileError

        try:
            session = _session(directory / GRAPH, threads)
        except Exception as err:  # noqa: BLE001 - onnxruntime raises its own types
            raise ModelFileError(directory / GRAPH, f"onnxruntime cannot load it ({err}): truncated or "
                                 "damaged?") from None
        return cls(session, build_grounding(config, word_dim, labels).eval())

    def featurize(self, posts: list[Any]) -> dict[str, torch.Tensor]:
        return self.head.featurize(posts)

    def span_tensors(self, spans: list[list[tuple[int, int, str]]]) -> dict[str, torch.Tensor]:
        return self.head.span_tensors(spans)

    def predict(self, states: torch.Tensor, features: dict[str, torch.Tensor]) -> list[list[Any]]:
        from mner.grounding.head import choose_regions

        tensors = {"word_states": states.float(), **features}
        feed = {i.name: tensors[i.name].numpy() for i in self.session.get_inputs()}
        region_logits, groundable = (torch.from_numpy(a) for a in self.session.run(None, feed))
        return choose_regions(region_logits, groundable, features)
