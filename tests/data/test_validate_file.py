"""validate_file lists every problem, each as file:line: problem, with its severity."""

from __future__ import annotations

from pathlib import Path

from mner.data.errors import Problem
from mner.data.validate import validate_file


def summary(problems: list[Problem]) -> list[tuple[int | None, str]]:
    return [(p.line, p.severity) for p in problems]


def test_lists_every_problem_of_a_conll_file(fixtures: Path) -> None:
    path = fixtures / "twitter_many_problems.txt"
    problems = validate_file(path)
    assert summary(problems) == [(4, "error"), (9, "error"), (12, "error"), (14, "warning"), (16, "error")]
    text = [str(p) for p in problems]
    assert text[0] == f"{path}:4: unknown tag 'ORG' (expected O, B-<type> or I-<type>)"
    assert text[1].startswith(f"{path}:9: missing tab")
    assert text[2].startswith(f"{path}:12: empty token")
    assert text[3].startswith(f"{path}:14: warning: 'I-LOC' without a preceding B-LOC")
    assert "BIOES" in text[4]


def test_clean_file_has_no_problems(fixtures: Path) -> None:
    assert validate_file(fixtures / "twitter.txt") == []
    assert validate_file(fixtures / "cmner" / "train.txt") == []


def test_stray_inside_is_only_a_warning(fixtures: Path) -> None:
    assert summary(validate_file(fixtures / "twitter_stray_i.txt")) == [(6, "warning")]


def test_gmner_xml_problems_name_the_xml_file(fixtures: Path) -> None:
    problems = validate_file(fixtures / "gmner_bad" / "dev.txt")
    xml = fixtures / "gmner_bad" / "xml"
    assert [str(p).split(": ")[0] for p in problems] == [f"{xml / 'B1.xml'}:12", f"{xml / 'B2.xml'}:8"]
    assert "bad xml" in problems[0].message and "not a number" in problems[1].message


def test_gmner_unmatched_box_name_is_a_warning(fixtures: Path) -> None:
    (problem,) = validate_file(fixtures / "gmner" / "dev.txt")
    assert (problem.path.endswith("G3.xml"), problem.line, problem.severity) == (True, 14, "warning")
    assert "'Katy Perry' matches no entity of post 'G3'" in problem.message


def test_json_lines_problems_all_listed(fixtures: Path) -> None:
    problems = validate_file(fixtures / "mner_mi_bad.jsonl", "mner_mi")
    assert summary(problems) == [(2, "error"), (3, "error"), (4, "error")]
    assert "token 0: unknown tag 'B_PER'" in problems[2].message
    problems = validate_file(fixtures / "jsonl_bad.jsonl", "jsonl")
    assert summary(problems) == [(2, "error"), (3, "error"), (4, "error")]


def test_images_missing_png_named_jpg_and_truncated(tmp_path: Path, images_dir: Path) -> None:
    path = tmp_path / "posts.txt"
    ids = ["good", "png_named", "truncated", "missing"]
    path.write_text("".join(f"IMGID:{i}\nword\tO\n\n" for i in ids))
    problems = validate_file(path, images_dir=images_dir)
    found = [(p.line, p.severity) for p in problems]
    assert found == [(4, "warning"), (7, "error"), (10, "error")]
    assert f"post 'png_named': image {images_dir / 'png_named.jpg'}: PNG bytes under a .jpg name" in problems[0].message
    assert "truncated" in problems[1].message
    assert problems[2].message == f"post 'missing': image {images_dir / 'missing.jpg'}: missing"
    assert all(str(p).startswith(f"{path}:") for p in problems)


def test_repeated_post_id_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "dup.txt"
    path.write_text("IMGID:1\na\tO\n\nIMGID:1\nb\tO\n")
    (problem,) = validate_file(path)
    assert (problem.line, problem.severity, problem.message) == (4, "warning", "post id '1' repeats line 1")


def test_visual_text_regions_and_image_folders_are_checked(fixtures: Path, images_dir: Path, tmp_path: Path) -> None:
    assert summary(validate_file(fixtures / "captions_bad.txt")) == [(2, "error"), (3, "error")]
    problems = validate_file(images_dir)
    assert {(Path(p.path).name, p.severity) for p in problems} == {("png_named.jpg", "warning"), ("truncated.jpg", "error")}
    (tmp_path / "r.npz").write_bytes(b"PK\x03\x04 not really a zip")
    (problem,) = validate_file(tmp_path / "r.npz")
    assert problem.line is None and "cannot read VinVL npz" in problem.message
