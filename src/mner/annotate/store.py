"""The project's one source of truth: `annotations.sqlite` in the project folder, in WAL mode.

Every decision is a committed transaction before the page hears back, so a killed server loses
nothing and a restart resumes at the first unfinished item. Two tabs (or two servers) on one
project are safe through optimistic versioning: each item carries a `version`, a save names the
version it edited, and a save against a version that moved on is refused (`StaleWriteError`, a 409
on the page) instead of silently overwriting the other tab's work.

Undo is itself a decision: every state of an item is a row of `history` that remembers the state it
replaced (`parent`); undo writes the parent's state as a new version whose parent is the parent's
parent, so undo steps back through saves, survives restarts and is versioned like any save.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STORE_NAME = "annotations.sqlite"
SCHEMA_VERSION = "1"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    id TEXT PRIMARY KEY, position INTEGER NOT NULL, images TEXT NOT NULL, seed TEXT NOT NULL,
    tokens TEXT NOT NULL, entities TEXT NOT NULL, visual_text TEXT NOT NULL, origin TEXT NOT NULL,
    done INTEGER NOT NULL, version INTEGER NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS history (
    item_id TEXT NOT NULL, version INTEGER NOT NULL, parent INTEGER, action TEXT NOT NULL,
    tokens TEXT NOT NULL, entities TEXT NOT NULL, done INTEGER NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (item_id, version));
CREATE INDEX IF NOT EXISTS items_position ON items (position);
"""


class StaleWriteError(Exception):
    """A save or undo against a version another writer has already replaced."""

    def __init__(self, item_id: str, expected: int, current: int) -> None:
        if current == 0:
            message = f"item {item_id!r} has not been opened yet: open it first (its text and entities are made then)"
        else:
            message = (f"item {item_id!r} was changed elsewhere (another tab?): you edited version {expected}, "
                       f"it is now version {current}; reload the item to see the other change, then redo yours")
        super().__init__(message)
        self.item_id, self.expected, self.current = item_id, expected, current


class NothingToUndo(Exception):
    pass


@dataclass
class Item:
    """One unit of work: a post (or an image alone) with its current tokens and entities.

    `seed` is what the item started from (the post's tokens and tags, or nothing for an image);
    `version` 0 means not yet prepared (OCR and pre-tagging run when the item is first opened)."""

    id: str
    position: int
    images: list[str]
    tokens: list[str] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    visual_text: dict[str, str] = field(default_factory=dict)
    origin: str = ""  # "post", "ocr", "post+model", "ocr+model": where the text and first entities came from
    done: bool = False
    version: int = 0
    seed: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "position": self.position, "images": self.images, "tokens": self.tokens,
                "entities": self.entities, "visual_text": self.visual_text, "origin": self.origin,
                "done": self.done, "version": self.version}


class AnnotationStore:
    """Open (creating if needed) the store of `project_dir`. Safe to share between threads: each call
    opens its own short-lived connection, and writes take SQLite's write lock (BEGIN IMMEDIATE)."""

    def __init__(self, project_dir: str | Path) -> None:
        self.project_dir = Path(project_dir)
        self.project_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.project_dir / STORE_NAME
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            found = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if found is None:
                db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
            elif found[0] != SCHEMA_VERSION:
                raise ValueError(f"{self.path}: annotation store schema {found[0]}, this mner reads {SCHEMA_VERSION}")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)  # transactions opened by hand
        try:
            db.execute("PRAGMA busy_timeout=30000")
            db.execute("PRAGMA synchronous=FULL")  # a decision acknowledged to the page survives a power cut
            yield db
        finally:
            db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # -- project settings ------------------------------------------------------------------------
    def get_meta(self, key: str) -> Any:
        with self._connect() as db:
            row = db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def set_meta(self, key: str, value: Any) -> None:
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    # -- items -----------------------------------------------------------------------------------
    def add_items(self, items: list[Item]) -> int:
        """Add the items not already in the store (by id); existing ones keep their work. Returns how many were new."""
        added = 0
        with self._write() as db:
            start = db.execute("SELECT COALESCE(MAX(position) + 1, 0) FROM items").fetchone()[0]
            for item in items:
                cursor = db.execute(
                    "INSERT OR IGNORE INTO items VALUES (?, ?, ?, ?, '[]', '[]', '{}', '', 0, 0, ?)",
                    (item.id, start + added, json.dumps(item.images), json.dumps(item.seed), time.time()))
                added += cursor.rowcount
        return added

    def get(self, item_id: str) -> Item | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM items WHERE id=?", (item_id,)).fetchone()
        return _item(row) if row else None

    def items(self) -> list[Item]:
        with self._connect() as db:
            return [_item(row) for row in db.execute("SELECT * FROM items ORDER BY position")]

    def overview(self) -> list[dict[str, Any]]:
        """Id, position and done flag of every item, in order (the page's navigation)."""
        with self._connect() as db:
            rows = db.execute("SELECT id, position, done, version FROM items ORDER BY position").fetchall()
        return [{"id": r[0], "position": r[1], "done": bool(r[2]), "opened": r[3] > 0} for r in rows]

    def first_unfinished(self) -> str | None:
        with self._connect() as db:
            row = db.execute("SELECT id FROM items WHERE done=0 ORDER BY position LIMIT 1").fetchone()
        return row[0] if row else None

    def next_unprepared(self, after_position: int) -> str | None:
        """The first item after `after_position` that nobody has opened yet (the one to prepare ahead)."""
        with self._connect() as db:
            row = db.execute("SELECT id FROM items WHERE position > ? AND version = 0 ORDER BY position LIMIT 1",
                             (after_position,)).fetchone()
        return row[0] if row else None

    def prepare(self, item_id: str, tokens: list[str], entities: list[dict[str, Any]],
                visual_text: dict[str, str], origin: str) -> Item:
        """Version 1 of an unprepared item (its OCR text and pre-tagged entities); a no-op when another
        writer prepared it first (both computed the same thing from the same inputs)."""
        now = time.time()
        with self._write() as db:
            cursor = db.execute(
                "UPDATE items SET tokens=?, entities=?, visual_text=?, origin=?, version=1, updated_at=? "
                "WHERE id=? AND version=0",
                (json.dumps(tokens), json.dumps(entities), json.dumps(visual_text), origin, now, item_id))
            if cursor.rowcount:
                db.execute("INSERT INTO history VALUES (?, 1, NULL, 'prepare', ?, ?, 0, ?)",
                           (item_id, json.dumps(tokens), json.dumps(entities), now))
        item = self.get(item_id)
        assert item is not None
        return item

    def save(self, item_id: str, expected_version: int, tokens: list[str], entities: list[dict[str, Any]],
             done: bool) -> Item:
        """Replace the item's tokens, entities and done flag, if it is still at `expected_version`."""
        with self._write() as db:
            current = self._current_version(db, item_id)
            if current != expected_version or current == 0:
                raise StaleWriteError(item_id, expected_version, current)
            self._write_state(db, item_id, current + 1, current, "save", tokens, entities, done)
        return self.get(item_id)  # type: ignore[return-value]

    def undo(self, item_id: str, expected_version: int) -> Item:
        """Go back to the state before the last save (or undo's own predecessor)."""
        with self._write() as db:
            current = self._current_version(db, item_id)
            if current != expected_version or current == 0:
                raise StaleWriteError(item_id, expected_version, current)
            parent = db.execute("SELECT parent FROM history WHERE item_id=? AND version=?",
                                (item_id, current)).fetchone()[0]
            if parent is None:
                raise NothingToUndo(f"item {item_id!r}: nothing to undo (this is the item as it was first opened)")
            tokens, entities, done, grandparent = db.execute(
                "SELECT tokens, entities, done, parent FROM history WHERE item_id=? AND version=?",
                (item_id, parent)).fetchone()
            self._write_state(db, item_id, current + 1, grandparent, "undo", json.loads(tokens), json.loads(entities),
                              bool(done))
        return self.get(item_id)  # type: ignore[return-value]

    def history(self, item_id: str) -> list[dict[str, Any]]:
        with self._connect() as db:
            rows = db.execute("SELECT version, parent, action, done, at FROM history WHERE item_id=? ORDER BY version",
                              (item_id,)).fetchall()
        return [{"version": r[0], "parent": r[1], "action": r[2], "done": bool(r[3]), "at": r[4]} for r in rows]

    @staticmethod
    def _current_version(db: sqlite3.Connection, item_id: str) -> int:
        row = db.execute("SELECT version FROM items WHERE id=?", (item_id,)).fetchone()
        if row is None:
            raise KeyError(item_id)
        return int(row[0])

    @staticmethod
    def _write_state(db: sqlite3.Connection, item_id: str, version: int, parent: int | None, action: str,
                     tokens: list[str], entities: list[dict[str, Any]], done: bool) -> None:
        now = time.time()
        db.execute("UPDATE items SET tokens=?, entities=?, done=?, version=?, updated_at=? WHERE id=?",
                   (json.dumps(tokens), json.dumps(entities), int(done), version, now, item_id))
        db.execute("INSERT INTO history VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   (item_id, version, parent, action, json.dumps(tokens), json.dumps(entities), int(done), now))


def _item(row: tuple[Any, ...]) -> Item:
    (item_id, position, images, seed, tokens, entities, visual_text, origin, done, version, _updated) = row
    return Item(id=item_id, position=position, images=json.loads(images), tokens=json.loads(tokens),
                entities=json.loads(entities), visual_text=json.loads(visual_text), origin=origin, done=bool(done),
                version=version, seed=json.loads(seed))
