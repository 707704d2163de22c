"""What a project is made of: the posts of `--posts` (any format mner reads) and the images of
`--images` that no post names, each becoming one `Item`.

An item from a post starts from the post's tokens, and from its entities when the post is labelled
(the person corrects them); an item from an image alone starts empty and gets its text by OCR when
first opened. Image names come from data and are checked with `resolve_inside` before anything is
stored, so a post naming `../../etc/passwd` is refused here, naming its file and line.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mner.annotate.store import Item
from mner.data.post import Post
from mner.data.safe_paths import UnsafePathError, resolve_inside

log = logging.getLogger(__name__)


def post_seed(post: Post) -> dict[str, Any]:
    """What an item starts from: tokens, visual text and, for a labelled post, its entities (with boxes)."""
    labelled = post.tags is not None or bool(post.entities)
    entities = [{"start": e.start, "end": e.end, "type": e.type, "boxes": [list(b) for b in e.boxes]}
                for e in post.entities] if labelled else None
    return {"tokens": list(post.tokens), "entities": entities, "visual_text": dict(post.visual_text)}


def post_items(posts: list[Post], images_dir: Path | None) -> list[Item]:
    """One item per post; its images kept when they are files in `images_dir` (a post's missing image is
    logged: the post is still worth labelling from its text)."""
    items, seen = [], {}
    for post in posts:
        where = f"{post.source.path}:{post.source.line}" if post.source else post.id
        if post.id in seen:
            raise ValueError(f"{where}: post id {post.id!r} repeats the post at {seen[post.id]}; ids must be unique")
        seen[post.id] = where
        images = []
        for name in post.images:
            if images_dir is None:
                continue
            try:
                path = resolve_inside(images_dir, name)
            except UnsafePathError as err:
                raise ValueError(f"{where}: post {post.id!r}: {err}") from None
            if path.is_file():
                images.append(name)
            else:
                log.warning("%s: post %r: image %s not found in %s", where, post.id, name, images_dir)
        items.append(Item(id=post.id, position=0, images=images, seed=post_seed(post)))
    return items


def image_items(images_dir: Path, taken: set[str], taken_ids: set[str]) -> list[Item]:
    """One item per image file of `images_dir` that no post names; its id is the file's stem (the whole
    name when two files share a stem or a post already has that id)."""
    from mner.augment.image_files import list_images

    try:
        files = [p for p in list_images([images_dir]) if p.name not in taken]
    except FileNotFoundError:
        return []
    stems = [p.stem for p in files]
    items = []
    for path in files:
        item_id = path.stem if stems.count(path.stem) == 1 and path.stem not in taken_ids else path.name
        items.append(Item(id=item_id, position=0, images=[path.name],
                          seed={"tokens": [], "entities": None, "visual_text": {}}))
    return items


def project_items(images_dir: Path | None, posts_path: Path | None, posts_format: str | None = None) -> list[Item]:
    """The items of a project, in order: the posts first (file order), then the remaining images (by name)."""
    from mner.data.readers import read_posts

    if images_dir is not None and not images_dir.is_dir():
        raise FileNotFoundError(f"{images_dir}: images folder not found")
    posts = read_posts(posts_path, posts_format) if posts_path is not None else []
    items = post_items(posts, images_dir)
    if images_dir is not None:
        taken = {str(Path(name)) for item in items for name in item.images}
        items += image_items(images_dir, taken, {item.id for item in items})
    if not items:
        raise ValueError("nothing to annotate: give --images with image files and/or --posts with posts")
    return items
