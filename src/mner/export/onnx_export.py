"""ONNX export of a saved mner model (`mner export RUN_DIR --to onnx`) and `OnnxTagger`.

Inside the ONNX graph: subword ids -> encoder -> word gather (first subword, or the
mean of a word's subwords) -> (+ word-shape embedding) -> emission projection, i.e.
`MnerModel.emissions` for text-only and context-fusion (second-segment) models.
Dynamic axes: rows and subwords of the encoder inputs, posts and words of the word
inputs, so one graph serves any batch.

Outside it, in Python/torch, exactly as in `MnerModel`:
  * featurization (strings -> subword ids, word index): string work ONNX has no ops for;
    the same `SubwordFeaturizer` and word-shape function run, so the inputs are identical.
  * decoding: the CRF's Viterbi is a loop over words with data-dependent backtracking,
    exported only as an ONNX Loop with sequence ops that runtimes run slowly, for a step
    that costs words x labels^2 per post (well under 1% of the encoder). Decoding the
    emissions with the model's own head (`CrfHead.decode` / `SoftmaxHead.decode`) keeps the
    paths, and so the spans, identical to the torch model's.
Models with a visual module (pixels, regions, caption encoder) are not exported: their
inputs are built from images in Python per module; context fusion needs none.

Exporter: torch 2.13's default exporter (`dynamo=True`) needs onnxscript; this uses
the TorchScript exporter (`dynamo=False`), which still ships with torch and needs only
`onnx`. The export checks itself: onnxruntime's emissions on an example batch must match
torch's to 1e-4, else it fails.

int8 (`--to onnx-int8`): the encoder is traced with eager attention (explicit
MatMul/Softmax, which onnxruntime's optimizer recognises; SDPA's trace it does not),
verified, fused by onnxruntime's transformer optimizer (embeddings + LayerNorm, attention,
bias + GELU, residual + LayerNorm), then quantized by onnxruntime's dynamic quantization
(`onnxruntime.quantization.quantize_dynamic`): every product with a constant weight
(Q/K/V as one product inside `QAttention`, attention output, feed-forward, emission
projection; the embedding tables inside `QEmbedLayerNormalization`) gets int8 weights
with one scale per output channel, and its input is quantized to uint8 at run time with
one scale per call (so the other posts of a batch move a post's rounding a little; `mner
bench` scores it at several batch sizes); the products run in onnxruntime's integer
kernels (AVX2, AVX-512 or VNNI, whichever the CPU has). Activation x activation products
(attention scores and mixing), softmax, LayerNorm, GELU and the CRF stay fp32, for the
reasons given in `mner.export.int8`. The fused graph ran a few percent faster than the
same quantization over SDPA's unfused trace, at the same F1 (an A/B on the bench machine).
Its emissions are checked against torch's with a loose bound (int8 rounding moves them
by a few hundredths); what it costs in F1 is measured by `mner bench`. The fused ops are
onnxruntime contrib ops: this graph is for onnxruntime, the fp32 export for any ONNX runtime.

A grounded model (`model.grounding`) also outputs its word states from model.onnx, and its
grounding head is a second graph, grounding.onnx (`mner.export.onnx_grounding`): the boxes
come out of onnxruntime too.

Directory: model.onnx, onnx.json (inputs, opset), head.safetensors (the head: CRF
transitions and projection), config.json, labels.json, metrics.json, tokenizer/,
encoder_config/, and grounding.onnx for a grounded model. No pickle.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn

from mner.batching import Batch, make_batch
from mner.data.post import Post
from mner.model_files import ModelFileError, load_state_checked, read_json_file, read_json_object, read_safetensors
from mner.predict import Tagger
from mner.second_segment import segment_fields

FORMAT = "mner.onnx.v1"
OPSET = 17  # LayerNormalization is a single op from 17 on
TOLERANCE = 1e-4
INT8_TOLERANCE = 0.25  # max |emission difference| after int8 rounding, relative to the largest emission


def onnx_input_names(model: Any) -> list[str]:
    """The graph's inputs for this model: only what its forward reads, so none is dead."""
    encoder = model.text_encoder
    names = ["input_ids", "attention_mask"]
    if encoder.uses_token_types:
        names.append("token_type_ids")
    names.append("word_index")
    if encoder.featurizer.pooling == "mean":
        names.append("word_subword_mask")
    if model.word_shape is not None:
        names.append("shape_ids")
    return names


DYNAMIC_AXES = {
    "input_ids": {0: "rows", 1: "subwords"},
    "attention_mask": {0: "rows", 1: "subwords"},
    "token_type_ids": {0: "rows", 1: "subwords"},
    "word_index": {0: "posts", 1: "words", 2: "pieces"},
    "word_subword_mask": {0: "posts", 1: "words", 2: "pieces"},
    "shape_ids": {0: "posts", 1: "words"},
    "emissions": {0: "posts", 1: "words"},
    "word_states": {0: "posts", 1: "words"},
}


def batch_inputs(batch: Batch, names: list[str]) -> dict[str, torch.Tensor]:
    tensors = {**batch.features, "shape_ids": batch.shape_ids}
    return {name: tensors[name] for name in names}


class EmissionGraph(nn.Module):
    """`MnerModel.emissions` with positional tensor inputs, for tracing (no dropout: eval only)."""

    def __init__(self, model: Any, names: list[str], with_states: bool = False):
        super().__init__()
        self.model = model
        self.names = names
        self.with_states = with_states  # a grounded model: the word states are the grounding graph's input

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        given = dict(zip(self.names, inputs))
        states = self.model.text_encoder(given)  # (b, w, d)
        if self.model.word_shape is not None:
            states = torch.cat([states, self.model.word_shape(given["shape_ids"])], dim=-1)  # (b, w, d + s)
        emissions = self.model.head.emissions(states)  # (b, w, L)
        return (emissions, states) if self.with_states else emissions


def _example_posts(model: Any) -> list[Post]:
    # two lengths so padding is traced; a second segment when the model reads one; a made-up word that
    # any subword vocabulary splits, so mean pooling traces its multi-piece branch (a branch on a
    # shape is fixed at trace time; the mean over one piece is that piece, so k = 1 inputs still work)
    second = {field: "a photo of a city" for field in segment_fields(model.second_segment)}
    return [Post(id="a", tokens=["new", "york", "qxzvkwj", "wins", "the", "game"], visual_text=second),
            Post(id="b", tokens=["paris"], visual_text=second)]


def _session(path: Path, threads: int | None = None) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = int(threads or torch.get_num_threads())
    options.inter_op_num_threads = 1  # one graph, run op by op: extra pools only add contention
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def export_onnx(run_dir: str | Path, output: str | Path, opset: int = OPSET, int8: bool = False) -> Path:
    """Write `output/` (see module docstring) from the model in `run_dir`; verify it with onnxruntime.

    `int8`: quantize the verified graph's weight products with onnxruntime (module docstring).
    """
    from mner.checkpoint import atomic_directory, from_pretrained
    from mner.predict import resolve_model_dir

    source = resolve_model_dir(run_dir)
    model = from_pretrained(source)
    if int8:
        _eager_attention(model)
    if model.visual is not None:
        raise ValueError(f"{source}: models with a visual module cannot be exported to ONNX (their image inputs "
                         "are built in Python); text-only and context-fusion models can")
    if model.context is not None or model.knn is not None:
        raise ValueError(f"{source}: models with retrieval (model.neighbours, model.knn) cannot be exported to ONNX: "
                         "their lookups run in Python beside the network")
    if not hasattr(model.text_encoder, "backbone"):
        raise ValueError(f"{source}: ONNX export covers Hugging Face encoders (encoder.hf.v1)")
    names = onnx_input_names(model)
    grounded = model.grounding is not None
    outputs = ["emissions", "word_states"] if grounded else ["emissions"]
    graph = EmissionGraph(model, names, with_states=grounded).eval()
    example = make_batch(model.text_encoder, _example_posts(model), None, model.second_segment)
    if model.text_encoder.featurizer.pooling == "mean" and example.features["word_index"].shape[-1] < 2:
        raise RuntimeError("the example post has no multi-piece word: mean pooling would trace the wrong branch")
    args = tuple(batch_inputs(example, names).values())
    with torch.inference_mode():
        traced = graph(*args)
        emissions, states = traced if grounded else (traced, None)  # (b, w, L), (b, w, f)
        expected = emissions.numpy()
    source_metrics = json.loads((source / "metrics.json").read_text(encoding="utf-8")) \
        if (source / "metrics.json").exists() else {}

    def write(tmp: Path) -> None:
        with warnings.catch_warnings():
            # the TorchScript exporter's deprecation notice and its tracer's notes on shape-derived
            # Python values (constant per model: pooling mode, no KV cache) are expected here
            warnings.simplefilter("ignore")
            torch.onnx.export(graph, args, str(tmp / "model.onnx"), dynamo=False, opset_version=opset,
                              input_names=names, output_names=outputs,
                              dynamic_axes={k: DYNAMIC_AXES[k] for k in [*names, *outputs]},
                              do_constant_folding=True)
        session = _session(tmp / "model.onnx")
        graph_inputs = [i.name for i in session.get_inputs()]  # the exporter drops inputs a graph never reads
        got = session.run(None, {k: v.numpy() for k, v in zip(names, args) if k in graph_inputs})
        gap = float(np.abs(got[0] - expected).max())
        if grounded:  # the grounding graph reads these states: they must match too
            gap = max(gap, float(np.abs(got[1] - states.numpy()).max()))
        if gap > TOLERANCE:
            raise RuntimeError(f"ONNX emissions differ from torch's by {gap:.2e} (> {TOLERANCE}); not exported")
        quantization = None
        if int8:
            quantization = _quantize_int8(tmp / "model.onnx", model.text_encoder.backbone.config)
            session = _session(tmp / "model.onnx")
            got = session.run(None, {k: v.numpy() for k, v in zip(names, args) if k in graph_inputs})
            int8_gap = float(np.abs(got[0] - expected).max())
            quantization["verified_max_abs_diff"] = int8_gap
            if int8_gap > INT8_TOLERANCE * float(np.abs(expected).max()):
                raise RuntimeError(f"int8 ONNX emissions differ from torch's by {int8_gap:.2e} (> {INT8_TOLERANCE} "
                                   "of the largest emission); not exported")
        grounding = None
        if grounded:  # traced on the fp32 states: the int8 graph's states differ, the head's numbers do not
            from mner.export.onnx_grounding import GRAPH, INPUTS, OUTPUTS, example_inputs, export_grounding

            grounding_gap = export_grounding(model.grounding, example_inputs(model.grounding, example.posts, states),
                                             tmp / GRAPH, opset, TOLERANCE)
            grounding = {"graph": GRAPH, "inputs": INPUTS, "outputs": OUTPUTS, "precision": "fp32",
                         "verified_max_abs_diff": grounding_gap}
        head_state = {k: v.detach().contiguous() for k, v in model.head.state_dict().items()}
        save_file(head_state, str(tmp / "head.safetensors"), metadata={"format": "pt"})
        (tmp / "config.json").write_text(json.dumps(model.config, indent=2), encoding="utf-8")
        (tmp / "labels.json").write_text(json.dumps(model.labels), encoding="utf-8")
        (tmp / "metrics.json").write_text(json.dumps({"exported_from": str(source), "fp32_metrics": source_metrics},
                                                     indent=2), encoding="utf-8")
        (tmp / "onnx.json").write_text(json.dumps({
            "format": FORMAT, "inputs": graph_inputs, "outputs": outputs, "opset": opset,
            "inside": "encoder, word gather, word shape, emission projection",
            "outside": "featurization (strings), CRF/softmax decoding (mner head, torch)",
            **({"grounding": grounding} if grounding else {}),
            "verified_max_abs_diff": gap, "exported_from": str(source), "torch": torch.__version__,
            **({"quantization": quantization} if quantization else {}),
        }, indent=2), encoding="utf-8")
        model.text_encoder.save_assets(tmp)

    atomic_directory(Path(output), write)
    return Path(output)


def _eager_attention(model: Any) -> None:
    """Trace attention as explicit MatMul/Softmax ops, the pattern onnxruntime's optimizer fuses
    into one Attention op (then QAttention: one int8 Q/K/V product per layer instead of three
    separately quantized ones). SDPA traces to a form it does not recognise. Same numbers
    either way: the export is verified against the model's own emissions."""
    backbone = model.text_encoder.backbone
    if hasattr(backbone, "set_attn_implementation"):
        try:
            backbone.set_attn_implementation("eager")
        except (ValueError, NotImplementedError):
            pass  # an encoder without an eager path keeps its own; it is simply not fused


def _quantize_int8(path: Path, encoder_config: Any) -> dict[str, Any]:
    """Replace the fp32 graph at `path` with onnxruntime's fused, dynamic int8 version of it."""
    import onnx
    import onnxruntime
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    fp32 = path.with_name("model.fp32.onnx")
    path.rename(fp32)
    # first onnxruntime's transformer fusions (bias + GELU, residual + LayerNorm: fewer passes
    # over memory, and the bias is added in fp32 after the integer product); graph patterns an
    # encoder does not have are simply not fused
    fused = optimize_model(str(fp32), model_type="bert", opt_level=1,
                           num_heads=int(getattr(encoder_config, "num_attention_heads", 0) or 0),
                           hidden_size=int(getattr(encoder_config, "hidden_size", 0) or 0))
    fusions = {k: v for k, v in fused.get_fused_operator_statistics().items() if v}
    fused.save_model_to_file(str(fp32))
    # MatMulConstBOnly: only products with a constant (weight) operand; attention's
    # activation x activation products stay fp32. DefaultTensorType: the fused contrib ops'
    # outputs have no inferred type; they are fp32.
    quantize_dynamic(str(fp32), str(path), weight_type=QuantType.QInt8, per_channel=True,
                     extra_options={"MatMulConstBOnly": True, "DefaultTensorType": 1})
    fp32.unlink()
    ops = sorted({node.op_type for node in onnx.load(str(path)).graph.node})
    return {"tool": f"onnxruntime.quantization.quantize_dynamic (onnxruntime {onnxruntime.__version__})",
            "fusions": fusions, "ops": ops,
            "weights": "int8, symmetric, one scale per output channel",
            "activations": "uint8, one scale per call, computed at run time (DynamicQuantizeLinear)",
            "quantized": "products with a constant weight: Q/K/V (inside QAttention where attention was fused), "
                         "attention output, feed-forward, emission projection; embedding tables where they "
                         "were fused into QEmbedLayerNormalization",
            "fp32": "LayerNorm, GELU, attention scores and softmax, CRF (outside the graph)"}


class _Featurizing:
    """What `make_batch` and the scorer need of a text encoder: its featurizer."""

    def __init__(self, featurizer: Any):
        self.featurizer = featurizer

    def featurize(self, token_lists: list[list[str]], second: list[str | None] | None = None) -> dict:
        return self.featurizer(token_lists, second)


class OnnxModel(nn.Module):
    """Duck-types `MnerModel` for `predict_tags` / `evaluate`: batch, decode, labels, parameters."""

    def __init__(self, session: Any, input_names: list[str], featurizer: Any, head: nn.Module, labels: list[str],
                 second_segment: str | None, encoder_config: Any, config: dict[str, Any], grounding: Any = None):
        super().__init__()
        self.session = session
        self.input_names = input_names
        self.text_encoder = _Featurizing(featurizer)
        self.head = head  # decoding runs here, in torch (module docstring)
        self.labels = list(labels)
        self.label_index = {label: i for i, label in enumerate(self.labels)}
        self.second_segment = second_segment
        self.visual = None
        self.grounding = grounding  # OnnxGrounding for a grounded model, else None
        self.encoder_config = encoder_config
        self.config = config

    @classmethod
    def load(cls, directory: str | Path, threads: int | None = None) -> "OnnxModel":
        from transformers import AutoConfig

        from mner.builders import build_head, featurizer_options
        from mner.modules.hf_text_encoder import _load_tokenizer
        from mner.modules.subword_featurizer import SubwordFeaturizer

        directory = Path(directory)
        spec_path = directory / "onnx.json"
        if not spec_path.exists():
            raise FileNotFoundError(f"{directory} is not an mner ONNX export: onnx.json is missing")
        spec = read_json_object(spec_path)
        config = read_json_object(directory / "config.json")
        labels = read_json_file(directory / "labels.json")
        enc = config["model"]["encoder"]
        # the same featurizer arguments as builders.build_text_encoder
        featurizer = SubwordFeaturizer(_load_tokenizer(str(directory / "tokenizer")), **featurizer_options(enc))
        head_state = read_safetensors(directory / "head.safetensors")
        if "proj.weight" not in head_state:
            raise ModelFileError(directory / "head.safetensors", "has no proj.weight: not an mner head")
        head = build_head(config["model"]["head"], int(head_state["proj.weight"].shape[1]), labels)
        load_state_checked(head, head_state, directory / "head.safetensors")
        try:
            session = _session(directory / "model.onnx", threads)
        except Exception as err:  # noqa: BLE001 - onnxruntime raises its own types (InvalidProtobuf, Fail, ...)
            raise ModelFileError(directory / "model.onnx", f"onnxruntime cannot load it ({err}): truncated or "
                                 "damaged?") from None
        grounding = None
        if spec.get("grounding"):  # a grounded model's second graph (mner.export.onnx_grounding)
            from mner.export.onnx_grounding import OnnxGrounding

            grounding = OnnxGrounding.load(directory, config["model"]["grounding"],
                                           int(head_state["proj.weight"].shape[1]), labels, threads)
        return cls(session, spec["inputs"], featurizer, head.eval(), labels,
                   config["model"].get("second_segment"), AutoConfig.from_pretrained(directory / "encoder_config"),
                   config, grounding)

    def batch(self, posts: list[Post], with_labels: bool = True) -> Batch:
        return make_batch(self.text_encoder, posts, self.label_index if with_labels else None, self.second_segment,
                          grounding=self.grounding)

    def outputs(self, batch: Batch) -> list[torch.Tensor]:
        """emissions (b, w, L), and for a grounded model word_states (b, w, f)."""
        feed = {k: v.numpy() for k, v in batch_inputs(batch, self.input_names).items()}
        return [torch.from_numpy(a) for a in self.session.run(None, feed)]

    def emissions(self, batch: Batch) -> torch.Tensor:
        return self.outputs(batch)[0]  # (b, w, L)

    @torch.inference_mode()
    def decode(self, batch: Batch) -> tuple[list[list[str]], list[list[float]]]:
        paths, confidences = self.head.decode(self.emissions(batch), batch.mask)
        return [[self.labels[i] for i in path] for path in paths], confidences

    @torch.inference_mode()
    def decode_grounded(self, batch: Batch) -> tuple[list[list[str]], list[list[float]], list[list[Any]]]:
        """`MnerModel.decode_grounded` over the two graphs: tags, confidences, (box or None, score) per entity."""
        from mner.data.tags import bio_to_spans

        emissions, *states = self.outputs(batch)
        paths, confidences = self.head.decode(emissions, batch.mask)
        tags = [[self.labels[i] for i in path] for path in paths]
        if self.grounding is None or batch.grounding_features is None:
            return tags, confidences, [[] for _ in tags]
        features = {**batch.grounding_features, **self.grounding.span_tensors([bio_to_spans(t) for t in tags])}
        return tags, confidences, self.grounding.predict(states[0], features)


class OnnxTagger(Tagger):
    """`Tagger` over onnxruntime: `OnnxTagger.load(dir).predict_many(posts)` gives the same Entity lists."""

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu", batch_size: int = 64,  # type: ignore[override]
             threads: int | None = None) -> "OnnxTagger":
        if device != "cpu":
            raise ValueError("OnnxTagger runs on onnxruntime's CPU provider")
        return cls(OnnxModel.load(path, threads), batch_size)
