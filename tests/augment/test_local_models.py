"""Local Hugging Face models: a tiny random text generator for knowledge / the LLM baseline,
a tiny random BLIP for captions; outputs readable by mner, cached by input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tiny_generators import write_tiny_captioner, write_tiny_text_generator
from typer.testing import CliRunner

from mner.augment.cache import AnswerCache
from mner.augment.local_model import LocalChatModel
from mner.augment.prompts import PROMPT_VERSION
from mner.cli.main import app
from mner.data.readers.visual_text import read_visual_text
from mner.llm.evaluate import evaluate_llm


@pytest.fixture(scope="module")
def generator_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_text_generator(tmp_path_factory.mktemp("tiny-gpt2"))


@pytest.fixture(scope="module")
def captioner_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_captioner(tmp_path_factory.mktemp("tiny-blip"))


def test_local_model_prompt_follows_the_chat_template(generator_dir: Path, tmp_path: Path) -> None:
    model = LocalChatModel(str(generator_dir), max_tokens=5)
    messages = [{"role": "system", "content": "find entities"},
                {"role": "user", "content": [{"type": "text", "text": "Text: paris"},
                                             {"type": "image_url", "image_url": {"url": "data:,"}}]}]
    assert model.prompt(messages) == "system: find entities\nuser: Text: paris\nassistant:"
    reply = model.complete(messages)
    assert isinstance(reply.text, str) and 0 < reply.completion_tokens <= 5 and reply.prompt_tokens > 5
    assert reply.completion_tokens == 5 or reply.finish_reason == "stop"
    plain = LocalChatModel(str(write_tiny_text_generator(tmp_path / "plain", chat_template=False)))
    assert plain.prompt(messages).endswith("user: Text: paris\n\nassistant:")


def test_knowledge_from_a_local_model_without_endpoint(generator_dir: Path, tmp_path: Path,
                                                       chat_fixtures: Path) -> None:
    out = tmp_path / "k.jsonl"
    args = ["augment", "knowledge", str(chat_fixtures / "posts.jsonl"), "--to", str(out), "--model",
            str(generator_dir), "--max-tokens", "4", "--quiet", "--examples", str(chat_fixtures / "examples.jsonl"),
            "--shots", "1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["image_id"] for line in lines] == ["p1", "p2", "p3", "p4", "p5"]
    assert {line["model"] for line in lines} == {str(generator_dir)} and lines[0]["prompt_version"] == PROMPT_VERSION
    again = CliRunner().invoke(app, args)
    assert "5 from the cache, 0 computed" in again.output
    assert out.read_text().splitlines() == [json.dumps(line, ensure_ascii=False) for line in lines]


def test_a_prompt_too_long_for_the_model_fails_that_post_only(tmp_path: Path, fixture_posts) -> None:
    from mner.augment.knowledge import generate_knowledge

    short = LocalChatModel(str(write_tiny_text_generator(tmp_path / "short", positions=48)), max_tokens=2)
    report = generate_knowledge(fixture_posts, tmp_path / "k.jsonl", short, AnswerCache(tmp_path / "c.sqlite"),
                                progress=False)
    assert report.written == 0 and len(report.failures) == 5
    assert "generation failed" in report.failures[0] and "posts.jsonl:1 (post p1)" in report.failures[0]


def test_llm_baseline_on_a_local_model(generator_dir: Path, tmp_path: Path, fixture_posts) -> None:
    result = evaluate_llm(fixture_posts, LocalChatModel(str(generator_dir), max_tokens=4),
                          AnswerCache(tmp_path / "c.sqlite"), progress=False)
    assert result.details["answers"]["invalid"] == 5  # random weights write no JSON: scored as no entities
    assert result.scores["f1"] == 0.0 and result.details["requests"]["asked"] == 5


def test_captions_from_a_tiny_image_to_text_model(captioner_dir: Path, tmp_path: Path) -> None:
    from PIL import Image

    images = tmp_path / "images"
    images.mkdir()
    Image.new("RGB", (64, 48), "red").save(images / "17_06_1.jpg")
    Image.new("RGB", (30, 30), "blue").save(images / "17_06_2.jpg", format="PNG")  # PNG bytes, .jpg name
    (images / "17_06_3.jpg").write_bytes((images / "17_06_1.jpg").read_bytes())  # same picture, another name
    (images / "notes.txt").write_text("not an image")
    out = tmp_path / "captions.txt"
    args = ["augment", "captions", str(images), "--to", str(out), "--model", str(captioner_dir), "--quiet",
            "--max-new-tokens", "6"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "2 computed" in result.output and "1 from the cache" in result.output  # the copy hit the cache
    captions = read_visual_text(out)
    assert set(captions) == {"17_06_1", "17_06_2", "17_06_3"} and captions["17_06_1"] == captions["17_06_3"]
    assert out.read_text().startswith("17_06_1.jpg :")
    jsonl = tmp_path / "captions.jsonl"
    result = CliRunner().invoke(app, args[:3] + ["--to", str(jsonl)] + args[5:] + ["--cache",
                                                                                   str(tmp_path / "c.sqlite")])
    assert result.exit_code == 0 and json.loads(jsonl.read_text().splitlines()[0])["model"] == str(captioner_dir)
    assert read_visual_text(jsonl) == captions


def test_captions_report_a_broken_image_and_keep_the_rest(captioner_dir: Path, tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (20, 20), "green").save(tmp_path / "good.jpg")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    out = tmp_path / "c.txt"
    result = CliRunner().invoke(app, ["augment", "captions", str(tmp_path / "good.jpg"), str(tmp_path / "broken.jpg"),
                                      "--to", str(out), "--model", str(captioner_dir), "--quiet"])
    assert result.exit_code == 1 and "broken.jpg" in result.output
    assert list(read_visual_text(out)) == ["good"]


def test_captions_model_that_is_not_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["augment", "captions", str(tmp_path), "--to", str(tmp_path / "c.txt"),
                                      "--model", str(tmp_path / "nothing-here")])
    assert result.exit_code == 1 and "cannot load an image-to-text model" in result.output
