"""Captions from any Hugging Face image-to-text model (BLIP, BLIP-2, GIT, Florence-2, a
vision-encoder-decoder, or a chat VLM given `prompt`), loaded by name or local path with
`AutoProcessor` + `AutoModelForImageTextToText`. Greedy decoding: the same image gets the
same caption, which is what makes the content-hash cache sound."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any


class HFCaptioner:
    kind = "caption"
    serial = True  # one generate() at a time: torch already uses every core

    def __init__(self, name_or_path: str, *, prompt: str | None = None, max_new_tokens: int = 40,
                 device: str = "cpu") -> None:
        from transformers import AutoModelForImageTextToText, AutoProcessor

        try:
            self.processor = AutoProcessor.from_pretrained(name_or_path)
            self.model = AutoModelForImageTextToText.from_pretrained(
                name_or_path, use_safetensors=True).to(device).eval()
        except (OSError, ValueError, KeyError) as err:
            raise ValueError(f"cannot load an image-to-text model from {name_or_path!r}: {err}") from None
        self.name = name_or_path
        self.prompt = prompt
        self.max_new_tokens = max_new_tokens
        self.device = device
        self._lock = threading.Lock()

    def settings(self) -> dict[str, Any]:
        return {"prompt": self.prompt, "max_new_tokens": self.max_new_tokens, "decoding": "greedy"}

    def describe(self, path: Path) -> dict[str, Any]:
        import torch

        from mner.data.images import load_image

        image = load_image(path)
        inputs = self.processor(images=image, text=self.prompt, return_tensors="pt") if self.prompt else \
            self.processor(images=image, return_tensors="pt")
        inputs = inputs.to(self.device)
        with self._lock, torch.inference_mode():
            output = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False)
        if self.prompt and "input_ids" in inputs and self.model.config.is_encoder_decoder is False:
            output = output[:, inputs["input_ids"].shape[1]:]  # decoder-only VLMs echo the prompt
        text = self.processor.batch_decode(output, skip_special_tokens=True)[0]
        return {"text": " ".join(text.split())}
