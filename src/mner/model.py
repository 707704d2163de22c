"""MnerModel: text encoder (+ word shape) (+ fusion) -> head, composed from parts.

The model never sees a config: builders (`mner.builders`) construct the parts
and hand them in. `save_pretrained`/`from_pretrained` live in
`mner.checkpoint` so this file stays about the forward pass.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from mner.batching import Batch, make_batch
from mner.modules.visual_prompt import prompts_active
from mner.modules.word_shape import WordShapeEmbedding


class MnerModel(nn.Module):
    def __init__(self, text_encoder: nn.Module, head: nn.Module, labels: list[str],
                 word_shape: WordShapeEmbedding | None = None, dropout: float = 0.1,
                 second_segment: str | list[str] | None = None, visual: nn.Module | None = None,
                 fusion: nn.Module | None = None, prompt: nn.Module | None = None,
                 grounding: nn.Module | None = None, context: Any | None = None, knn: Any | None = None):
        super().__init__()
        if (visual is None) != (fusion is None):
            raise ValueError("a visual module and a fusion come together")
        self.text_encoder = text_encoder
        self.word_shape = word_shape
        self.visual = visual
        self.fusion = fusion
        self.prompt = prompt  # visual prefix keys/values for every encoder layer (optional)
        self.head = head
        self.grounding = grounding  # entity -> region or "none" (mner.grounding; optional)
        self.labels = list(labels)
        self.label_index = {label: i for i, label in enumerate(self.labels)}
        self.dropout = nn.Dropout(dropout)
        self.second_segment = second_segment
        # posts -> posts with retrieved visual text (labelled neighbours, mner.retrieval); not a module:
        # it holds an index, not weights, and is saved beside them
        self.context = context
        self.knn = knn  # word-state datastore mixed into the emissions at inference (mner.retrieval.knn)
        self.config: dict[str, Any] = {}  # set by the builder; saved with the weights

    def batch(self, posts: list, with_labels: bool = True) -> Batch:
        if self.context is not None:
            posts = self.context(posts, training=self.training)
        batch = make_batch(self.text_encoder, posts, self.label_index if with_labels else None, self.second_segment,
                           self.visual, self.grounding)
        device = next(self.parameters()).device
        return batch if device.type == "cpu" else batch.to(device)  # a GPU training step (mner.distributed)

    def word_states(self, batch: Batch) -> torch.Tensor:
        """(b, w, f) what the head reads: encoder states (+ word shape) (+ fusion with the image)."""
        visual = self.visual(batch.visual_features) if self.visual is not None else None  # (b, v, dv), (b, v)
        if self.prompt is not None and visual is not None:
            with prompts_active(self.prompt(visual)):
                states = self.text_encoder(batch.features)  # (b, w, d) words that saw the image in every layer
        else:
            states = self.text_encoder(batch.features)  # (b, w, d)
        if self.word_shape is not None:
            states = torch.cat([states, self.word_shape(batch.shape_ids)], dim=-1)  # (b, w, d + s)
        if visual is not None:  # the constructor guarantees a fusion comes with a visual module
            states = self.fusion(states, batch.mask, visual)  # (b, w, f)
        return states

    def emissions(self, batch: Batch) -> torch.Tensor:
        return self.emissions_of(self.word_states(batch), batch)  # (b, w, L)

    def emissions_of(self, states: torch.Tensor, batch: Batch) -> torch.Tensor:
        """(b, w, L) from word states (b, w, f); at inference mixed with the kNN datastore's labels."""
        emissions = self.head.emissions(self.dropout(states))  # (b, w, L)
        if self.knn is not None and not self.training:  # kNN tagging: an inference-time mixture, no training
            emissions = self.knn.mix(emissions, states, batch.mask)
        return emissions

    def loss(self, batch: Batch) -> torch.Tensor:
        if batch.labels is None:
            raise ValueError("this batch has no gold tags")
        states = self.dropout(self.word_states(batch))  # (b, w, f)
        loss = self.head.loss(self.head.emissions(states), batch.labels, batch.mask)
        if self.grounding is not None and batch.grounding_features is not None:
            loss = loss + self.grounding.loss(states, batch.grounding_features)  # weighted by its config
        return loss

    @torch.inference_mode()
    def decode(self, batch: Batch) -> tuple[list[list[str]], list[list[float]]]:
        """Predicted tags and per-word confidences for each post."""
        paths, confidences = self.head.decode(self.emissions(batch), batch.mask)
        return [[self.labels[i] for i in path] for path in paths], confidences

    @torch.inference_mode()
    def decode_grounded(self, batch: Batch) -> tuple[list[list[str]], list[list[float]], list[list[Any]]]:
        """Tags, confidences and, per predicted entity (in span order), its (box or None, score)."""
        from mner.data.tags import bio_to_spans

        states = self.word_states(batch)  # (b, w, f)
        paths, confidences = self.head.decode(self.emissions_of(states, batch), batch.mask)
        tags = [[self.labels[i] for i in path] for path in paths]
        if self.grounding is None or batch.grounding_features is None:
            return tags, confidences, [[] for _ in tags]
        features = {**batch.grounding_features,
                    **{k: v.to(states.device) for k, v in self.grounding.span_tensors(
                        [bio_to_spans(t) for t in tags]).items()}}
        return tags, confidences, self.grounding.predict(states, features)

    def parameter_groups(self) -> dict[str, list[tuple[str, nn.Parameter]]]:
        """Named parameters per module group, for per-module learning rates."""
        groups: dict[str, list[tuple[str, nn.Parameter]]] = {}
        for name, param in self.named_parameters():
            if not param.requires_grad:
                continue
            prefix = name.split(".", 1)[0]
            group = {"text_encoder": "encoder", "visual": "visual", "fusion": "fusion",
                     "prompt": "fusion"}.get(prefix, "head")
            groups.setdefault(group, []).append((name, param))
        return groups
