"""Fetch the public text releases of the benchmarks (the images must be fetched by hand).

- ``twitter2015``, ``twitter2017``: ``train/valid/test.txt`` of the UMT release,
  https://github.com/jefferyYu/UMT (``data/<name>/``);
- ``twitter-gmner``: the Twitter-GMNER v2.0 text and xml boxes of
  https://github.com/NUSTM/GMNER (``Twitter10000_v2.0/``, from the repository
  archive), written as ``<dir>/{train,dev,test}.txt`` and ``<dir>/xml/``, the
  layout `read_posts` detects as ``gmner``.

The images of all three are one archive on Google Drive, which needs a browser
(a confirmation page), so `download` never tries: it says where to get them
and how to point mner at the folder (``--images DIR``). Offline, or when
GitHub is unreachable, `DownloadError` says what to fetch by hand.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass
from http.client import HTTPException
from os import PathLike
from pathlib import Path
from urllib.error import URLError
from urllib.request import Request, urlopen

TIMEOUT_S = 20.0
IMAGES_URL = "https://drive.google.com/file/d/1PpvvncnQkgDNeBMKVgG2zFYuRhbL873g/view"
UMT_RAW = "https://raw.githubusercontent.com/jefferyYu/UMT/HEAD/data"
GMNER_ARCHIVE = "https://github.com/NUSTM/GMNER/archive/HEAD.zip"
GMNER_FOLDERS = ("Twitter10000_v2.0", "Twitter10000")  # newest layout first


class DownloadError(RuntimeError):
    """A download that could not be done; the message says what to fetch by hand."""


@dataclass(frozen=True)
class Release:
    name: str
    home: str  # where a person finds the text files
    text_files: tuple[str, ...]
    archive: str | None = None  # a zip to unpack instead of single files

    def manual_steps(self, to_dir: Path) -> str:
        files = ", ".join(self.text_files)
        text_step = f"{files} from {self.home}" + (" (and the xml/ folder beside them)" if self.archive else "")
        return "\n".join(
            [
                "To set it up by hand:",
                f"  1. text:   put {text_step} into {to_dir}/",
                f"  2. images: download the tweet images from {IMAGES_URL}",
                f"             (linked from {self.home}) and unpack them, e.g. into {to_dir}/images",
                f"  3. use:    mner data stats {to_dir}/{self.text_files[0]} --images {to_dir}/images",
            ]
        )


UMT_SPLITS = ("train.txt", "valid.txt", "test.txt")
RELEASES = {
    "twitter2015": Release("twitter2015", "https://github.com/jefferyYu/UMT/tree/master/data/twitter2015", UMT_SPLITS),
    "twitter2017": Release("twitter2017", "https://github.com/jefferyYu/UMT/tree/master/data/twitter2017", UMT_SPLITS),
    "twitter-gmner": Release(
        "twitter-gmner", "https://github.com/NUSTM/GMNER", ("train.txt", "dev.txt", "test.txt"), archive=GMNER_ARCHIVE
    ),
}
ALIASES = {
    "twitter_gmner": "twitter-gmner",
    "gmner": "twitter-gmner",
    "twitter-2015": "twitter2015",
    "twitter-2017": "twitter2017",
}


class NetworkError(Exception):
    """A URL that could not be fetched (kept apart from local disk errors)."""

    def __init__(self, url: str, reason: object) -> None:
        super().__init__(f"{url}: {reason}")
        self.url, self.reason = url, reason


def fetch(url: str, timeout: float) -> bytes:
    request = Request(url, headers={"User-Agent": "mner-data-download"})
    try:
        with urlopen(request, timeout=timeout) as response:
            return response.read()
    except (URLError, HTTPException, OSError) as err:  # URLError covers HTTP errors and DNS failures
        raise NetworkError(url, getattr(err, "reason", None) or err) from None


def write_atomically(path: Path, data: bytes) -> None:
    """Write via a temporary file so an interrupted download leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, path)


def gmner_members(archive: zipfile.ZipFile) -> dict[str, str]:
    """archive member -> path relative to the target folder (``train.txt``, ``xml/<id>.xml``)."""
    names = archive.namelist()
    for folder in GMNER_FOLDERS:
        picked: dict[str, str] = {}
        for member in names:
            parts = member.split("/")
            # <repo>-<ref>/<folder>/txt/<split>.txt and <repo>-<ref>/<folder>/xml/<id>.xml
            if len(parts) == 4 and parts[1] == folder and parts[3]:
                if parts[2] == "txt" and parts[3].endswith(".txt"):
                    picked[member] = parts[3]
                elif parts[2] == "xml" and parts[3].endswith(".xml"):
                    picked[member] = f"xml/{parts[3]}"
        if any(target.endswith(".txt") for target in picked.values()):
            return picked
    raise DownloadError(f"the GMNER archive has no {' or '.join(GMNER_FOLDERS)}/txt/*.txt: its layout changed")


def download_files(release: Release, to_dir: Path, timeout: float) -> list[Path]:
    written = []
    for name in release.text_files:
        data = fetch(f"{UMT_RAW}/{release.name}/{name}", timeout)
        write_atomically(to_dir / name, data)
        written.append(to_dir / name)
    return written


def download_archive(release: Release, to_dir: Path, timeout: float) -> list[Path]:
    assert release.archive is not None
    data = fetch(release.archive, timeout)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as err:
        raise DownloadError(f"{release.archive} is not a zip archive ({err})") from None
    written = []
    with archive:
        for member, target in sorted(gmner_members(archive).items()):
            # Targets are built from one path component each: no member can escape `to_dir`.
            write_atomically(to_dir / target, archive.read(member))
            written.append(to_dir / target)
    return written


def download(name: str, to_dir: str | PathLike[str], *, timeout: float = TIMEOUT_S) -> list[Path]:
    """Fetch a release's text files into `to_dir`; returns the files written.

    Raises `DownloadError` (never a bare network traceback) with the manual
    steps when the network or GitHub cannot be reached.
    """
    key = ALIASES.get(name.lower(), name.lower())
    if key not in RELEASES:
        raise DownloadError(f"unknown dataset {name!r}; choose from {', '.join(RELEASES)}")
    release, target = RELEASES[key], Path(to_dir)
    try:
        if release.archive:
            return download_archive(release, target, timeout)
        return download_files(release, target, timeout)
    except NetworkError as err:
        raise DownloadError(
            f"could not download {release.name}: {err.url} ({err.reason}); "
            f"this machine may be offline or GitHub unreachable.\n{release.manual_steps(target)}"
        ) from None


def images_note(name: str, to_dir: str | PathLike[str]) -> str:
    """What still has to be done by hand after a successful download."""
    key = ALIASES.get(name.lower(), name.lower())
    release = RELEASES[key]
    return (
        f"Images are not downloaded: get them from {IMAGES_URL} (linked from {release.home}), "
        f"unpack them, and pass the folder with --images, e.g. --images {Path(to_dir)}/images"
    )
