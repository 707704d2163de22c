"""What one request may hold. Every limit is checked before any model work, and a breach is a
4xx naming the request field, so a client learns what to shorten."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 16 * 1024 * 1024  # a few phone photos in base64 (4/3 of their bytes) fit
    max_posts: int = 64  # posts per request
    max_words: int = 512  # words per post (the model reads longer posts in chunks; this bounds the work)
    max_text_chars: int = 20_000  # per post, before tokenising
    max_images: int = 4  # images per post (Twitter's own limit)
    max_image_bytes: int = 8 * 1024 * 1024
    max_image_pixels: int = 4096 * 4096  # the largest image Twitter serves

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"limit {name} must be a positive integer, got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
