"""Any Hugging Face encoder (BERT, RoBERTa, BERTweet, XLM-R, DeBERTa) as a word encoder.

The module owns its featurizer (tokenizer + word alignment) so the rest of
mner only ever sees words. Word states are gathered from the subword states
by flat index: first subword (default) or the mean of a word's subwords.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from mner.modules.subword_featurizer import SubwordFeaturizer


def _load_tokenizer(name_or_path: str) -> Any:
    from transformers import AutoTokenizer

    try:  # byte-level BPE tokenizers need a prefix space to tokenize pre-split words
        return AutoTokenizer.from_pretrained(name_or_path, add_prefix_space=True)
    except (TypeError, ValueError):
        return AutoTokenizer.from_pretrained(name_or_path)


class HfTextEncoder(nn.Module):
    """Encodes posts into word states `(b, w, d)`."""

    def __init__(self, backbone: nn.Module, tokenizer: Any, pooling: str = "first", max_length: int = 256,
                 second_max_length: int | None = None, url_placeholder: str | None = None):
        super().__init__()
        self.backbone = backbone
        self.tokenizer = tokenizer
        self.featurizer = SubwordFeaturizer(tokenizer, max_length, pooling, second_max_length, url_placeholder)
        self.hidden_size = int(backbone.config.hidden_size)
        self.uses_token_types = int(getattr(backbone.config, "type_vocab_size", 0) or 0) > 1

    @classmethod
    def from_name(cls, name_or_path: str, pooling: str = "first", max_length: int = 256,
                  second_max_length: int | None = None, url_placeholder: str | None = None) -> "HfTextEncoder":
        """Pretrained weights from a hub id or a local directory."""
        from transformers import AutoModel

        options = {"add_pooling_layer": False} if _is_bert_like(name_or_path) else {}
        backbone = AutoModel.from_pretrained(name_or_path, use_safetensors=True, **options)  # never a pickled .bin
        return cls(backbone, _load_tokenizer(name_or_path), pooling, max_length, second_max_length, url_placeholder)

    @classmethod
    def from_saved(cls, directory: Path, pooling: str = "first", max_length: int = 256,
                   second_max_length: int | None = None, url_placeholder: str | None = None) -> "HfTextEncoder":
        """Architecture from a saved config and tokenizer; weights are loaded by the caller."""
        from transformers import AutoConfig, AutoModel

        config = AutoConfig.from_pretrained(directory / "encoder_config")
        try:
            backbone = AutoModel.from_config(config, add_pooling_layer=False)
        except TypeError:
            backbone = AutoModel.from_config(config)
        return cls(backbone, _load_tokenizer(str(directory / "tokenizer")), pooling, max_length, second_max_length,
                   url_placeholder)

    def freeze_word_embeddings(self) -> None:
        """Keep the subword embedding matrix fixed.

        Why: it is most of a small encoder's parameters (11.7M of MiniLM-L6's 22.7M),
        its dense gradient and optimiser update cost a third of a CPU training step,
        and a few thousand posts cannot teach it much.
        """
        self.backbone.get_input_embeddings().weight.requires_grad_(False)

    def save_assets(self, directory: Path) -> None:
        """What `from_saved` needs besides the weights: the config and tokenizer."""
        self.backbone.config.save_pretrained(directory / "encoder_config")
        self.tokenizer.save_pretrained(directory / "tokenizer")

    def featurize(self, token_lists: list[list[str]], second: list[str | None] | None = None) -> dict:
        return self.featurizer(token_lists, second)

    def forward(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        kwargs = {"input_ids": features["input_ids"], "attention_mask": features["attention_mask"]}
        if self.uses_token_types:
            kwargs["token_type_ids"] = features["token_type_ids"]
        hidden = self.backbone(**kwargs).last_hidden_state  # (r, s, d)
        return gather_word_states(hidden, features)


def gather_word_states(hidden: torch.Tensor, features: dict[str, torch.Tensor]) -> torch.Tensor:
    """Subword states (r, s, d) -> word states (b, w, d): one pooled subword (first/last) or the mean."""
    flat = hidden.reshape(-1, hidden.shape[-1])  # (r*s, d)
    index = features["word_index"]  # (b, w, k)
    if index.shape[-1] == 1:
        return flat[index[..., 0]]  # (b, w, d) the one pooled subword
    mask = features["word_subword_mask"].unsqueeze(-1).to(hidden.dtype)  # (b, w, k, 1)
    summed = (flat[index] * mask).sum(2)  # (b, w, d)
    return summed / mask.sum(2).clamp(min=1.0)


def _is_bert_like(name_or_path: str) -> bool:
    """BERT-family models accept add_pooling_layer; we never use the pooler."""
    try:
        from transformers import AutoConfig

        return AutoConfig.from_pretrained(name_or_path).model_type in {"bert", "roberta", "xlm-roberta", "camembert"}
    except Exception:  # noqa: BLE001 - fall back to the plain call, which reports the real error
        return False
