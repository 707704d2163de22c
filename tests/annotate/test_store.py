"""The store: two writers in separate processes lose no update, a stale write is refused, work survives."""

from __future__ import annotations

import multiprocessing
import sqlite3
import time

import pytest

from mner.annotate.store import AnnotationStore, Item, NothingToUndo, StaleWriteError

ROUNDS = 20


def add_words(project_dir: str, word: str, barrier, conflicts_out) -> None:
    """Append `word` ROUNDS times, each a read-modify-write that retries on a stale version (what a tab does
    after its 409: reload, redo); puts how many conflicts it met on `conflicts_out`."""
    store = AnnotationStore(project_dir)
    conflicts = 0
    done = 0
    barrier.wait()  # both writers start together
    while done < ROUNDS:
        item = store.get("shared")
        time.sleep(0.003)  # the person thinking: the other writer gets in between
        try:
            store.save("shared", item.version, item.tokens + [f"{word}{done}"], [], False)
            done += 1
        except StaleWriteError:
            conflicts += 1
    conflicts_out.put(conflicts)


def new_store(tmp_path) -> AnnotationStore:
    store = AnnotationStore(tmp_path / "proj")
    store.add_items([Item(id="shared", position=0, images=[], seed={"tokens": []})])
    store.prepare("shared", ["start"], [], {}, "post")
    return store


def test_two_processes_writing_one_item_lose_no_update(tmp_path):
    store = new_store(tmp_path)
    context = multiprocessing.get_context("spawn")  # a fresh interpreter each: two servers on one project
    barrier, conflicts = context.Barrier(2), context.Queue()
    writers = [context.Process(target=add_words, args=(str(store.project_dir), word, barrier, conflicts))
               for word in "ab"]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
        assert writer.exitcode == 0
    assert conflicts.get(timeout=5) + conflicts.get(timeout=5) > 0  # they did collide, and were refused
    item = store.get("shared")
    assert item.version == 1 + 2 * ROUNDS
    assert sorted(item.tokens[1:]) == sorted([f"a{i}" for i in range(ROUNDS)] + [f"b{i}" for i in range(ROUNDS)])
    assert [t for t in item.tokens if t.startswith("a")] == [f"a{i}" for i in range(ROUNDS)]  # each writer's order kept
    assert [h["version"] for h in store.history("shared")] == list(range(1, 2 + 2 * ROUNDS))
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_stale_write_changes_nothing(tmp_path):
    store = new_store(tmp_path)
    store.save("shared", 1, ["mine"], [], True)
    with pytest.raises(StaleWriteError, match="you edited version 1, it is now version 2"):
        store.save("shared", 1, ["theirs"], [], False)
    assert store.get("shared").tokens == ["mine"] and store.get("shared").done


def test_reopening_keeps_work_and_adding_items_again_keeps_their_state(tmp_path):
    store = new_store(tmp_path)
    store.save("shared", 1, ["kept"], [{"start": 0, "end": 1, "type": "PER", "boxes": []}], True)
    again = AnnotationStore(tmp_path / "proj")
    assert again.add_items([Item(id="shared", position=0, images=[], seed={}),
                            Item(id="new", position=0, images=["n.jpg"], seed={})]) == 1
    assert again.get("shared").tokens == ["kept"] and again.get("shared").done
    assert [i["id"] for i in again.overview()] == ["shared", "new"] and again.first_unfinished() == "new"


def test_undo_steps_back_through_saves_then_stops(tmp_path):
    store = new_store(tmp_path)
    store.save("shared", 1, ["one"], [], False)
    store.save("shared", 2, ["two"], [], False)
    assert store.undo("shared", 3).tokens == ["one"]
    assert store.undo("shared", 4).tokens == ["start"]
    with pytest.raises(NothingToUndo):
        store.undo("shared", 5)
    with pytest.raises(StaleWriteError):
        store.undo("shared", 3)
