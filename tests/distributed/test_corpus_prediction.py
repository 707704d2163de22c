"""Streaming corpus prediction: readers, file assignment, atomic outputs, reruns, two processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from distributed_helpers import run_mner, varied_posts
from mner.data.errors import DataFormatError
from mner.distributed.predict_corpus import assign_files, output_path, predict_corpus, predict_records
from mner.distributed.stream import corpus_files, stream_posts


@pytest.fixture(scope="module")
def tagger_run(tmp_path_factory, tiny_bert_dir):
    from mner.config import load_config
    from mner.training.run import train_run

    out = tmp_path_factory.mktemp("run") / "run"
    cfg = load_config(None, [f"output_dir={out}", "train.epochs=1", "train.batch_size=4", "train.lr.head=1e-2"])
    cfg["model"]["encoder"] = {"name": "encoder.hf.v1", "model": str(tiny_bert_dir)}
    posts = varied_posts(8, "r")
    train_run(cfg, train_posts=posts, dev_posts=posts, progress_bar=False, log=lambda *_: None)
    return out


def write_corpus(directory: Path) -> Path:
    """Five files of different sizes and both kinds, one in a subfolder."""
    directory.mkdir(parents=True, exist_ok=True)
    for k, n in enumerate([7, 3, 12, 1]):
        lines = [json.dumps({"tokens": p.tokens} if i % 2 else {"id": p.id, "text": " ".join(p.tokens)})
                 for i, p in enumerate(varied_posts(n, f"f{k}-"))]
        (directory / f"part{k}.jsonl").write_text("\n".join(lines) + "\n")
    (directory / "sub").mkdir(exist_ok=True)
    (directory / "sub" / "tweets.txt").write_text(
        "IMGID:1\nAlice\tB-PER\nwins\tO\n\nIMGID:2\r\nin\r\nParis\r\n\r\nIMGID:3\nrt\tO\n")
    return directory


def test_streams_read_jsonl_and_conll_posts_in_file_order(tmp_path):
    corpus = write_corpus(tmp_path / "in")
    conll = [p for p, _ in stream_posts(corpus / "sub" / "tweets.txt")]
    assert [(p.id, p.tokens) for p in conll] == [("1", ["Alice", "wins"]), ("2", ["in", "Paris"]), ("3", ["rt"])]
    jsonl = list(stream_posts(corpus / "part0.jsonl"))
    assert len(jsonl) == 7 and jsonl[-1][1] == (corpus / "part0.jsonl").stat().st_size  # bytes read, for progress


@pytest.mark.parametrize("name, text, where", [
    ("bad.jsonl", '{"tokens": ["a"]}\n{"tokens": \n', "bad.jsonl:2: not valid JSON"),
    ("bad.jsonl", '{"tokens": ["a"]}\n\n[1, 2]\n', "bad.jsonl:3: expected an object"),
    ("bad.jsonl", '{"tokens": "a b"}\n', "bad.jsonl:1: 'tokens' must be a list of strings"),
    ("bad.jsonl", '{"text": ["a"]}\n', "bad.jsonl:1: 'text' must be a string"),
    ("bad.jsonl", '{"tokens": ["a"], "images": 3}\n', "bad.jsonl:1: not a post"),
    ("bad.txt", "Alice\tB-PER\n", "bad.txt:1: token line before the first IMGID"),
    ("bad.txt", b"IMGID:1\n\xff\xfe\tO\n", "bad.txt:2: not UTF-8"),
])
def test_bad_input_names_the_file_and_line(tmp_path, name, text, where):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(DataFormatError, match=where):
        list(stream_posts(path))


def test_corpus_files_from_a_directory_a_glob_or_a_file(tmp_path):
    corpus = write_corpus(tmp_path / "in")
    root, files = corpus_files(corpus)
    assert root == corpus and [f.name for f in files] == ["part0.jsonl", "part1.jsonl", "part2.jsonl",
                                                            "part3.jsonl", "tweets.txt"]
    assert [f.name for f in corpus_files(f"{corpus}/part[12].jsonl")[1]] == ["part1.jsonl", "part2.jsonl"]
    assert corpus_files(corpus / "part1.jsonl")[1] == [corpus / "part1.jsonl"]
    assert output_path(corpus / "sub" / "tweets.txt", corpus, tmp_path / "out") == tmp_path / "out/sub/tweets.jsonl"
    with pytest.raises(FileNotFoundError, match="no such file"):
        corpus_files(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="no .jsonl"):
        corpus_files(f"{tmp_path}/*.nothing")


def test_files_are_shared_by_size_the_same_way_by_every_process(tmp_path):
    corpus = write_corpus(tmp_path / "in")
    files = corpus_files(corpus)[1]
    shares = assign_files(files, 2)
    assert sorted(f for s in shares for f in s) == sorted(files)  # each file once
    sizes = [sum(f.stat().st_size for f in s) for s in shares]
    assert max(sizes) - min(sizes) <= max(f.stat().st_size for f in files)
    assert assign_files(list(reversed(files)), 2) == shares  # order of listing does not matter
    assert assign_files(files, 8)[7] == []  # more processes than files: some idle, none fails


def test_outputs_are_complete_or_absent_and_a_rerun_skips_them(tmp_path, tagger_run):
    from mner.predict import Tagger

    tagger = Tagger.load(tagger_run)
    corpus, out = write_corpus(tmp_path / "in"), tmp_path / "out"
    report = predict_corpus(tagger, corpus, out, progress=False, log=lambda *_: None)
    assert (report.files_written, report.files_skipped, report.posts) == (5, 0, 7 + 3 + 12 + 1 + 3)
    records = [json.loads(line) for line in (out / "part2.jsonl").read_text().splitlines()]
    assert len(records) == 12 and set(records[0]) == {"id", "tokens", "entities", "inputs", "precision"}
    assert not list(out.rglob(".*partial*"))
    (out / "part1.jsonl").unlink()
    (out / "part3.jsonl").unlink()
    (corpus / "part3.jsonl").write_text('{"tokens": ["fine"]}\nnot json\n')  # fails mid-file
    with pytest.raises(DataFormatError, match="part3.jsonl:2"):
        predict_corpus(tagger, corpus, out, progress=False, log=lambda *_: None)
    assert (out / "part1.jsonl").exists() and not (out / "part3.jsonl").exists()
    assert not list(out.rglob(".*partial*"))  # the failed file left nothing behind
    (corpus / "part3.jsonl").write_text('{"tokens": ["fine"]}\n')
    report = predict_corpus(tagger, corpus, out, progress=False, log=lambda *_: None)
    assert (report.files_written, report.files_skipped, report.posts) == (1, 4, 1)


def test_predict_records_streams_any_iterable_of_posts(tagger_run):
    from mner.predict import Tagger

    tagger = Tagger.load(tagger_run)
    rows = ({"text": f"alice smith wins in paris {i}"} for i in range(600))  # e.g. a `datasets` dataset
    records = predict_records(tagger, rows, chunk=256)
    first = next(records)
    assert first["id"] == "post-0" and first["tokens"][0] == "alice"
    assert sum(1 for _ in records) == 599


@pytest.mark.slow  # two processes importing torch and transformers: ~10 s of CPU
def test_two_processes_write_what_one_process_writes_line_for_line(tmp_path, tagger_run):
    from typer.testing import CliRunner

    from mner.cli.main import app

    corpus = write_corpus(tmp_path / "in")
    single = CliRunner().invoke(app, ["predict", str(tagger_run), "--input", str(corpus), "--output",
                                      str(tmp_path / "one"), "--precision", "fp32"])  # in this process: the same code
    assert single.exit_code == 0, single.output
    run_mner("predict", str(tagger_run), "--input", str(corpus), "--output", str(tmp_path / "two"),
             "--processes", "2", "--precision", "fp32")  # one precision for all: this test is about sharding
    one = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*.jsonl"))
    two = sorted(p.relative_to(tmp_path / "two") for p in (tmp_path / "two").rglob("*.jsonl"))
    assert one == two and len(one) == 5
    for name in one:
        assert (tmp_path / "two" / name).read_text().splitlines() == (tmp_path / "one" / name).read_text().splitlines()
    # the one-file form of `mner predict --input` writes the same lines
    file_form = CliRunner().invoke(app, ["predict", str(tagger_run), "--input", str(corpus / "part0.jsonl"),
                                         "--output", str(tmp_path / "p0.jsonl"), "--precision", "fp32"])
    assert file_form.exit_code == 0, file_form.output
    assert (tmp_path / "p0.jsonl").read_text() == (tmp_path / "one" / "part0.jsonl").read_text()


def test_the_command_says_what_is_wrong_without_a_traceback(tmp_path, tagger_run):
    from typer.testing import CliRunner

    from mner.cli.main import app

    corpus = write_corpus(tmp_path / "in")
    no_output = CliRunner().invoke(app, ["predict", str(tagger_run), "--input", str(corpus)])
    assert no_output.exit_code == 1 and "give --output DIR" in no_output.output
    (corpus / "part1.jsonl").write_text('{"tokens": ["a"]}\n{"tokens": [1]}\n')
    bad = CliRunner().invoke(app, ["predict", str(tagger_run), "--input", str(corpus), "--output", str(tmp_path / "o")])
    assert bad.exit_code == 1 and "part1.jsonl:2: 'tokens' must be a list of strings" in bad.output
    assert "Traceback" not in bad.output
    done = CliRunner().invoke(app, ["predict", str(tagger_run), "--input", f"{corpus}/part[02].jsonl",
                                    "--output", str(tmp_path / "g")])
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in (tmp_path / "g").iterdir()) == ["part0.jsonl", "part2.jsonl"]
