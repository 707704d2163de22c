"""`mner llm evaluate` against the replay server's recorded answers: scores by mner's evaluator."""

from __future__ import annotations

import json
from pathlib import Path

from augment_helpers import recorded_rules
from typer.testing import CliRunner

from mner.augment.cache import AnswerCache
from mner.augment.chat import ChatClient
from mner.augment.replay_server import ReplayServer
from mner.cli.main import app
from mner.data.readers import read_posts
from mner.llm.evaluate import evaluate_llm


def test_scores_repairs_unmatched_and_usage(tmp_path: Path, chat_fixtures: Path, fixture_posts) -> None:
    with ReplayServer(recorded_rules("llm_replies.json")) as server:
        client = ChatClient(server.base_url, "m", max_retries=3, backoff_s=0.001, timeout_s=5.0)
        result = evaluate_llm(fixture_posts, client, AnswerCache(tmp_path / "c.sqlite"), progress=False)
    d = result.details
    # gold: 10 entities; predicted: Kawhi Leonard, NBAAwards, Lena Hoffmann, Dublin, Northwind Airlines,
    # New Orleans, Harbor City FC, Paris (the lower-case "paris" is missed; "Hanoi" was cut off)
    assert result.predictions[0][13] == "B-MISC" and result.predictions[0][12] == "O"
    assert result.predictions[4] == ["B-ORG", "I-ORG", "I-ORG", "O", "O", "B-LOC", "O", "O", "O", "O"]
    assert round(result.scores["precision"], 2) == 100.0 and round(result.scores["recall"], 2) == 80.0
    assert round(result.scores["f1"], 2) == 88.89
    assert d["answers"] == {"valid": 2, "repaired": 3, "invalid": 0} and d["failed_requests"] == 0
    assert d["unmatched_mentions"] == 1 and d["unmatched_examples"] == ["p5: 'Atlantis'"]
    assert d["unknown_type_mentions"] == 1 and d["mentions"] == 10
    assert d["prompt_tokens"] >= 120 and d["completion_tokens"] >= 30
    assert d["requests"]["asked"] == 5 and d["latency_s"]["p90"] > 0


def test_cli_few_shot_json_and_cached_rerun(tmp_path: Path, chat_fixtures: Path) -> None:
    args = ["llm", "evaluate", "--data", str(chat_fixtures / "posts.jsonl"), "--model", "m", "--shots", "2",
            "--examples", str(chat_fixtures / "examples.jsonl"), "--cache", str(tmp_path / "c.sqlite"),
            "--json", "--quiet", "--limit", "3"]
    with ReplayServer(recorded_rules("llm_replies.json")) as server:
        result = CliRunner().invoke(app, args + ["--endpoint", server.base_url])
        first = next(b["messages"] for b in server.bodies if "Kawhi" in b["messages"][-1]["content"])
        assert len(server.bodies) == 3
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert scores["posts"] == 3 and round(scores["f1"], 2) == round(100 * 2 * 6 / 7 / (1 + 6 / 7), 2)
    assert len(first) == 1 + 2 * 2 + 1 and json.loads(first[2]["content"])["entities"][0]["text"] == "Stephen Curry"
    with ReplayServer() as server:  # every answer is cached: same scores, no request
        again = CliRunner().invoke(app, args + ["--endpoint", server.base_url])
        assert server.bodies == []
    assert json.loads(again.output)["f1"] == scores["f1"]


def test_cli_says_what_is_missing(tmp_path: Path, chat_fixtures: Path) -> None:
    result = CliRunner().invoke(app, ["llm", "evaluate", "--data", str(chat_fixtures / "posts.jsonl"),
                                      "--model", "m", "--endpoint", "http://127.0.0.1:9/v1", "--shots", "2"])
    assert result.exit_code == 1 and "--shots 2 needs --examples" in result.output
    unlabelled = tmp_path / "posts.jsonl"
    unlabelled.write_text('{"id": "a", "tokens": ["hi"]}\n')
    result = CliRunner().invoke(app, ["llm", "evaluate", "--data", str(unlabelled), "--model", "m",
                                      "--endpoint", "http://127.0.0.1:9/v1"])
    assert result.exit_code == 1 and "needs labelled posts" in result.output
    assert read_posts(chat_fixtures / "posts.jsonl")  # the fixture itself is fine
