"""SQLite writers of one process queue on our lock before BEGIN IMMEDIATE (store.sessions.WriterQueue):
while one unit of work holds the write lock, a second writer waits in the queue, not in SQLite's
sleeping busy handler, and goes on when the first commits. Both writes land."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

from casework.records import Person
from store.sql import open_store


def test_a_second_writer_waits_in_the_queue_until_the_first_commits(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'q.sqlite3'}")
    holding, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with store.unit_of_work() as uow:
                store.upsert_person(Person("a", "a@example.org", "A", "police"))
                holding.set()
                release.wait(10)
                uow.commit()
        except BaseException as exc:
            errors.append(exc)

    def second() -> None:
        try:
            store.upsert_person(Person("b", "b@example.org", "B", "health"))
        except BaseException as exc:
            errors.append(exc)

    begun: list[str] = []

    def begin(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if statement.startswith("BEGIN"):
            begun.append(statement)

    with store.engine.connect(), store.engine.connect():
        pass  # two pooled connections, so that the second writer does not wait in connecting
    event.listen(store.engine, "before_cursor_execute", begin)
    try:
        a = threading.Thread(target=first)
        a.start()
        assert holding.wait(10)
        b = threading.Thread(target=second)
        b.start()
        time.sleep(0.3)  # time for the second writer to reach its wait (not a timing assertion)
        assert b.is_alive()
        assert begun == ["BEGIN IMMEDIATE"]  # the second waits in our queue, not in SQLite's busy handler
        release.set()
        a.join(10)
        b.join(10)
        assert errors == []
        assert begun == ["BEGIN IMMEDIATE"] * 2
        assert store.get_person("a") is not None and store.get_person("b") is not None
    finally:
        release.set()
        event.remove(store.engine, "before_cursor_execute", begin)
        store.close()
