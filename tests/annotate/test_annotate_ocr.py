"""OCR with the real offline engine (RapidOCR, as `mner augment ocr`) on real tweet images from
../shared/data/images (skipped when absent): an image's text becomes the item's editable words."""

from __future__ import annotations

import pytest

pytest.importorskip("rapidocr", reason="OCR needs the augment extra: pip install -e '.[augment]'")

from mner.annotate import open_project  # noqa: E402


@pytest.mark.realdata
@pytest.mark.slow  # two OCR passes and the engine load: ~10 s on a quiet 2-core host, 50 s on a busy one
def test_real_images_are_read_into_words(shared_data, tmp_path):
    images = shared_data / "images"
    if not (images / "654.jpg").is_file():
        pytest.skip("the real tweet images are absent")
    project = open_project(tmp_path / "proj", images)  # no model: annotation from scratch
    assert len(project.store.overview()) == len(list(images.glob("*.jpg")))
    meme = project.open_item("654")  # a meme captioned "CHRIS PAUL BE LIKE"
    assert meme.origin == "ocr" and meme.entities == []
    assert "CHRIS PAUL BE LIKE" in " ".join(meme.tokens)
    assert "CHRIS PAUL" in meme.visual_text["ocr"]
    photo = project.open_item("113")  # a photo without text: no words, ready to be typed by hand
    assert photo.tokens == [] and photo.version == 1
