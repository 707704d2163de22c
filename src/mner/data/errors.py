"""Error and problem types of the data layer.

Every complaint about a data file names the file and, for line-based files,
the 1-based line, as ``file:line: what is wrong`` -- the form editors and
terminals turn into a link. Readers raise the first one as a
`DataFormatError`; `mner.data.validate` collects all of them as `Problem`s.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike


def where(path: str | PathLike[str], line: int | None) -> str:
    """``file:line`` for line-based files, ``file`` for the rest (xml, npz)."""
    return f"{path}:{line}" if line is not None else f"{path}"


class DataFormatError(ValueError):
    """A data file that does not follow its format; the message starts ``file:line: ``."""

    def __init__(self, path: str | PathLike[str], line: int | None, message: str) -> None:
        super().__init__(f"{where(path, line)}: {message}")
        self.path = str(path)
        self.line = line
        self.problem = message


class ImageError(ValueError):
    """An image that cannot be used (missing, undecodable, truncated, too large)."""

    def __init__(self, path: str | PathLike[str], reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


@dataclass(frozen=True)
class Problem:
    """One finding of `validate_file`. Warnings are listed but do not fail validation."""

    path: str
    line: int | None
    message: str
    severity: str = "error"  # "error" | "warning"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        label = "" if self.is_error else "warning: "
        return f"{where(self.path, self.line)}: {label}{self.message}"

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "message": self.message,
            "severity": self.severity,
        }
