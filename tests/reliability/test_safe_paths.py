"""Paths from data never resolve outside the folder the user gave (docs/reliability.md, 'Inputs')."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from data_image_factory import jpeg_bytes
from mner.cli.data import data_app
from mner.data.errors import DataFormatError
from mner.data.images import IMAGE_POLICIES, apply_image_policy
from mner.data.loading import load_posts
from mner.data.post import Post, SourceRef
from mner.data.readers import read_posts
from mner.data.safe_paths import UnsafePathError, check_name, resolve_inside
from mner.data.validate import validate_file


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    """tmp/images/ok.jpg, tmp/secret.jpg beside the images folder, tmp/images/link.jpg -> ../secret.jpg."""
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "ok.jpg").write_bytes(jpeg_bytes())
    (tmp_path / "secret.jpg").write_bytes(jpeg_bytes(color=(0, 0, 0)))
    os.symlink(tmp_path / "secret.jpg", tmp_path / "images" / "link.jpg")
    os.symlink(tmp_path / "images" / "ok.jpg", tmp_path / "images" / "inner.jpg")
    return tmp_path


@pytest.mark.parametrize("name", ["../secret.jpg", "a/../../secret.jpg", "..\\secret.jpg", "", "x\x00.jpg"])
def test_names_that_climb_or_are_not_names_are_refused(layout: Path, name: str) -> None:
    with pytest.raises(UnsafePathError):
        resolve_inside(layout / "images", name)
    with pytest.raises(UnsafePathError):
        check_name(name)


def test_absolute_paths_only_inside_the_folder_and_symlinks_only_within(layout: Path) -> None:
    images = layout / "images"
    assert resolve_inside(images, "ok.jpg") == images / "ok.jpg"
    assert resolve_inside(images, str(images / "ok.jpg")) == images / "ok.jpg"
    assert resolve_inside(images, "inner.jpg") == images / "inner.jpg"  # link inside the folder: fine
    with pytest.raises(UnsafePathError, match="absolute path outside"):
        resolve_inside(images, str(layout / "secret.jpg"))
    with pytest.raises(UnsafePathError, match="symbolic link"):
        resolve_inside(images, "link.jpg")
    with pytest.raises(UnsafePathError, match="absolute path"):
        check_name(str(images / "ok.jpg"))  # no folder given: nothing may hold an absolute path


def write_twitter(path: Path, image_ids: list[str]) -> Path:
    path.write_text("".join(f"IMGID:{i}\nMessi\tB-PER\n\n" for i in image_ids), encoding="utf-8")
    return path


def test_twitter_imgid_climbing_out_is_a_file_line_error_with_and_without_images(layout: Path) -> None:
    data = write_twitter(layout / "train.txt", ["ok", "../secret"])
    for images_dir in (layout / "images", None):
        with pytest.raises(DataFormatError, match=r"train\.txt:4: post '\.\./secret': image .*climbs out"):
            read_posts(data, images_dir=images_dir)


def test_jsonl_absolute_and_symlink_escapes(layout: Path) -> None:
    data = layout / "posts.jsonl"
    rows = [{"id": "a", "tokens": ["x"], "images": ["ok.jpg"]},
            {"id": "b", "tokens": ["x"], "images": [str(layout / "secret.jpg")]}]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataFormatError, match=r"posts\.jsonl:2: .*absolute path outside"):
        read_posts(data, images_dir=layout / "images")
    rows[1]["images"] = ["link.jpg"]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataFormatError, match=r"posts\.jsonl:2: .*symbolic link"):
        read_posts(data, images_dir=layout / "images")


def test_mner_mi_and_gmner_xml_names(layout: Path) -> None:
    mi = layout / "mi.jsonl"
    mi.write_text(json.dumps({"id": "1", "text": ["x"], "label": ["O"], "images": ["../secret.jpg"]}) + "\n")
    with pytest.raises(DataFormatError, match=r"mi\.jsonl:1: .*climbs out"):
        read_posts(mi, images_dir=layout / "images")
    gm = layout / "gm"
    (gm / "xml").mkdir(parents=True)
    (gm / "xml" / "a.xml").write_text("<annotation></annotation>")
    data = write_twitter(gm / "train.txt", ["a", "/etc/passwd"])
    with pytest.raises(DataFormatError, match=r"train\.txt:4: "):
        read_posts(data, "gmner")


@pytest.mark.parametrize("mode", IMAGE_POLICIES)
def test_no_image_policy_lets_a_climbing_name_through(layout: Path, mode: str) -> None:
    """Training and evaluation read through load_posts; the refusal comes before any image policy."""
    data = write_twitter(layout / "train.txt", ["ok", "../secret"])
    with pytest.raises(DataFormatError, match=r"train\.txt:4:"):
        posts = load_posts(data, images_dir=layout / "images")
        apply_image_policy(posts, mode)


def test_validate_and_stats_report_the_post(layout: Path) -> None:
    data = write_twitter(layout / "train.txt", ["ok", "../secret", "link"])
    problems = [str(p) for p in validate_file(data, images_dir=layout / "images")]
    assert any("train.txt:4:" in p and "climbs out" in p for p in problems)
    assert any("train.txt:7:" in p and "symbolic link" in p for p in problems)
    assert not any("secret.jpg: " in p and "missing" in p for p in problems)
    bare = [str(p) for p in validate_file(data)]  # no --images: the name alone is wrong
    assert any("train.txt:4:" in p and "climbs out" in p for p in bare)
    result = CliRunner().invoke(data_app, ["validate", str(data), "--images", str(layout / "images")])
    assert result.exit_code == 1 and "train.txt:4:" in result.output
    result = CliRunner().invoke(data_app, ["stats", str(data), "--images", str(layout / "images")])
    assert result.exit_code == 1 and "train.txt:4:" in result.output and "Traceback" not in result.output


def test_regions_file_linked_out_of_the_regions_folder(layout: Path) -> None:
    regions = layout / "regions"
    regions.mkdir()
    (layout / "elsewhere.npz").write_bytes(b"not used")
    os.symlink(layout / "elsewhere.npz", regions / "ok.jpg.npz")
    data = write_twitter(layout / "train.txt", ["ok"])
    with pytest.raises(DataFormatError, match=r"train\.txt:1: post 'ok': regions .*symbolic link"):
        load_posts(data, images_dir=layout / "images", regions_dir=regions)


def test_prediction_posts_resolve_under_the_model_image_root(layout: Path) -> None:
    from mner.cli.predict_file import read_jsonl_items
    from mner.modules.visual.post_images import candidate_images

    post = Post(id="p", tokens=["x"], images=["../secret.jpg"], source=SourceRef("in.jsonl", 3))
    with pytest.raises(UnsafePathError, match=r"in\.jsonl:3: post 'p'"):
        candidate_images([post], layout / "images")
    ok = Post(id="q", tokens=["x"], images=["ok.jpg"])
    assert candidate_images([ok], layout / "images")[0][0].path == layout / "images" / "ok.jpg"
    items = layout / "predict.jsonl"
    items.write_text('{"text": "a"}\n{"text": "b", "images": ["/etc/passwd"]}\n')
    with pytest.raises(ValueError, match=r"predict\.jsonl:2: unsafe image name"):
        read_jsonl_items(items)
