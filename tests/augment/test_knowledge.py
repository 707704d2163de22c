"""`mner augment knowledge` end to end against the replay server: output, provenance,
few-shot examples, images as data URLs, the cache and resuming an interrupted run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from augment_helpers import recorded_rules
from typer.testing import CliRunner

from mner.augment.cache import AnswerCache
from mner.augment.chat import ChatClient
from mner.augment.knowledge import generate_knowledge
from mner.augment.prompts import PROMPT_VERSION
from mner.augment.replay_server import ReplayServer
from mner.cli.main import app
from mner.data.readers import read_posts
from mner.data.readers.visual_text import attach_visual_text, read_visual_text


def fast_client(server: ReplayServer, **kw) -> ChatClient:
    return ChatClient(server.base_url, "test-model", **({"max_retries": 3, "backoff_s": 0.001, "max_backoff_s": 0.01,
                                                         "timeout_s": 5.0} | kw))


def run_cli(args: list[str]):
    return CliRunner().invoke(app, args)


def test_cli_writes_knowledge_mner_reads_with_provenance(tmp_path: Path, chat_fixtures: Path) -> None:
    out = tmp_path / "knowledge.jsonl"
    with ReplayServer(recorded_rules("knowledge_replies.json")) as server:
        result = run_cli(["augment", "knowledge", str(chat_fixtures / "posts.jsonl"), "--to", str(out),
                          "--endpoint", server.base_url, "--model", "test-model", "--quiet", "--shots", "2",
                          "--examples", str(chat_fixtures / "examples.jsonl"), "--retries", "2"])
        assert server.requests["Lena"] == 2 and server.requests["Harbor"] == 2  # a 429 and a 500, retried
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["image_id"] for line in lines] == ["p1", "p2", "p3", "p4", "p5"]
    assert all(line["model"] == "test-model" and line["prompt_version"] == PROMPT_VERSION and line["date"]
               for line in lines)
    assert lines[2]["truncated"] is True and lines[2]["finish_reason"] == "length"
    assert "truncated" not in lines[0]
    assert read_visual_text(out)["p2"].startswith("Named entities: 1. Lena Hoffmann")
    posts = read_posts(chat_fixtures / "posts.jsonl")
    assert attach_visual_text(posts, out, "knowledge") == 5
    assert "Harbor City FC (football club" in posts[4].visual_text["knowledge"]


def test_examples_are_the_most_similar_with_their_knowledge(tmp_path: Path, chat_fixtures: Path,
                                                             fixture_posts) -> None:
    examples = read_posts(chat_fixtures / "examples.jsonl")
    attach_visual_text(examples, chat_fixtures / "examples_knowledge.jsonl", "knowledge")
    with ReplayServer() as server:
        generate_knowledge(fixture_posts[:3], tmp_path / "k.jsonl", fast_client(server),
                           AnswerCache(tmp_path / "c.sqlite"), examples=examples, shots=1, progress=False)
        bodies = {b["messages"][-1]["content"].split("\n")[0]: b["messages"] for b in server.bodies}
    kawhi = bodies["Text: Kawhi Leonard wins the fan vote for Block of the Year ! # NBAAwards"]
    assert len(kawhi) == 4 and kawhi[0]["role"] == "system"
    assert kawhi[1]["content"].startswith("Text: Stephen Curry wins MVP vote # NBAAwards\nImage: a basketball")
    assert kawhi[2]["content"].startswith("Named entities: 1. Stephen Curry (person/player)")  # hand-written
    northwind = bodies["Text: Northwind Airlines flies from New Orleans to Hanoi"]
    assert northwind[1]["content"].startswith("Text: Delta Airlines")
    assert northwind[2]["content"] == "Named entities: 1. Delta Airlines (organization) 2. Hanoi (location)"
    lena = bodies["Text: Lena Hoffmann live in Dublin tonight"]
    assert lena[-1]["content"].endswith("Image: (no image)")


def test_images_go_as_data_urls_and_their_content_keys_the_cache(tmp_path: Path, chat_fixtures: Path) -> None:
    from PIL import Image

    images = tmp_path / "images"
    images.mkdir()
    for i, colour in enumerate(["red", "green", "blue"], start=1):
        Image.new("RGB", (40, 30), colour).save(images / f"p{i}.png")
    posts = read_posts(chat_fixtures / "posts.jsonl", images_dir=images)[:3]
    cache = AnswerCache(tmp_path / "c.sqlite")
    with ReplayServer() as server:
        generate_knowledge(posts, tmp_path / "k.jsonl", fast_client(server), cache, send_images=True, progress=False)
        parts = server.bodies[0]["messages"][-1]["content"]
        assert parts[1]["type"] == "image_url" and parts[1]["image_url"]["url"].startswith("data:image/jpeg;base64,")
        Image.new("RGB", (40, 30), "white").save(images / "p2.png")  # a new picture: asked again
        report = generate_knowledge(posts, tmp_path / "k.jsonl", fast_client(server), cache, send_images=True,
                                    progress=False)
        assert len(server.bodies) == 4
    assert (report.stats.cached, report.stats.asked) == (2, 1)


def test_rerun_and_interrupted_run_ask_nothing_twice(tmp_path: Path, chat_fixtures: Path, fixture_posts) -> None:
    out, cache_path = tmp_path / "k.jsonl", tmp_path / "cache.sqlite"
    broken = [{"match": "Harbor", "replies": [{"hang": 30}]}, {"match": "Northwind", "replies": [{"status": 503}]}]
    with ReplayServer(broken) as server:  # the run "dies" on two posts; the others are kept
        report = generate_knowledge(fixture_posts, out, fast_client(server, max_retries=0, timeout_s=0.3),
                                    AnswerCache(cache_path), progress=False)
    assert report.written == 3 and len(report.failures) == 2
    assert any("p5" in f and "timed out" in f for f in report.failures)
    assert [json.loads(line)["image_id"] for line in out.read_text().splitlines()] == ["p1", "p2", "p4"]

    with ReplayServer() as server:  # resumed: only the two missing posts are asked
        report = generate_knowledge(fixture_posts, out, fast_client(server), AnswerCache(cache_path), progress=False)
        assert len(server.bodies) == 2
        assert {b["messages"][-1]["content"].split()[1] for b in server.bodies} == {"Northwind", "Harbor"}
    assert report.written == 5 and (report.stats.cached, report.stats.asked) == (3, 2)

    with ReplayServer() as server:  # a rerun costs nothing
        report = generate_knowledge(fixture_posts, out, fast_client(server), AnswerCache(cache_path), progress=False)
        assert server.bodies == []
    assert report.stats.to_dict()["cache_hit_rate"] == 1.0
    assert len(out.read_text().splitlines()) == 5


def test_ctrl_c_keeps_the_answers_already_in(tmp_path: Path, fixture_posts) -> None:
    class DiesOnThirdRequest:
        name, serial, takes_images = "test-model", True, False

        def __init__(self, inner: ChatClient) -> None:
            self.inner, self.calls = inner, 0

        def settings(self) -> dict:
            return self.inner.settings()

        def complete(self, messages):
            self.calls += 1
            if self.calls == 3:
                raise KeyboardInterrupt
            return self.inner.complete(messages)

    cache_path = tmp_path / "cache.sqlite"
    with ReplayServer() as server:
        with pytest.raises(KeyboardInterrupt):
            generate_knowledge(fixture_posts, tmp_path / "k.jsonl", DiesOnThirdRequest(fast_client(server)),
                               AnswerCache(cache_path), progress=False)
        assert not (tmp_path / "k.jsonl").exists()  # nothing half-written
        report = generate_knowledge(fixture_posts, tmp_path / "k.jsonl", fast_client(server),
                                    AnswerCache(cache_path), progress=False)
        assert len(server.bodies) == 2 + 3
    assert (report.stats.cached, report.stats.asked) == (2, 3)


def test_cli_errors_are_one_line(tmp_path: Path, chat_fixtures: Path) -> None:
    posts = str(chat_fixtures / "posts.jsonl")
    result = run_cli(["augment", "knowledge", posts, "--to", str(tmp_path / "k.jsonl"), "--endpoint",
                      "localhost:1/v1", "--model", "m"])
    assert result.exit_code == 1 and "error: --endpoint must be an http(s) URL" in result.output
    result = run_cli(["augment", "knowledge", posts, "--to", str(tmp_path / "k.jsonl"), "--endpoint",
                      "http://127.0.0.1:9/v1", "--model", "m", "--api-key-env", "MNER_TEST_UNSET_KEY"])
    assert result.exit_code == 1 and "MNER_TEST_UNSET_KEY" in result.output
    with ReplayServer([{"match": "Kawhi", "replies": [{"status": 500}]}]) as server:
        result = run_cli(["augment", "knowledge", posts, "--to", str(tmp_path / "k.jsonl"), "--endpoint",
                          server.base_url, "--model", "m", "--retries", "0", "--quiet"])
    assert result.exit_code == 1
    assert "posts.jsonl:1 (post p1)" in result.output and "rerun the same command" in result.output
    assert len((tmp_path / "k.jsonl").read_text().splitlines()) == 4
