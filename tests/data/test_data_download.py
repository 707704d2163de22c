"""download(): fetched through a fake urlopen; the network is never touched here."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from urllib.error import URLError

import pytest

from mner.data import download as download_module
from mner.data.download import IMAGES_URL, DownloadError, download, images_note
from mner.data.readers import read_posts


class FakeResponse(io.BytesIO):
    def __enter__(self) -> FakeResponse:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every URL is unreachable unless a test serves it; the list records what was asked."""
    asked: list[str] = []

    def unreachable(request, timeout: float):  # noqa: ANN001, ANN202
        asked.append(request.full_url)
        assert timeout <= 30  # a short timeout, so offline fails fast
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(download_module, "urlopen", unreachable)
    return asked


def serve(monkeypatch: pytest.MonkeyPatch, files: dict[str, bytes]) -> None:
    def fake(request, timeout: float):  # noqa: ANN001, ANN202
        return FakeResponse(files[request.full_url])

    monkeypatch.setattr(download_module, "urlopen", fake)


def test_offline_fails_with_the_manual_steps(tmp_path: Path, offline: list[str]) -> None:
    with pytest.raises(DownloadError) as caught:
        download("twitter2017", tmp_path / "t17")
    message = str(caught.value)
    assert "could not download twitter2017" in message and "name resolution" in message
    assert "github.com/jefferyYu/UMT" in message
    assert IMAGES_URL in message  # the images, which must be fetched by hand
    assert f"--images {tmp_path / 't17'}/images" in message
    assert offline == ["https://raw.githubusercontent.com/jefferyYu/UMT/HEAD/data/twitter2017/train.txt"]
    assert not (tmp_path / "t17" / "train.txt").exists()


def test_offline_gmner_mentions_the_xml(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="xml/ folder") as caught:
        download("twitter-gmner", tmp_path)
    assert "github.com/NUSTM/GMNER" in str(caught.value)


def test_unknown_dataset(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="choose from twitter2015, twitter2017, twitter-gmner"):
        download("conll2003", tmp_path)


def test_umt_text_files_are_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = "https://raw.githubusercontent.com/jefferyYu/UMT/HEAD/data/twitter2015"
    serve(monkeypatch, {f"{base}/{s}.txt": f"IMGID:{s}\nword\tO\n\n".encode() for s in ("train", "valid", "test")})
    written = download("twitter2015", tmp_path)
    assert [p.name for p in written] == ["train.txt", "valid.txt", "test.txt"]
    assert read_posts(tmp_path / "valid.txt")[0].id == "valid"
    assert not list(tmp_path.glob("*.part"))


def test_gmner_archive_is_unpacked_into_the_reader_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("GMNER-main/Twitter10000_v2.0/txt/train.txt", "IMGID:7\nObama\tB-PER\nspeaks\tO\n\n")
        archive.writestr("GMNER-main/Twitter10000_v2.0/xml/7.xml",
                         "<annotation><object><name>Obama</name><bndbox><xmin>1</xmin><ymin>2</ymin>"
                         "<xmax>3</xmax><ymax>4</ymax></bndbox></object></annotation>")  # fmt: skip
        archive.writestr("GMNER-main/Twitter10000/txt/train.txt", "old layout, ignored")
        archive.writestr("GMNER-main/../../escape.txt", "never written")
    serve(monkeypatch, {download_module.GMNER_ARCHIVE: buffer.getvalue()})
    written = download("gmner", tmp_path / "g")
    assert sorted(p.relative_to(tmp_path / "g").as_posix() for p in written) == ["train.txt", "xml/7.xml"]
    (post,) = read_posts(tmp_path / "g" / "train.txt")  # detected as gmner from the xml folder
    assert post.entities[0].boxes == [(1.0, 2.0, 3.0, 4.0)]
    assert not (tmp_path / "escape.txt").exists()


def test_images_note_says_how_to_point_mner_at_them(tmp_path: Path) -> None:
    note = images_note("twitter2017", tmp_path)
    assert IMAGES_URL in note and f"--images {tmp_path}/images" in note
