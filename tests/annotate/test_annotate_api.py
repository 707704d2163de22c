"""The annotation API in process (no browser): preparing items, saving, conflicts, undo, field errors."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from annotate_helpers import FakeOCR, WordTagger, make_inputs
from mner.annotate import open_project
from mner.annotate.app import create_annotate_app


@pytest.fixture
def project(tmp_path):
    images, posts = make_inputs(tmp_path)
    return open_project(tmp_path / "proj", images, posts, tagger=WordTagger(), ocr=FakeOCR())


@pytest.fixture
def client(project):
    return TestClient(create_annotate_app(project))


def test_items_come_from_posts_then_the_images_no_post_names(client):
    info = client.get("/v1/project").json()
    assert [i["id"] for i in info["items"]] == ["post1", "post2", "post3", "blank", "sign"]
    assert info["types"] == ["LOC", "ORG", "PER"]  # the model's labels
    assert info["resume"] == "post1" and info["done"] == 0


def test_an_image_is_read_by_ocr_and_pre_tagged_once(client, project):
    item = client.get("/v1/items/sign").json()
    assert item["tokens"] == ["Welcome", "to", "Paris", "Alice", "Smith"]
    assert item["origin"] == "ocr+model" and item["version"] == 1
    assert [(e["start"], e["end"], e["type"], e["score"]) for e in item["entities"]] == [(2, 3, "LOC", 0.8), (3, 4, "ORG", 0.8)]
    assert item["visual_text"]["ocr"] == "Welcome to Paris\nAlice Smith"
    client.get("/v1/items/sign")
    assert project.preparer._ocr.calls == ["sign.png"]  # opened twice, read once
    assert client.get(item["image_urls"][0]).content[:4] == b"\x89PNG"


def test_opening_an_item_prepares_the_next_new_one_ahead(client, project):
    client.get("/v1/items/post3")
    assert project.store.get("blank").version == 1 and project.preparer._ocr.calls == ["blank.png"]
    assert project.store.get("sign").version == 0  # one ahead, not all
    client.get("/v1/items/blank")
    assert project.preparer._ocr.calls == ["blank.png", "sign.png"]


def test_labelled_posts_keep_their_entities_and_unlabelled_ones_are_pre_tagged(client):
    assert client.get("/v1/items/post3").json()["entities"] == [
        {"start": 0, "end": 2, "type": "PER", "boxes": []}, {"start": 3, "end": 4, "type": "LOC", "boxes": []}]
    post1 = client.get("/v1/items/post1").json()
    assert post1["origin"] == "post+model" and [e["type"] for e in post1["entities"]] == ["ORG", "LOC"]


def test_save_a_stale_version_is_a_409_and_undo_walks_back(client):
    item = client.get("/v1/items/sign").json()
    fixed = [{"start": 2, "end": 3, "type": "LOC"}, {"start": 3, "end": 5, "type": "PER"}]
    saved = client.put("/v1/items/sign", json={"version": 1, "tokens": item["tokens"], "entities": fixed})
    assert saved.status_code == 200 and saved.json()["version"] == 2 and saved.json()["can_undo"]
    stale = client.put("/v1/items/sign", json={"version": 1, "tokens": item["tokens"], "entities": []})
    assert stale.status_code == 409 and stale.json()["field"] == "version"
    assert "changed elsewhere" in stale.json()["error"] and "version 2" in stale.json()["error"]
    done = client.put("/v1/items/sign", json={"version": 2, "tokens": item["tokens"], "entities": [], "done": True}).json()
    assert done["done"] and done["entities"] == []
    back = client.post("/v1/undo/sign", json={"version": 3}).json()
    assert back["version"] == 4 and [e["type"] for e in back["entities"]] == ["LOC", "PER"] and not back["done"]
    first = client.post("/v1/undo/sign", json={"version": 4}).json()
    assert [e["type"] for e in first["entities"]] == ["LOC", "ORG"] and not first["can_undo"]
    nothing = client.post("/v1/undo/sign", json={"version": 5})
    assert nothing.status_code == 409 and "nothing to undo" in nothing.json()["error"]


@pytest.mark.parametrize("body, status, field", [
    ({"tokens": ["a", "b"], "entities": [{"start": 1, "end": 3, "type": "PER"}]}, 422, "entities[0].end"),
    ({"tokens": ["a", "b"], "entities": [{"start": 0, "end": 1, "type": "CAT"}]}, 422, "entities[0].type"),
    ({"tokens": ["a", "b"], "entities": [{"start": 0, "end": 2, "type": "PER"},
                                         {"start": 1, "end": 2, "type": "LOC"}]}, 422, "entities[1]"),
    ({"tokens": ["a b"], "entities": []}, 422, "tokens[0]"),
    ({"tokens": ["a"], "entities": [{"start": 0, "end": 1, "type": "PER", "boxes": [[5, 5, 1, 9]]}]}, 422,
     "entities[0].boxes[0]"),
    ({"tokens": ["a"], "entities": [{"start": 0, "end": "x", "type": "PER"}]}, 422, "entities[0].end"),
    ({"tokens": "a", "entities": []}, 422, "tokens"),
])
def test_a_bad_save_is_refused_naming_the_field(client, body, status, field):
    client.get("/v1/items/post2")
    response = client.put("/v1/items/post2", json={"version": 1, **body})
    assert response.status_code == status and response.json()["field"] == field, response.json()
    assert client.get("/v1/items/post2").json()["version"] == 1  # nothing half-saved


def test_an_item_not_yet_opened_cannot_be_saved(client):
    response = client.put("/v1/items/blank", json={"version": 0, "tokens": ["x"], "entities": []})
    assert response.status_code == 409 and "has not been opened yet" in response.json()["error"]


def test_unknown_items_malformed_and_oversize_bodies(client):
    assert client.get("/v1/items/nope").status_code == 404
    assert client.get("/v1/image/3/post1").status_code == 404
    bad = client.put("/v1/items/post2", content=b"{not json", headers={"content-type": "application/json"})
    assert bad.status_code == 422 and "error" in bad.json()
    huge = client.put("/v1/items/post2", content=b"x" * (2 * 1024 * 1024), headers={"content-type": "application/json"})
    assert huge.status_code == 413


def test_a_post_naming_an_image_outside_the_folder_is_refused(tmp_path):
    images, _ = make_inputs(tmp_path)
    posts = tmp_path / "evil.jsonl"
    posts.write_text('{"id": "x", "tokens": ["a"], "images": ["../posts.jsonl"]}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"evil.jsonl:1: .*unsafe file name '../posts.jsonl'"):
        open_project(tmp_path / "proj", images, posts, ocr=FakeOCR())
    (images / "link.jpg").symlink_to(tmp_path / "posts.jsonl")  # a name that looks harmless, a link that leaves
    posts.write_text('{"id": "x", "tokens": ["a"], "images": ["link.jpg"]}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"evil.jsonl:1: post 'x': unsafe file name 'link.jpg': a symbolic link"):
        open_project(tmp_path / "proj2", images, posts, ocr=FakeOCR())


def test_a_restart_keeps_the_work_and_resumes_at_the_first_unfinished(tmp_path):
    images, posts = make_inputs(tmp_path)
    first = open_project(tmp_path / "proj", images, posts, tagger=WordTagger(), ocr=FakeOCR())
    client = TestClient(create_annotate_app(first))
    item = client.get("/v1/items/post1").json()
    client.put("/v1/items/post1", json={"version": 1, "tokens": item["tokens"], "entities": [], "done": True})
    again = open_project(tmp_path / "proj", ocr=FakeOCR())  # no --images/--posts: the saved ones
    info = TestClient(create_annotate_app(again)).get("/v1/project").json()
    assert info["resume"] == "post2" and info["done"] == 1 and info["types"] == ["LOC", "ORG", "PER"]
    assert again.store.get("post1").entities == [] and again.images_dir == images.resolve()
