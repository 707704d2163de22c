"""The web page in a real browser: headless Debian Chromium driven by Selenium (the system
chromedriver, no download). Type a post, submit, read the highlighted entities from the DOM;
upload an image to a grounded model and find its boxes drawn; save screenshots."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from headless_chromium import chromium_session, require_chromium
from serve_helpers import start_server
from stub_taggers import GroundedStub

require_chromium()

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture
def browser(tmp_path):
    with chromium_session(tmp_path / "profile", "1200,900") as driver:
        yield driver


def submit_post(browser, url: str, text: str, image: Path | None = None) -> None:
    browser.get(url)
    box = browser.find_element(By.ID, "text")
    box.clear()
    box.send_keys(text)
    if image is not None:
        browser.find_element(By.ID, "images").send_keys(str(image))
    browser.find_element(By.ID, "submit").click()
    WebDriverWait(browser, 60).until(expected_conditions.text_to_be_present_in_element((By.ID, "status"), "done"))


def test_page_highlights_the_entities_of_a_typed_post(server, browser, tmp_path):
    submit_post(browser, server.url + "/", "Alice Smith wins in Paris")
    marks = browser.find_elements(By.CSS_SELECTOR, "#result mark.entity")
    found = [(m.find_element(By.CLASS_NAME, "text").text, m.get_attribute("data-type")) for m in marks]
    assert found == [("Alice Smith", "PER"), ("Paris", "LOC")]
    for mark in marks:  # the score on hover, the type's colour as background
        assert mark.get_attribute("title").startswith(mark.get_attribute("data-type") + ", score 0.")
        assert mark.value_of_css_property("background-color") not in ("rgba(0, 0, 0, 0)", "transparent")
    assert marks[0].value_of_css_property("background-color") != marks[1].value_of_css_property("background-color")
    assert browser.find_element(By.ID, "result").text == "Alice SmithPER wins in ParisLOC"  # words between marks kept
    assert '"type": "PER"' in browser.find_element(By.ID, "json").text
    assert "types LOC, MISC, ORG, PER" in browser.find_element(By.ID, "model-line").text
    shot = tmp_path / "page.png"
    assert browser.save_screenshot(str(shot))
    assert Image.open(shot).size[0] > 100


def test_page_shows_a_field_error_for_a_bad_image(server, browser, tmp_path):
    bad = tmp_path / "not-an-image.png"
    bad.write_bytes(b"these bytes are not a picture")
    browser.get(server.url + "/")
    browser.find_element(By.ID, "text").send_keys("Alice Smith wins in Paris")
    browser.find_element(By.ID, "images").send_keys(str(bad))
    browser.find_element(By.ID, "submit").click()
    WebDriverWait(browser, 60).until(expected_conditions.text_to_be_present_in_element((By.ID, "status"), "images[0]"))
    assert "undecodable image" in browser.find_element(By.ID, "status").text


def test_page_draws_a_grounded_entity_box_on_the_uploaded_image(browser, tmp_path):
    from mner.serve import create_app

    image = tmp_path / "photo.png"
    Image.new("RGB", (400, 200), (90, 140, 200)).save(image)
    stub = GroundedStub()
    live = start_server(create_app(stub))
    try:
        submit_post(browser, live.url + "/", "Alice in Paris", image)
        WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#figures .box"))
        box = browser.find_element(By.CSS_SELECTOR, "#figures .box")
        img = browser.find_element(By.CSS_SELECTOR, "#figures img")
        scale = img.size["width"] / 400
        assert box.text == "Alice" and "PER" in box.get_attribute("title")
        assert abs(box.size["width"] - 100 * scale) <= 2 and abs(box.size["height"] - 50 * scale) <= 2
        assert box.value_of_css_property("border-top-color") in ("rgb(170, 156, 252)", "rgba(170, 156, 252, 1)")  # PER
        assert stub.seen_images[-1] == 1  # the upload reached the model as the post's image
        assert browser.save_screenshot(str(tmp_path / "grounded.png"))
    finally:
        live.stop()
