"""ImagePolicy: fail, skip-post, no-image, with a report of what was affected."""

from __future__ import annotations

from pathlib import Path

import pytest

from mner.data.images import ImagePolicy, ImagePolicyError, apply_image_policy
from mner.data.post import Post, Region


def make_posts(images_dir: Path) -> list[Post]:
    def path(name: str) -> str:
        return str(images_dir / name)

    return [
        Post(id="ok", tokens=["a"], images=[path("good.jpg")]),
        Post(id="png", tokens=["b"], images=[path("png_named.jpg")]),  # loads fine
        Post(
            id="mixed",
            tokens=["c"],
            images=[path("missing.jpg"), path("good.jpg"), path("truncated.jpg")],
            regions=[Region((0, 0, 1, 1), image_index=0), Region((0, 0, 2, 2), image_index=1), Region((0, 0, 3, 3), image_index=2)],
        ),
        Post(id="text-only", tokens=["d"]),
    ]


def test_fail_raises_listing_every_bad_image(images_dir: Path) -> None:
    with pytest.raises(ImagePolicyError) as caught:
        apply_image_policy(make_posts(images_dir), "fail")
    report = caught.value.report
    assert [(i.post_id, Path(i.image).name) for i in report.issues] == [("mixed", "missing.jpg"), ("mixed", "truncated.jpg")]
    assert "not found" in report.issues[0].reason and "truncated" in report.issues[1].reason
    assert "2 unusable image(s)" in str(caught.value)


def test_skip_post_drops_posts_with_a_bad_image(images_dir: Path) -> None:
    kept, report = apply_image_policy(make_posts(images_dir), "skip-post")
    assert [p.id for p in kept] == ["ok", "png", "text-only"]
    assert (report.posts_checked, report.images_checked, report.posts_skipped, report.images_bad) == (4, 5, 1, 2)
    assert report.posts_without_images == 1


def test_no_image_removes_bad_images_and_their_regions(images_dir: Path) -> None:
    posts = make_posts(images_dir)
    kept, report = apply_image_policy(posts, "no-image")
    mixed = kept[2]
    assert [Path(i).name for i in mixed.images] == ["good.jpg"]
    assert [(r.box, r.image_index) for r in mixed.regions] == [((0, 0, 2, 2), 0)]  # re-indexed
    assert report.images_removed == 2 and report.posts_skipped == 0
    assert len(posts[2].images) == 3  # the input post is not modified


def test_report_summary_and_dict(images_dir: Path) -> None:
    _, report = ImagePolicy("skip-post").apply(make_posts(images_dir))
    summary = report.summary()
    assert summary.splitlines()[0].startswith("image policy 'skip-post': 5 images in 4 posts checked, 2 unusable")
    assert "post 'mixed'" in summary
    assert report.to_dict()["images_bad"] == 2


def test_header_only_check_misses_truncation(images_dir: Path) -> None:
    _, report = apply_image_policy(make_posts(images_dir), "no-image", decode=False)
    assert [Path(i.image).name for i in report.issues] == ["missing.jpg"]


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="skip-post"):
        ImagePolicy("ignore")
