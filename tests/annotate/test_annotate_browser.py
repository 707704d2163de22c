"""The page in a real browser: headless Debian Chromium driven by Selenium (the system chromedriver,
no download) against the app on a loopback port. Open an item, correct a pre-tagged entity, add one,
retype and undo, edit a word, draw a box, finish; restart the server and find the work and the place
kept; a second writer's change makes the page's stale save a 409 it reports; export."""

from __future__ import annotations

import httpx
import pytest

from headless_chromium import chromium_session, require_chromium
from annotate_helpers import FakeOCR, WordTagger, make_inputs
from live_server import LiveServer
from mner.annotate import export_project, open_project
from mner.annotate.app import create_annotate_app
from mner.data.readers import read_posts

require_chromium()

from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture
def browser(tmp_path):
    with chromium_session(tmp_path / "profile", "1200,1000") as driver:
        yield driver


def status_has(browser, text: str) -> None:
    WebDriverWait(browser, 30).until(lambda b: text in b.find_element(By.ID, "status").text,
                                     message=f"status never said {text!r}")


def marks(browser) -> list[tuple[str, str]]:
    return [(" ".join(t.text for t in m.find_elements(By.CLASS_NAME, "token")), m.get_attribute("data-type"))
            for m in browser.find_elements(By.CSS_SELECTOR, "#tokens mark.entity")]


def token(browser, i: int):
    return browser.find_element(By.CSS_SELECTOR, f'#tokens .token[data-i="{i}"]')


def press(browser, keys: str) -> None:
    ActionChains(browser).send_keys(keys).perform()


def test_label_restart_resume_conflict_and_export(tmp_path, browser):
    images, posts = make_inputs(tmp_path)
    project = open_project(tmp_path / "proj", images, posts, tagger=WordTagger(), ocr=FakeOCR())
    live = LiveServer(create_annotate_app(project)).start()
    try:
        browser.get(live.url + "/")
        status_has(browser, "opened post1")  # a new project starts at its first item
        assert marks(browser) == [("Alice", "ORG"), ("Paris", "LOC")]  # pre-tagged by the model, with scores
        assert browser.find_element(By.CSS_SELECTOR, "#tokens mark.entity").get_attribute("title") == "ORG, score 0.800"
        assert [b.text for b in browser.find_elements(By.CSS_SELECTOR, "#types button")] == ["1 LOC", "2 ORG", "3 PER"]

        # correct an entity: drag over "Alice Smith", key 3 (PER) replaces the model's ORG on "Alice"
        ActionChains(browser).click_and_hold(token(browser, 0)).move_to_element(token(browser, 1)).release().perform()
        press(browser, "3")
        status_has(browser, "saved v2")
        # add one: click "Google", then the ORG button
        ActionChains(browser).click(token(browser, 3)).perform()
        browser.find_element(By.CSS_SELECTOR, '#types button[data-type="ORG"]').click()
        status_has(browser, "saved v3")
        assert marks(browser) == [("Alice Smith", "PER"), ("Google", "ORG"), ("Paris", "LOC")]
        # retype Paris by mouse and key, then undo it
        browser.find_elements(By.CSS_SELECTOR, "#tokens mark.entity")[2].click()
        press(browser, "3")
        status_has(browser, "saved v4")
        assert marks(browser)[2] == ("Paris", "PER")
        press(browser, "u")
        status_has(browser, "undone: now v5")
        assert marks(browser)[2] == ("Paris", "LOC")
        # edit a word into three: the entities after it move along
        ActionChains(browser).double_click(token(browser, 2)).perform()
        field = browser.find_element(By.CSS_SELECTOR, "input.token-edit")
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys("pays a visit to", Keys.ENTER)
        status_has(browser, "saved v6")
        assert marks(browser) == [("Alice Smith", "PER"), ("Google", "ORG"), ("Paris", "LOC")]
        # draw a box for Alice Smith on the 400x200 image (shown at its own size)
        browser.find_elements(By.CSS_SELECTOR, "#tokens mark.entity")[0].click()
        press(browser, "b")
        image = browser.find_element(By.CSS_SELECTOR, "#figures img")
        WebDriverWait(browser, 10).until(lambda b: image.size["width"] == 400)
        ActionChains(browser).move_to_element_with_offset(image, -150, -50).click_and_hold() \
            .move_by_offset(100, 50).release().perform()
        status_has(browser, "saved v7: box drawn")
        assert browser.find_element(By.CSS_SELECTOR, "#figures .box").text == "Alice Smith"
        press(browser, Keys.ENTER)  # done, on to the next unfinished item
        status_has(browser, "opened post2")
        assert "1 of 5 done" in browser.find_element(By.ID, "progress").text
        assert browser.save_screenshot(str(tmp_path / "annotate.png"))
    finally:
        live.stop()

    saved = project.store.get("post1")
    assert saved.done and saved.tokens == ["Alice", "Smith", "pays", "a", "visit", "to", "Google", "in", "Paris"]
    assert [(e["start"], e["end"], e["type"]) for e in saved.entities] == [(0, 2, "PER"), (6, 7, "ORG"), (8, 9, "LOC")]
    (box,) = saved.entities[0]["boxes"]
    assert all(abs(a - b) <= 2 for a, b in zip(box, [50, 50, 150, 100])), box

    # a restart: the project reopened from its folder alone, the page resumes at the first unfinished item
    reopened = open_project(tmp_path / "proj", ocr=FakeOCR())
    live = LiveServer(create_annotate_app(reopened)).start()
    try:
        browser.get(live.url + "/")
        status_has(browser, "opened post2")
        assert "item post2 (2 of 5)" in browser.find_element(By.ID, "item-line").text
        assert "1 of 5 done" in browser.find_element(By.ID, "progress").text
        # another tab saves post2 first: the page's save is refused with a 409 it explains
        other = httpx.put(f"{live.url}/v1/items/post2", json={"version": 1, "tokens": ["nothing", "here"], "entities": []})
        assert other.status_code == 200
        ActionChains(browser).click(token(browser, 0)).perform()
        press(browser, "1")
        status_has(browser, "not saved")
        assert "changed elsewhere" in browser.find_element(By.ID, "status").text
        assert browser.find_element(By.ID, "status").get_attribute("class") == "error"
        press(browser, "r")  # reload, then the change goes through
        status_has(browser, "opened post2")
        ActionChains(browser).click(token(browser, 0)).perform()
        press(browser, "1")
        status_has(browser, "saved v3")
    finally:
        live.stop()

    out = tmp_path / "out.jsonl"
    assert export_project(tmp_path / "proj", "jsonl", out).written == 1
    (post,) = read_posts(out)
    assert post.id == "post1" and post.tags == ["B-PER", "I-PER", "O", "O", "O", "O", "B-ORG", "O", "B-LOC"]
    assert post.entities[0].boxes and post.images == ["post1.jpg"]
