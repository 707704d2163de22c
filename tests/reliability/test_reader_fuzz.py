"""Property: random or mutated bytes never raise anything but mner's own data error, with a location.

Every reader (and format detection and the validator) is fed random bytes and
mutations of valid files (byte flips, insertions of separators, BOMs and NULs,
deletions, truncation). Allowed outcomes: posts, or a `DataFormatError` whose
message starts with the file it is about (``file:line: `` or ``file: ``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from mner.data.errors import DataFormatError
from mner.data.readers import FORMATS, read_posts, read_vinvl, read_visual_text, write_posts
from mner.data.readers.gmner import read_voc_boxes
from mner.data.validate import validate_file
from post_strategies import (FUZZ, boxes_st, format_blip2, format_cmner, format_knowledge, format_mner_mi,
                             format_owl, format_voc_xml, mutated, posts_st, vinvl_npz)


def jsonl_bytes(posts: list) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        write_posts(posts, Path(tmp) / "p.jsonl")
        return (Path(tmp) / "p.jsonl").read_bytes()


def twitter_bytes(posts: list) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        write_posts(posts, Path(tmp) / "p.txt", "twitter")
        return (Path(tmp) / "p.txt").read_bytes()


VALID = {
    "twitter": st.lists(posts_st(labelled=True), min_size=1, max_size=3).map(twitter_bytes),
    "gmner": st.lists(posts_st(labelled=True), min_size=1, max_size=3).map(twitter_bytes),
    "cmner": st.lists(posts_st(labelled=True, chars=True), min_size=1, max_size=3).map(format_cmner),
    "mner_mi": st.lists(posts_st(), min_size=1, max_size=3).map(format_mner_mi),
    "jsonl": st.lists(posts_st(rich=True), min_size=1, max_size=3).map(jsonl_bytes),
}


def inputs(fmt: str) -> st.SearchStrategy[bytes]:
    return st.binary(max_size=300) | VALID[fmt].flatmap(mutated)


def assert_located(err: DataFormatError, *paths: Path) -> None:
    assert any(str(err).startswith(f"{p}:") or str(err).startswith(f"{p}: ") for p in paths), str(err)
    assert err.path in {str(p) for p in paths}


def read_or_located_error(path: Path, fmt: str | None, *also: Path) -> None:
    try:
        read_posts(path, fmt)
    except DataFormatError as err:
        assert_located(err, path, *also)


@FUZZ
@given(st.sampled_from(FORMATS).flatmap(lambda f: st.tuples(st.just(f), inputs(f))))
def test_post_readers_and_detection(case: tuple[str, bytes]) -> None:
    fmt, data = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.txt"
        path.write_bytes(data)
        if fmt == "gmner":
            (Path(tmp) / "xml").mkdir()
            (Path(tmp) / "xml" / "x.xml").write_bytes(b"<annotation/>")
        read_or_located_error(path, fmt)
        read_or_located_error(path, None)  # detection first


@FUZZ
@given(st.sampled_from(FORMATS).flatmap(lambda f: st.tuples(st.just(f), inputs(f))))
def test_validator_lists_problems_with_locations(case: tuple[str, bytes]) -> None:
    fmt, data = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.txt"
        path.write_bytes(data)
        try:
            problems = validate_file(path, fmt)
        except DataFormatError as err:  # a file whose format cannot even be detected / encoding refused
            assert_located(err, path)
            return
    for problem in problems:
        assert problem.path == str(path) and str(problem).startswith(f"{path}")


@FUZZ
@given(st.lists(posts_st(labelled=True), min_size=1, max_size=2), st.lists(boxes_st(), max_size=3), st.data())
def test_gmner_xml_files(posts: list, boxes: list, data: st.DataObject) -> None:
    xml = format_voc_xml([(p.tokens[0], b) for p in posts for b in boxes])
    xml = data.draw(st.just(xml) | mutated(xml) | st.binary(max_size=200))
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "xml").mkdir()
        path = Path(tmp) / "dev.txt"
        path.write_bytes(twitter_bytes(posts))
        xml_path = Path(tmp) / "xml" / f"{posts[0].id}.xml"
        xml_path.write_bytes(xml)
        try:
            read_voc_boxes(xml_path)
        except DataFormatError as err:
            assert_located(err, xml_path)
        read_or_located_error(path, "gmner", xml_path)


TEXTS = st.dictionaries(st.text("abc123_", min_size=1, max_size=6), st.text(min_size=1, max_size=20), max_size=4)


@FUZZ
@given(st.sampled_from([format_blip2, format_owl, format_knowledge]), TEXTS, st.data())
def test_visual_text_readers(writer, texts: dict, data: st.DataObject) -> None:  # noqa: ANN001
    raw = data.draw(mutated(writer(texts)) | st.binary(max_size=200))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "captions.txt"
        path.write_bytes(raw)
        for fmt in (None, "blip2", "owl", "knowledge"):
            try:
                read_visual_text(path, fmt)
            except DataFormatError as err:
                assert_located(err, path)


@FUZZ
@given(st.integers(1, 4), st.data())
def test_vinvl_npz(n: int, data: st.DataObject) -> None:
    valid = vinvl_npz(np.ones((n, 4)), np.ones(n), np.ones((n, 2), dtype=np.float32), ["a"] * n)
    raw = data.draw(mutated(valid) | st.binary(max_size=300))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "1.jpg.npz"
        path.write_bytes(raw)
        try:
            read_vinvl(path)
        except DataFormatError as err:
            assert_located(err, path)
        for problem in validate_file(path):
            assert problem.path == str(path)
