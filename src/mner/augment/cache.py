"""The on-disk answer cache: SQLite, one row per (key, JSON value); no pickle.

Keys are SHA-256 digests of everything that decides an answer (`cache_key`): the model,
the prompt or engine version, the generation settings and the input itself (the messages,
or an image's content hash). Each answer is committed as soon as it arrives, so an
interrupted run loses at most the requests in flight, and a rerun asks only for the rest.
Safe to share between the worker threads of one process (one connection behind a lock).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from datetime import datetime, timezone
from os import PathLike
from pathlib import Path
from typing import Any


def cache_key(*parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


class AnswerCache:
    def __init__(self, path: str | PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, value TEXT NOT NULL, "
                             "created TEXT NOT NULL)")
        except sqlite3.DatabaseError as err:
            raise ValueError(f"{self.path}: not a usable cache database ({err}); delete it or pass another --cache")
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM answers WHERE key = ?", (key,)).fetchone()
            if row is None:
                self.misses += 1
                return None
            self.hits += 1
        return json.loads(row[0])

    def put(self, key: str, value: dict[str, Any]) -> None:
        blob = json.dumps(value, ensure_ascii=False)
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO answers (key, value, created) VALUES (?, ?, ?)",
                             (key, blob, utc_now()))

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM answers").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


def default_cache_path(output: str | PathLike[str]) -> Path:
    """``out/knowledge.jsonl`` -> ``out/knowledge.jsonl.cache.sqlite``: found again by a rerun."""
    output = Path(output)
    return output.with_name(output.name + ".cache.sqlite")
