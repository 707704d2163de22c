"""Pick the model behind a command: an endpoint (`ChatClient`) or a local HF model."""

from __future__ import annotations

import os

from mner.augment.chat import ChatClient
from mner.augment.local_model import LocalChatModel

Backend = ChatClient | LocalChatModel


def make_backend(model: str, endpoint: str | None = None, *, api_key_env: str | None = None,
                 timeout_s: float = 60.0, max_retries: int = 5, max_tokens: int = 512,
                 concurrency: int = 4, temperature: float = 0.0) -> Backend:
    """`endpoint` given: that server's `model`; else `model` is a local path or hub name."""
    if endpoint is None:
        return LocalChatModel(model, max_tokens=max_tokens)
    api_key = None
    if api_key_env:
        api_key = os.environ.get(api_key_env)
        if not api_key:
            raise ValueError(f"--api-key-env {api_key_env}: that environment variable is not set")
    return ChatClient(endpoint, model, api_key=api_key, timeout_s=timeout_s, max_retries=max_retries,
                      max_tokens=max_tokens, concurrency=concurrency, temperature=temperature)
