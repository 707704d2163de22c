"""A validated request body -> mner `Post`s, every limit checked with the field it concerns."""

from __future__ import annotations

from pathlib import Path

from mner.data.post import Post
from mner.data.tokenize import tokenize
from mner.serve.errors import RequestError, join_field
from mner.serve.limits import Limits
from mner.serve.schemas import PostIn, PredictRequest
from mner.serve.uploads import decode_base64_image, looks_like_path, save_image

VISUAL_TEXT_FIELDS = ("caption", "knowledge", "ocr")


def build_posts(request: PredictRequest, limits: Limits, image_dir: Path, single: bool,
                uploads: list[tuple[str, bytes]] | None = None) -> list[Post]:
    """`single`: the body was one post, so fields are named without the `posts[i]` prefix.
    `uploads`: (field, bytes) of multipart images, added to the (single) post's images."""
    if len(request.posts) > limits.max_posts:
        raise RequestError(413, "posts", f"{len(request.posts)} posts, more than max_posts={limits.max_posts}")
    image_count = 0
    posts = []
    for i, item in enumerate(request.posts):
        prefix = "" if single else f"posts[{i}]"
        images: list[tuple[str, bytes, bool]] = []
        for k, value in enumerate(item.images):
            field = join_field(prefix, f"images[{k}]")
            images.append((field, decode_base64_image(value, field, limits), looks_like_path(value)))
        if uploads and i == 0:
            images += [(field, data, False) for field, data in uploads]
        if len(images) > limits.max_images:
            raise RequestError(413, join_field(prefix, "images"),
                               f"{len(images)} images, more than max_images={limits.max_images}")
        paths = []
        for field, data, pathlike in images:
            paths.append(str(save_image(data, field, limits, image_dir, image_count, pathlike)))
            image_count += 1
        visual_text = {name: getattr(item, name) for name in VISUAL_TEXT_FIELDS if getattr(item, name)}
        for name, value in visual_text.items():
            if len(value) > limits.max_text_chars:
                raise RequestError(413, join_field(prefix, name), f"{len(value)} characters, more than "
                                                                  f"max_text_chars={limits.max_text_chars}")
        posts.append(Post(id=item.id or f"post-{i}", tokens=_words(item, prefix, limits), images=paths,
                          visual_text=visual_text))
    return posts


def _words(item: PostIn, prefix: str, limits: Limits) -> list[str]:
    if item.text is not None:
        field = join_field(prefix, "text")
        if len(item.text) > limits.max_text_chars:
            raise RequestError(413, field, f"{len(item.text)} characters, more than max_text_chars="
                                           f"{limits.max_text_chars}")
        words = tokenize(item.text)
    else:
        field = join_field(prefix, "tokens")
        words = list(item.tokens or [])
        for k, word in enumerate(words):
            if not word.strip():
                raise RequestError(422, join_field(field, f"[{k}]"), "an empty or blank word")
            if len(word) > limits.max_text_chars:
                raise RequestError(413, join_field(field, f"[{k}]"), f"a word of {len(word)} characters")
    if len(words) > limits.max_words:
        raise RequestError(413, field, f"{len(words)} words, more than max_words={limits.max_words}")
    return words
