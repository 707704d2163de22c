"""Read a posts file and attach what goes with it: the one path used by training and the CLI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from os import PathLike
from typing import Optional

from mner.data.post import Post

PathLikeStr = str | PathLike[str]


def load_posts(path: PathLikeStr, fmt: str | None = None, *, images_dir: Optional[PathLikeStr] = None,
               type_map: Mapping[str, str] | None = None,
               visual_text: Mapping[str, PathLikeStr | Sequence[PathLikeStr] | None] | None = None,
               regions_dir: Optional[PathLikeStr] = None, regions_top_k: int | None = None) -> list[Post]:
    """Posts of `path` with visual text attached by name (`{"caption": file}`, or a list of files
    read as one table: `{"knowledge": [t15_train, t17_train]}`) and,
    given `regions_dir`, VinVL regions (one `<image>.npz` per image, best `regions_top_k`)."""
    from mner.data.readers import attach_regions, attach_visual_text, read_posts

    posts = read_posts(path, fmt, images_dir=images_dir, type_map=type_map)
    for name, text_path in (visual_text or {}).items():
        if text_path:
            attach_visual_text(posts, text_path, name)
    if regions_dir:
        attach_regions(posts, regions_dir, top_k=regions_top_k)
    return posts
