"""File names that come from data are untrusted: they never resolve outside the folder the user gave.

Image ids (``IMGID:../../etc/x`` becomes ``../../etc/x.jpg``), ``images`` lists
in JSON lines, GMNER xml names and VinVL region file names are written by
whoever made the file -- a dataset release from the internet, an upload.
`resolve_inside(root, name)` is the one function that turns such a name into
a path. It refuses

- an empty name or one with a NUL byte;
- any ``..`` component (``/`` or ``\\`` separated), even one that would land
  back inside the folder: a name that climbs is never needed by real data;
- an absolute name outside `root` (an absolute name inside it is fine: a
  JSONL written by ``mner data convert --images`` holds such paths);
- a name whose real path (symlinks followed) leaves `root`: a link inside the
  images folder pointing at ``/home/me/.ssh`` is refused, a link pointing
  elsewhere inside the folder is fine.

Without a root folder (a posts file read without ``--images``), `check_name`
applies the rules that need no folder: no empty name, NUL, ``..`` or absolute
path (such a file is read again with ``--images`` naming the folder).

Every refusal is an `UnsafePathError` (a `ValueError`) naming the name and
the reason; readers turn it into a ``file:line`` `DataFormatError`.
"""

from __future__ import annotations

import os
import re
from os import PathLike
from pathlib import Path

SEPARATORS = re.compile(r"[\\/]")


class UnsafePathError(ValueError):
    """A data-given file name that would resolve outside its folder (or is not a name at all)."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"unsafe file name {name!r}: {reason}")
        self.name = name
        self.reason = reason


def name_problem(name: str) -> str | None:
    """Why `name` is refused whatever the folder, or None."""
    if not name:
        return "empty name"
    if "\x00" in name:
        return "contains a NUL byte"
    if ".." in SEPARATORS.split(name):
        return "climbs out of its folder with '..'"
    return None


def rootless_problem(name: str) -> str | None:
    """Why `name` is refused when no folder was given (absolute paths need one), or None."""
    problem = name_problem(name)
    if problem is None and (os.path.isabs(name) or name.startswith(("/", "\\"))):
        return "an absolute path, but no images folder was given to hold it (pass --images)"
    return problem


def check_name(name: str) -> str:
    """`name` unchanged, or `UnsafePathError` when it is empty, absolute, has a NUL or a ``..`` component."""
    reason = rootless_problem(name)
    if reason is not None:
        raise UnsafePathError(name, reason)
    return name


def is_inside(path: str | PathLike[str], root: str | PathLike[str]) -> bool:
    """Whether `path` is `root` or below it, comparing real paths (symlinks followed)."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def resolve_inside(root: str | PathLike[str], name: str) -> Path:
    """The absolute path of data-given `name` under `root`; `UnsafePathError` if it would leave `root`.

    The returned path keeps the name's own spelling (symlinks are not replaced by
    their targets), so messages and caches show the file the data named.
    """
    reason = name_problem(name)
    if reason is not None:
        raise UnsafePathError(name, reason)
    joined = os.path.abspath(os.path.join(root, name))  # an absolute `name` replaces `root` here
    if os.path.isabs(name) and not is_inside(joined, root):
        raise UnsafePathError(name, f"an absolute path outside the folder {root}")
    if not is_inside(joined, root):
        raise UnsafePathError(name, f"a symbolic link that leads outside the folder {root}")
    return Path(joined)


__all__ = ["UnsafePathError", "check_name", "is_inside", "name_problem", "resolve_inside", "rootless_problem"]
