"""Tiny random Hugging Face generators written to disk (no hub): a GPT-2 text generator
and a BLIP image-to-text model, both with the tiny BERT vocabulary of tests/tiny_models.py.
Random weights: tests check the plumbing (loading, prompting, decoding, caching), not text."""

from __future__ import annotations

from pathlib import Path

from tiny_models import tiny_vocab

CHAT_TEMPLATE = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}assistant:"


def tiny_tokenizer():
    from transformers import BertTokenizer

    return BertTokenizer(vocab={w: i for i, w in enumerate(tiny_vocab())}, do_lower_case=True)


def write_tiny_text_generator(directory: Path, chat_template: bool = True, positions: int = 1024) -> Path:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    tokenizer = tiny_tokenizer()
    if chat_template:
        tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(directory)
    config = GPT2Config(vocab_size=len(tiny_vocab()), n_positions=positions, n_embd=32, n_layer=1, n_head=2,
                        bos_token_id=2, eos_token_id=3, pad_token_id=0)
    torch.manual_seed(0)
    GPT2LMHeadModel(config).save_pretrained(directory)
    return directory


def write_tiny_captioner(directory: Path) -> Path:
    import torch
    from transformers import BlipConfig, BlipForConditionalGeneration, BlipProcessor

    try:
        from transformers import BlipImageProcessorPil as ImageProcessor  # transformers 5 without torchvision
    except ImportError:  # pragma: no cover - older transformers
        from transformers import BlipImageProcessor as ImageProcessor
    processor = BlipProcessor(image_processor=ImageProcessor(size={"height": 32, "width": 32}),
                              tokenizer=tiny_tokenizer())
    processor.save_pretrained(directory)
    text = dict(vocab_size=len(tiny_vocab()), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                intermediate_size=64, encoder_hidden_size=32, bos_token_id=2, sep_token_id=3, pad_token_id=0,
                eos_token_id=3)
    vision = dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, image_size=32,
                  patch_size=16)
    torch.manual_seed(0)
    BlipForConditionalGeneration(BlipConfig(text_config=text, vision_config=vision, projection_dim=32)
                                 ).save_pretrained(directory)
    return directory
