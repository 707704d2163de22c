"""Tiny random decoder LLMs (Llama, Qwen2) written to disk with a tiny tokenizer: no hub, no downloads.

Both are saved the way hub checkpoints are (`*ForCausalLM`: an LM head over the
base model) so loading goes through the same path as a real model. The
tokenizers imitate their families: the Llama one adds a BOS token and has no
pad token; the Qwen one adds nothing and has neither a pad nor an unknown token.
Random weights: the tests check behaviour (gradients, files, equality), never quality.
"""

from __future__ import annotations

import string
from pathlib import Path

WORDS = ["the", "in", "at", "and", "of", "to", "new", "york", "paris", "london", "alice", "bob", "smith",
         "apple", "google", "festival", "game", "city", "win", "wins", "fans", "love", "day", "rt", "with"]


def _tokenizer(bos: str | None, eos: str, unk: str):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    specials = [t for t in (unk, bos, eos) if t]
    characters = string.ascii_lowercase + string.digits
    pieces = list(characters) + [f"##{c}" for c in characters]
    vocab = {w: i for i, w in enumerate(specials + WORDS + pieces + list("#@!?.,:;'\"-()&/_"))}
    backend = Tokenizer(models.WordPiece(vocab, unk_token=unk, max_input_chars_per_word=40))
    backend.normalizer = normalizers.Lowercase()
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    if bos:
        backend.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, vocab[bos])])
    kwargs = {"eos_token": eos}
    if bos:
        kwargs.update(bos_token=bos, unk_token=unk)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, **kwargs)
    tokenizer.model_max_length = 128
    return tokenizer


def write_tiny_decoder(directory: Path, family: str = "llama", seed: int = 0) -> Path:
    """Config, tokenizer and random weights of a 2-layer, hidden-32 decoder (`llama` or `qwen2`)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    directory.mkdir(parents=True, exist_ok=True)
    if family == "llama":
        tokenizer = _tokenizer("<s>", "</s>", "<unk>")
        config_cls, model_cls = LlamaConfig, LlamaForCausalLM
    elif family == "qwen2":
        tokenizer = _tokenizer(None, "<|endoftext|>", "[UNK]")
        config_cls, model_cls = Qwen2Config, Qwen2ForCausalLM
    else:
        raise ValueError(family)
    tokenizer.save_pretrained(directory)
    config = config_cls(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                        eos_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.bos_token_id,
                        tie_word_embeddings=family == "qwen2")
    torch.manual_seed(seed)
    model_cls(config).save_pretrained(directory)
    return directory


def labelled_posts():
    from mner.data.post import Post

    return [Post("a", ["Alice", "wins", "in", "Paris"], ["B-PER", "O", "O", "B-LOC"]),
            Post("b", ["Google", "and", "apple", "fans"], ["B-ORG", "O", "B-ORG", "O"]),
            Post("c", ["bob", "smith", "loves", "new", "york", "city"], ["B-PER", "I-PER", "O", "B-LOC", "I-LOC", "O"])]


def decoder_model_cfg(model_dir: Path, **encoder: object) -> dict:
    return {"encoder": {"name": "encoder.hf_decoder.v1", "model": str(model_dir), "lora": {"r": 4, "alpha": 8,
                                                                                           "dropout": 0.0},
                        **encoder},
            "head": {"name": "head.crf.v1"}, "dropout": 0.0}


def train_steps(model, posts, steps: int = 5, lr: float = 1e-2) -> list[float]:
    """A few AdamW steps on the trainable parameters; the losses."""
    import torch

    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.train()
    losses = []
    for _ in range(steps):
        loss = model.loss(model.batch(posts))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
