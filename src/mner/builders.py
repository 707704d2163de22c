"""Config -> modules. The only place a config meets a constructor.

Component names are versioned (`head.crf.v1`) so old configs and
checkpoints keep loading when a component changes: a new behaviour gets a
new name, the old name keeps the old behaviour.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from mner._quiet import quiet_transformers
from mner.data.post import Post
from mner.model import MnerModel
from mner.modules.heads.crf import CrfHead
from mner.modules.heads.softmax import SoftmaxHead
from mner.modules.word_shape import WordShapeEmbedding
from mner.presets import resolve_model_name
from mner.second_segment import segment_fields

ENCODERS = ("encoder.hf.v1", "encoder.bilstm.v1", "encoder.hf_decoder.v1")
HEADS = ("head.crf.v1", "head.softmax.v1")


def build_text_encoder(cfg: dict[str, Any], train_posts: list[Post] | None = None,
                       saved_dir: Path | None = None) -> nn.Module:
    """A fresh pretrained encoder, or (with `saved_dir`) the saved architecture."""
    name = cfg.get("name", "encoder.hf.v1")
    if name == "encoder.hf.v1":
        from mner.modules.hf_text_encoder import HfTextEncoder

        quiet_transformers()
        kwargs = featurizer_options(cfg)
        if saved_dir is not None:
            encoder = HfTextEncoder.from_saved(saved_dir, **kwargs)
        else:
            encoder = HfTextEncoder.from_name(resolve_model_name(cfg["model"]), **kwargs)
        if cfg.get("freeze_word_embeddings"):
            encoder.freeze_word_embeddings()
        return encoder
    if name == "encoder.bilstm.v1":
        from mner.modules.bilstm_encoder import BiLstmEncoder, WordVocab, load_vectors

        dim = int(cfg.get("embedding_dim", 100))
        vectors = None
        if saved_dir is not None:
            vocab = WordVocab.load(saved_dir / "vocab.json")
        else:
            if not train_posts:
                raise ValueError("encoder.bilstm.v1 builds its vocabulary from training posts; none given")
            vocab = WordVocab.build([p.tokens for p in train_posts], int(cfg.get("min_count", 1)))
            if cfg.get("vectors"):
                vectors, _ = load_vectors(cfg["vectors"], vocab, dim)
        return BiLstmEncoder(vocab, dim, int(cfg.get("hidden_size", 200)), int(cfg.get("num_layers", 1)),
                             float(cfg.get("dropout", 0.3)), vectors)
    if name == "encoder.hf_decoder.v1":
        from mner.builders_decoder import build_decoder_encoder

        return build_decoder_encoder(cfg, saved_dir)
    raise ValueError(f"unknown text encoder {name!r}; choose from {ENCODERS}")


def featurizer_options(cfg: dict[str, Any]) -> dict[str, Any]:
    """`model.encoder` -> the subword featurizer's settings (the ONNX runtime reads the same)."""
    second_max = cfg.get("second_max_length")
    url = cfg.get("url_placeholder")
    return {"pooling": cfg.get("pooling", "first"), "max_length": int(cfg.get("max_length", 256)),
            "second_max_length": int(second_max) if second_max else None,
            "url_placeholder": str(url) if url is not None else None}


def class_weights(labels: list[str], posts: list[Post]) -> torch.Tensor:
    """Inverse square-root label frequency, normalised to mean 1 (rare labels weigh more)."""
    counts = torch.ones(len(labels))
    index = {label: i for i, label in enumerate(labels)}
    for post in posts:
        for tag in post.tags or []:
            counts[index[tag]] += 1
    weights = counts.rsqrt()
    return weights / weights.mean()


def build_head(cfg: dict[str, Any], input_dim: int, labels: list[str], weights: torch.Tensor | None = None) -> nn.Module:
    name = cfg.get("name", "head.crf.v1")
    if name == "head.crf.v1":
        if weights is not None:
            raise ValueError("class weighting applies to head.softmax.v1; the CRF scores whole sequences")
        return CrfHead(input_dim, labels)
    if name == "head.softmax.v1":
        return SoftmaxHead(input_dim, len(labels), weights)
    raise ValueError(f"unknown head {name!r}; choose from {HEADS}")


def build_model(model_cfg: dict[str, Any], labels: list[str], train_posts: list[Post] | None = None,
                saved_dir: Path | None = None, use_class_weights: bool = False) -> MnerModel:
    encoder = build_text_encoder(model_cfg["encoder"], train_posts, saved_dir)
    shape_dim = int(model_cfg.get("word_shape_dim", 0) or 0)
    word_shape = WordShapeEmbedding(shape_dim) if shape_dim > 0 else None
    # on load the saved `class_weights` buffer restores the weights, so none are computed
    weights = class_weights(labels, train_posts) if use_class_weights and train_posts and saved_dir is None else None
    word_dim = encoder.hidden_size + shape_dim
    visual = fusion = prompt = None
    if model_cfg.get("visual"):
        from mner.builders_visual import build_fusion_module, build_visual

        if model_cfg["visual"].get("name") == "visual.relation_graph.v1":  # retrieval: needs the training posts
            from mner.builders_retrieval import build_relation_graphs

            visual = build_relation_graphs(model_cfg["visual"], train_posts, saved_dir)
        else:
            visual = build_visual(model_cfg["visual"], encoder, saved_dir)
        fusion_cfg = model_cfg.get("fusion") or {"name": "fusion.cross_attention.v1"}
        if fusion_cfg["name"] == "fusion.visual_prompt.v1":
            from mner.builders_visual import build_visual_prompt

            prompt = build_visual_prompt(fusion_cfg, encoder, visual.output_dim)
            fusion_cfg = {"name": "fusion.text_only.v1"}  # the image already reached every layer
        fusion = build_fusion_module(fusion_cfg, word_dim, visual.output_dim)
        word_dim = fusion.output_dim
    elif model_cfg.get("fusion"):
        raise ValueError("model.fusion needs a model.visual module to fuse with")
    head = build_head(model_cfg["head"], word_dim, labels, weights)
    grounding = None
    if model_cfg.get("grounding"):
        from mner.grounding.builders import build_grounding

        grounding = build_grounding(model_cfg["grounding"], word_dim, labels)
    context = None
    if model_cfg.get("neighbours"):
        from mner.builders_retrieval import build_neighbour_context

        context = build_neighbour_context(model_cfg["neighbours"], encoder, train_posts, saved_dir)
    knn = None
    if model_cfg.get("knn"):
        from mner.builders_retrieval import build_knn

        knn = build_knn(model_cfg["knn"], saved_dir)
    segment_fields(model_cfg.get("second_segment"))  # a malformed value fails here, before any training
    model = MnerModel(encoder, head, labels, word_shape, float(model_cfg.get("dropout", 0.1)),
                      model_cfg.get("second_segment"), visual, fusion, prompt, grounding=grounding, context=context,
                      knn=knn)
    model.config = {"model": model_cfg}
    return model
