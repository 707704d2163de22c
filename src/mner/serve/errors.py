"""A bad request becomes one `RequestError`: an HTTP status, the request field at fault and what
is wrong with it. The app turns it into `{"error": "...", "field": "..."}`; nothing a client sends
can raise anything else (the soak test in tests/serve holds the server to that)."""

from __future__ import annotations

from collections.abc import Sequence


class RequestError(Exception):
    def __init__(self, status: int, field: str | None, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.status = status
        self.field = field
        self.message = message

    def to_dict(self) -> dict[str, str | None]:
        return {"error": str(self), "field": self.field}


def field_name(loc: Sequence[str | int]) -> str:
    """("posts", 0, "images", 1) -> "posts[0].images[1]" (how a client would index its own body)."""
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or "body"


def join_field(prefix: str, name: str) -> str:
    """Join "posts[0]" and "images[1]" (either may be empty: a single-post body has no prefix)."""
    if not prefix:
        return name
    return f"{prefix}{name}" if name.startswith("[") else f"{prefix}.{name}"
