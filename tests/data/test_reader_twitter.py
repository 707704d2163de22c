"""Twitter-2015/2017 CoNLL+IMGID: reading, type map, repair policy, errors, writer round trip."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mner.data.errors import DataFormatError
from mner.data.post import Entity, Post
from mner.data.readers import read_posts, write_posts


def test_reads_ids_tokens_images_and_source(fixtures: Path) -> None:
    path = fixtures / "twitter.txt"
    posts = read_posts(path, "twitter")
    assert [p.id for p in posts] == ["1001", "1002", "17_06_3"]
    assert posts[0].tokens == ["Kawhi", "Leonard", "joins", "the", "Raptors", "#NBA"]
    assert [p.images for p in posts] == [["1001.jpg"], ["1002.jpg"], ["17_06_3.jpg"]]
    assert [(p.source.path, p.source.line) for p in posts] == [(str(path), 1), (str(path), 9), (str(path), 15)]


def test_other_is_reported_as_misc_and_entities_come_from_tags(fixtures: Path) -> None:
    post = read_posts(fixtures / "twitter.txt")[0]
    assert post.tags == ["B-PER", "I-PER", "O", "O", "B-ORG", "B-MISC"]
    assert [(e.span, e.text) for e in post.entities] == [
        ((0, 2, "PER"), "Kawhi Leonard"),
        ((4, 5, "ORG"), "Raptors"),
        ((5, 6, "MISC"), "#NBA"),
    ]


def test_empty_type_map_keeps_the_file_names(fixtures: Path) -> None:
    post = read_posts(fixtures / "twitter.txt", type_map={})[0]
    assert post.tags[-1] == "B-OTHER"
    assert post.entities[-1].type == "OTHER"


def test_images_are_absolute_paths_under_images_dir(fixtures: Path, tmp_path: Path) -> None:
    posts = read_posts(fixtures / "twitter.txt", images_dir=tmp_path)
    assert posts[2].images == [str(tmp_path / "17_06_3.jpg")]
    assert all(os.path.isabs(p.images[0]) for p in posts)


def test_stray_inside_tag_follows_the_repair_policy(fixtures: Path) -> None:
    path = fixtures / "twitter_stray_i.txt"
    begin = read_posts(path)[0]  # conlleval / seqeval reading: a new entity
    assert [e.span for e in begin.entities] == [(0, 3, "MISC"), (4, 5, "MISC")]
    assert begin.tags[4] == "I-MISC"  # tags kept as in the file
    drop = read_posts(path, repair="drop")[0]
    assert [e.span for e in drop.entities] == [(0, 3, "MISC")]
    assert drop.tags[4] == "O"  # rewritten so tags and entities agree


def test_unknown_repair_policy_is_refused(fixtures: Path) -> None:
    with pytest.raises(ValueError, match="repair policy"):
        read_posts(fixtures / "twitter.txt", repair="guess")


@pytest.mark.parametrize(
    ("name", "line", "words"),
    [
        ("twitter_unknown_tag.txt", 4, "unknown tag 'B_ORG'"),
        ("twitter_missing_tab.txt", 3, "missing tab"),
        ("twitter_empty_token.txt", 3, "empty token"),
        ("twitter_many_problems.txt", 4, "unknown tag 'ORG'"),
    ],
)
def test_malformed_lines_name_file_and_line(fixtures: Path, name: str, line: int, words: str) -> None:
    path = fixtures / name
    with pytest.raises(DataFormatError) as caught:
        read_posts(path, "twitter")
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert words in str(caught.value)
    assert (caught.value.path, caught.value.line) == (str(path), line)


def test_bioes_tags_are_refused_at_their_line(tmp_path: Path) -> None:
    path = tmp_path / "bioes.txt"
    path.write_text("IMGID:1\nRome\tS-LOC\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=rf"^{path}:2: .*BIOES"):
        read_posts(path, "twitter")


def test_header_without_tokens_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty_post.txt"
    path.write_text("IMGID:1\nhi\tO\n\nIMGID:2\n\nIMGID:3\nyo\tO\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=rf"^{path}:4: post '2' has no tokens"):
        read_posts(path, "twitter")


def test_non_breaking_space_token_is_kept(tmp_path: Path) -> None:
    # Twitter-2015 valid has a token that is a lone U+00A0: it is not "empty".
    path = tmp_path / "nbsp.txt"
    path.write_text("IMGID:1\nhi\tO\n\u00a0\tO\n", encoding="utf-8")
    assert read_posts(path)[0].tokens == ["hi", "\u00a0"]


def test_writer_round_trip_is_byte_identical(fixtures: Path, tmp_path: Path) -> None:
    posts = read_posts(fixtures / "twitter.txt", type_map={})
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    write_posts(posts, first, "twitter")
    write_posts(read_posts(first, type_map={}), second, "twitter")
    original = (fixtures / "twitter.txt").read_text(encoding="utf-8")
    assert first.read_text(encoding="utf-8") == original + "\n"  # the writer ends every post with a blank line
    assert second.read_bytes() == first.read_bytes()


def test_writer_round_trip_keeps_posts(fixtures: Path, tmp_path: Path) -> None:
    posts = read_posts(fixtures / "twitter.txt")
    out = tmp_path / "out.txt"
    write_posts(posts, out, "twitter")
    again = read_posts(out)
    assert [(p.id, p.tokens, p.tags, p.images) for p in again] == [(p.id, p.tokens, p.tags, p.images) for p in posts]
    assert [[e.span for e in p.entities] for p in again] == [[e.span for e in p.entities] for p in posts]


def test_writer_uses_entities_for_unlabelled_posts(tmp_path: Path) -> None:
    post = Post(id="9", tokens=["Obama", "in", "Berlin"], entities=[Entity(0, 1, "PER"), Entity(2, 3, "LOC")])
    write_posts([post], tmp_path / "p.txt", "twitter")
    assert (tmp_path / "p.txt").read_text() == "IMGID:9\nObama\tB-PER\nin\tO\nBerlin\tB-LOC\n\n"


def test_writer_refuses_tokens_that_would_break_the_format(tmp_path: Path) -> None:
    post = Post(id="9", tokens=["a\tb"], tags=["O"])
    with pytest.raises(ValueError, match="token 0"):
        write_posts([post], tmp_path / "p.txt", "twitter")
    assert not (tmp_path / "p.txt").exists()  # nothing half-written
