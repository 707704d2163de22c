"""An OpenAI-compatible chat-completions client: POST {base_url}/chat/completions.

vLLM, llama.cpp's server, Ollama, LM Studio and hosted APIs all speak this protocol.
`base_url` is what the openai client takes (``http://127.0.0.1:8080/v1``).

Retries: a 429, any 5xx, a timeout, a dropped connection or a reply that is not the
protocol's JSON is retried with exponential backoff (``backoff * 2**attempt``, capped at
`max_backoff`, at least the server's ``Retry-After``); any other 4xx is the caller's
mistake and fails at once with the server's message.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

Message = dict[str, Any]  # {"role": ..., "content": str | list of content parts}
RETRY_STATUS = frozenset({408, 409, 425, 429})


class ChatError(RuntimeError):
    """A request that failed for good (after its retries, or a non-retryable answer)."""


@dataclass
class ChatReply:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0  # the successful attempt's wall time
    finish_reason: str | None = None  # "stop", "length" (truncated by max_tokens), ...
    attempts: int = 1

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "latency_s": self.latency_s, "finish_reason": self.finish_reason, "attempts": self.attempts}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ChatReply":
        return cls(text=d["text"], prompt_tokens=int(d.get("prompt_tokens", 0)),
                   completion_tokens=int(d.get("completion_tokens", 0)), latency_s=float(d.get("latency_s", 0.0)),
                   finish_reason=d.get("finish_reason"), attempts=int(d.get("attempts", 1)))


class _Retryable(Exception):
    def __init__(self, message: str, wait_s: float = 0.0) -> None:
        super().__init__(message)
        self.wait_s = wait_s


class ChatClient:
    """One model behind one endpoint; thread-safe (one pooled httpx client)."""

    takes_images = True  # the endpoint's model decides; `--send-images` says whether to send them
    serial = False

    def __init__(self, base_url: str, model: str, *, api_key: str | None = None, timeout_s: float = 60.0,
                 max_retries: int = 5, backoff_s: float = 1.0, max_backoff_s: float = 30.0,
                 temperature: float = 0.0, max_tokens: int = 512, concurrency: int = 8,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"--endpoint must be an http(s) URL such as http://127.0.0.1:8080/v1, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.max_retries = max_retries
        self.backoff_s, self.max_backoff_s = backoff_s, max_backoff_s
        self.params = {"temperature": temperature, "max_tokens": max_tokens}
        self._sleep = sleep
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self._http = httpx.Client(timeout=timeout_s, headers=headers, limits=limits)
        self._lock = threading.Lock()
        self.retries = 0  # over the client's life, for the run's report

    @property
    def name(self) -> str:
        return self.model

    def settings(self) -> dict[str, Any]:
        """What changes an answer besides the messages (part of the cache key)."""
        return dict(self.params)

    def close(self) -> None:
        self._http.close()

    def complete(self, messages: list[Message]) -> ChatReply:
        url = f"{self.base_url}/chat/completions"
        body = {"model": self.model, "messages": messages, **self.params}
        for attempt in range(self.max_retries + 1):
            started = time.perf_counter()
            try:
                reply = self._post(url, body)
                reply.latency_s = time.perf_counter() - started
                reply.attempts = attempt + 1
                return reply
            except _Retryable as err:
                if attempt == self.max_retries:
                    raise ChatError(f"{url}: {err} (gave up after {attempt + 1} attempts)") from None
                with self._lock:
                    self.retries += 1
                delay = min(self.max_backoff_s, self.backoff_s * 2**attempt) * random.uniform(0.5, 1.0)
                self._sleep(max(delay, min(err.wait_s, self.max_backoff_s)))
        raise AssertionError("unreachable")

    def _post(self, url: str, body: dict[str, Any]) -> ChatReply:
        try:
            response = self._http.post(url, json=body)
        except httpx.TimeoutException:
            raise _Retryable("timed out") from None
        except httpx.TransportError as err:
            raise _Retryable(f"connection failed: {err}") from None
        status = response.status_code
        if status in RETRY_STATUS or status >= 500:
            raise _Retryable(f"HTTP {status}: {response.text[:200]}", retry_after(response))
        if status >= 400:
            raise ChatError(f"{url}: HTTP {status}: {response.text[:300]}")
        try:
            return parse_completion(response.json())
        except (json.JSONDecodeError, ValueError) as err:
            raise _Retryable(f"not a chat-completions reply ({err}): {response.text[:120]!r}") from None


def retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("retry-after", 0)))
    except ValueError:  # an HTTP date: not worth parsing, the backoff covers it
        return 0.0


def parse_completion(payload: Any) -> ChatReply:
    """The first choice's text, finish reason and token usage; ValueError if the shape is wrong."""
    try:
        choice = payload["choices"][0]
        content = choice["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise ValueError("no choices[0].message.content") from None
    if isinstance(content, list):  # content parts: keep the text ones
        content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
    if content is None:
        content = ""
    if not isinstance(content, str):
        raise ValueError("choices[0].message.content is not text")
    usage = payload.get("usage") or {}
    return ChatReply(text=content, prompt_tokens=int(usage.get("prompt_tokens") or 0),
                     completion_tokens=int(usage.get("completion_tokens") or 0),
                     finish_reason=choice.get("finish_reason"))
