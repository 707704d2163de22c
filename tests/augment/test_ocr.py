"""`mner augment ocr` with RapidOCR: a generated image with known text, and the real tweet
images in ../shared/data/images (skipped when absent); output read back as visual text `ocr`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mner.cli.main import app
from mner.data.readers import read_posts
from mner.data.readers.visual_text import attach_visual_text, read_visual_text

pytest.importorskip("rapidocr")

REAL_WITH_TEXT = "106.jpg"  # a jersey number: the OCR reads "A3"
REAL_WITHOUT_TEXT = "130.jpg"


def text_image(path: Path, text: str) -> Path:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (420, 120), "white")
    ImageDraw.Draw(image).text((20, 30), text, fill="black", font=ImageFont.load_default(size=48))
    image.save(path)
    return path


@pytest.fixture(scope="module")
def ocr_reader():
    from mner.augment.ocr import RapidOCRReader

    return RapidOCRReader(threads=1)


def test_reads_the_text_of_a_generated_image(ocr_reader, tmp_path: Path) -> None:
    found = ocr_reader.describe(text_image(tmp_path / "sign.png", "MNER 2017 Paris"))
    assert "".join(found["text"].split()) == "MNER2017Paris"
    assert found["lines"][0]["score"] > 0.8 and len(found["lines"][0]["box"]) == 4
    from PIL import Image

    Image.new("RGB", (200, 100), "white").save(tmp_path / "blank.png")
    assert ocr_reader.describe(tmp_path / "blank.png") == {"text": "", "lines": []}


def test_cli_on_real_images_cached_and_read_as_ocr(shared_data: Path, tmp_path: Path) -> None:
    images = shared_data / "images"
    chosen = [images / REAL_WITH_TEXT, images / REAL_WITHOUT_TEXT]
    if not all(p.is_file() for p in chosen):
        pytest.skip("the real images are absent")
    out = tmp_path / "ocr.jsonl"
    args = ["augment", "ocr", *map(str, chosen), "--to", str(out), "--threads", "1", "--quiet"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = {json.loads(line)["image_id"]: json.loads(line) for line in out.read_text().splitlines()}
    assert "A3" in lines["106"]["text"] and lines["130"]["text"] == ""
    assert lines["106"]["model"].startswith("rapidocr-") and lines["106"]["date"]
    assert read_visual_text(out)["106"] == lines["106"]["text"]
    again = CliRunner().invoke(app, args)
    assert "2 from the cache, 0 computed" in again.output

    posts_file = tmp_path / "posts.jsonl"
    posts_file.write_text('{"id": "t1", "tokens": ["Go", "team"], "images": ["106.jpg"]}\n')
    posts = read_posts(posts_file, images_dir=images)
    assert attach_visual_text(posts, out, "ocr") == 1 and "A3" in posts[0].visual_text["ocr"]
