"""A local Hugging Face text-generation model behind the `ChatClient` interface.

`--model PATH|NAME` without `--endpoint`: the model is loaded with `AutoModelForCausalLM`
and prompted through the tokenizer's chat template when it has one (instruction-tuned
models do), else as plain ``role: text`` lines. Greedy decoding, so answers are
reproducible and cacheable. Local models read no images: posts go with their caption.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from mner.augment.chat import ChatError, ChatReply, Message


def message_text(content: Any) -> str:
    """A message's text; image parts of a multimodal message are dropped."""
    if isinstance(content, str):
        return content
    return "\n".join(part.get("text", "") for part in content or [] if isinstance(part, dict)
                     and part.get("type") == "text")


class LocalChatModel:
    takes_images = False
    serial = True

    def __init__(self, name_or_path: str, *, max_tokens: int = 256, device: str = "cpu") -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        try:
            self.tokenizer = AutoTokenizer.from_pretrained(name_or_path)
            self.model = AutoModelForCausalLM.from_pretrained(name_or_path, use_safetensors=True).to(device).eval()
        except (OSError, ValueError) as err:
            raise ValueError(f"cannot load a text-generation model from {name_or_path!r}: {err}") from None
        self.model_name = name_or_path
        self.max_tokens = max_tokens
        self.device = device
        self._lock = threading.Lock()  # one generate() at a time: torch already uses every core
        self.retries = 0

    @property
    def name(self) -> str:
        return self.model_name

    def settings(self) -> dict[str, Any]:
        return {"max_tokens": self.max_tokens, "decoding": "greedy"}

    def close(self) -> None:
        pass

    def prompt(self, messages: list[Message]) -> str:
        flat = [{"role": m["role"], "content": message_text(m["content"])} for m in messages]
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(flat, tokenize=False, add_generation_prompt=True)
        return "\n\n".join(f"{m['role']}: {m['content']}" for m in flat) + "\n\nassistant:"

    def complete(self, messages: list[Message]) -> ChatReply:
        import torch

        started = time.perf_counter()
        encoded = self.tokenizer(self.prompt(messages), return_tensors="pt", add_special_tokens=False)
        encoded = {k: v.to(self.device) for k, v in encoded.items() if k in ("input_ids", "attention_mask")}
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id
        try:
            with self._lock, torch.inference_mode():
                output = self.model.generate(**encoded, max_new_tokens=self.max_tokens, do_sample=False,
                                             pad_token_id=pad)
        except (RuntimeError, IndexError, ValueError) as err:  # e.g. a prompt longer than the model's positions
            raise ChatError(f"{self.model_name}: generation failed: {err}") from None
        prompt_len = encoded["input_ids"].shape[1]
        new = output[0, prompt_len:]  # (n,)
        eos = self.tokenizer.eos_token_id
        stopped = eos is not None and bool((new == eos).any())
        text = self.tokenizer.decode(new, skip_special_tokens=True).strip()
        return ChatReply(text=text, prompt_tokens=int(prompt_len), completion_tokens=int(new.shape[0]),
                         latency_s=time.perf_counter() - started,
                         finish_reason="stop" if stopped or new.shape[0] < self.max_tokens else "length")
