"""The chat-completions client against a real local HTTP server (mner.augment.replay_server)."""

from __future__ import annotations

import pytest

from mner.augment.chat import ChatClient, ChatError
from mner.augment.replay_server import ReplayServer

HELLO = [{"role": "user", "content": "hello"}]


def client(server: ReplayServer, **kw) -> ChatClient:
    options = {"max_retries": 3, "backoff_s": 0.001, "max_backoff_s": 0.01, "timeout_s": 5.0} | kw
    return ChatClient(server.base_url, "test-model", **options)


def test_answer_usage_and_request_body() -> None:
    reply = {"content": "hi there", "usage": {"prompt_tokens": 7, "completion_tokens": 2}}
    with ReplayServer([{"match": "hello", "replies": [reply]}]) as server:
        answer = client(server, max_tokens=33).complete(HELLO)
        body = server.bodies[0]
    assert (answer.text, answer.prompt_tokens, answer.completion_tokens) == ("hi there", 7, 2)
    assert answer.finish_reason == "stop" and not answer.truncated and answer.attempts == 1
    assert body["model"] == "test-model" and body["messages"] == HELLO and body["max_tokens"] == 33


@pytest.mark.parametrize("failure", [{"status": 429, "retry_after": 0}, {"status": 500}, {"status": 503},
                                     {"raw": "{\"choices\": [oops"}, {"raw": "{}"}])
def test_retryable_failures_are_retried(failure: dict) -> None:
    with ReplayServer([{"match": "hello", "replies": [failure, failure, {"content": "ok"}]}]) as server:
        answer = client(server).complete(HELLO)
        assert server.requests["hello"] == 3
    assert answer.text == "ok" and answer.attempts == 3


def test_gives_up_after_the_retries_naming_the_url() -> None:
    with ReplayServer([{"match": "hello", "replies": [{"status": 500}]}]) as server:
        with pytest.raises(ChatError, match=r"chat/completions: HTTP 500.*gave up after 3 attempts"):
            client(server, max_retries=2).complete(HELLO)
        assert server.requests["hello"] == 3


def test_client_errors_are_not_retried() -> None:
    with ReplayServer([{"match": "hello", "replies": [{"status": 400}, {"content": "never"}]}]) as server:
        with pytest.raises(ChatError, match="HTTP 400"):
            client(server).complete(HELLO)
        assert server.requests["hello"] == 1


def test_a_hang_times_out_and_is_retried() -> None:
    with ReplayServer([{"match": "hello", "replies": [{"hang": 30}, {"content": "awake"}]}]) as server:
        answer = client(server, timeout_s=0.3).complete(HELLO)
        assert server.requests["hello"] == 2
    assert answer.text == "awake" and answer.attempts == 2


def test_truncated_output_is_flagged() -> None:
    with ReplayServer([{"match": "hello", "replies": [{"content": "Named ent", "finish_reason": "length"}]}]) as s:
        answer = client(s).complete(HELLO)
    assert answer.truncated and answer.text == "Named ent"


def test_unreachable_endpoint_fails_cleanly() -> None:
    server = ReplayServer()
    url = server.base_url
    server.close()  # nothing listens there any more
    with pytest.raises(ChatError, match="connection failed"):
        ChatClient(url, "m", max_retries=1, backoff_s=0.001).complete(HELLO)


def test_endpoint_must_be_a_url() -> None:
    with pytest.raises(ValueError, match="--endpoint"):
        ChatClient("127.0.0.1:8080/v1", "m")
