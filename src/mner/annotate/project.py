"""A project folder: the store, its entity types and images folder, and the preparer of new items.

    project = open_project("proj", images="photos/", posts="posts.jsonl", model="runs/t17", types=None)

Settings given once are remembered in the store (`types`, `images_dir`, `posts`), so a restart needs
only the folder. The entity types are, in order: `types` given now, the project's saved types, the
model's labels, the posts' own types, else PER, LOC, ORG, MISC (the Twitter benchmarks' four).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mner.annotate.intake import project_items
from mner.annotate.prepare import Preparer
from mner.annotate.store import AnnotationStore, Item

DEFAULT_TYPES = ["PER", "LOC", "ORG", "MISC"]


@dataclass
class Project:
    store: AnnotationStore
    types: list[str]
    images_dir: Path | None
    preparer: Preparer
    model_name: str | None = None
    _prepare_lock: threading.Lock = field(default_factory=threading.Lock)

    def open_item(self, item_id: str) -> Item | None:
        """The item, prepared (OCR, pre-tagging) on first opening; one preparation at a time, so two tabs
        opening the same new item run OCR once."""
        item = self.store.get(item_id)
        if item is None or item.version > 0:
            return item
        with self._prepare_lock:
            item = self.store.get(item_id)
            if item is None or item.version > 0:
                return item
            prepared = self.preparer.prepare(item)
            return self.store.prepare(item_id, prepared.tokens, prepared.entities, prepared.visual_text, prepared.origin)


def model_types(tagger: Any) -> list[str]:
    return sorted({label.split("-", 1)[1] for label in tagger.labels if "-" in label})


def seed_types(items: list[Item]) -> list[str]:
    return sorted({e["type"] for item in items for e in (item.seed.get("entities") or [])})


def open_project(project_dir: str | Path, images: str | Path | None = None, posts: str | Path | None = None,
                 model: str | Path | None = None, types: list[str] | None = None, posts_format: str | None = None,
                 tagger: Any = None, ocr: Any = None) -> Project:
    """Create or reopen a project; new posts and images given now are added, work already done is kept."""
    store = AnnotationStore(project_dir)
    images_dir = Path(images).resolve() if images else _saved_path(store, "images_dir")
    posts_path = Path(posts).resolve() if posts else _saved_path(store, "posts")
    if tagger is None and model is not None:
        from mner.export import load_tagger

        tagger = load_tagger(model, batch_size=8, precision="fp32")
    items: list[Item] = []
    if images_dir is not None or posts_path is not None:
        items = project_items(images_dir, posts_path, posts_format)
        store.add_items(items)
    elif not store.overview():
        raise ValueError(f"{project_dir}: a new project needs --images and/or --posts")
    types = _choose_types(store, types, tagger, items)
    for key, value in (("types", types), ("images_dir", images_dir and str(images_dir)),
                       ("posts", posts_path and str(posts_path))):
        if value is not None:
            store.set_meta(key, value)
    return Project(store, types, images_dir, Preparer(images_dir, tagger, ocr), model_name=_model_name(model))


def _model_name(model: str | Path | None) -> str | None:
    """The run's name for the page (`runs/t17/best` is "t17"), never a full path."""
    if model is None:
        return None
    path = Path(model).resolve()
    return path.parent.name if path.name == "best" else path.name


def _saved_path(store: AnnotationStore, key: str) -> Path | None:
    saved = store.get_meta(key)
    return Path(saved) if saved else None


def _choose_types(store: AnnotationStore, given: list[str] | None, tagger: Any, items: list[Item]) -> list[str]:
    if given:
        types = [t.strip() for t in given if t.strip()]
        bad = [t for t in types if any(c.isspace() for c in t) or t in ("O",)]
        if bad or not types:
            raise ValueError(f"--types: {', '.join(bad) or 'empty'}: give type names without spaces, e.g. PER,LOC,ORG")
        return list(dict.fromkeys(types))
    return (store.get_meta("types") or (model_types(tagger) if tagger is not None else None)
            or seed_types(items) or list(DEFAULT_TYPES))
