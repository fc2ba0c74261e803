"""The Alembic migrations build the schema the models describe, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from casework.records import CaseEvent
from store.engine import make_engine, sqlite_file
from store.migrate import alembic_config, current, head, upgrade
from store.models import Base
from store.sql import SqlStore, open_store

TABLES = {
    "people",
    "role_grants",
    "conferences",
    "attendees",
    "dissents",
    "complaints",
    "case_events",
    "audit_log",
    "audit_head",
    "conversation_refs",
    "reminders",
}


def test_revisions_form_one_line() -> None:
    """One head, and the revisions in order; 0004_reminders must stay where later ones build on it."""
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_heads() == [head()]
    line = [r.revision for r in reversed(list(script.walk_revisions()))]
    assert line[:4] == ["0001_initial", "0002_audit_head", "0003_conversation_refs", "0004_reminders"]
    assert line[-1] == head()


def test_upgrade_creates_every_table_and_records_the_revision(store_url: str) -> None:
    assert current(store_url) is None
    upgrade(store_url)
    assert current(store_url) == head()
    engine = make_engine(store_url)
    try:
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()


def test_upgrade_twice_is_idempotent_and_keeps_data(store_url: str) -> None:
    upgrade(store_url)
    with SqlStore(store_url) as store:
        store.append_audit("system", "installed", "", {"note": "first"}, at=datetime(2026, 1, 5, tzinfo=UTC))
    upgrade(store_url)
    assert current(store_url) == head()
    with SqlStore(store_url) as store:
        entries = store.audit_entries()
    assert [(e.seq, e.action) for e in entries] == [(1, "installed")]


def test_models_and_migration_agree(store_url: str) -> None:
    """Autogenerate finds nothing to do: the revision creates exactly what the models declare."""
    upgrade(store_url)
    engine = make_engine(store_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_sqlite_file_gets_its_directory_and_write_ahead_logging(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/var/nested/cpc.sqlite3"
    path = sqlite_file(url)
    assert path is not None and not path.parent.exists()
    upgrade(url)
    assert path.exists()
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()


def test_current_does_not_create_a_missing_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/absent.sqlite3"
    assert current(url) is None
    path = sqlite_file(url)
    assert path is not None and not path.exists()


def test_open_store_without_migrate_leaves_the_schema_alone(store_url: str) -> None:
    with open_store(store_url, migrate=False):
        assert current(store_url) is None
    with open_store(store_url):
        assert current(store_url) == head()


def test_open_store_migrates_an_in_memory_database_it_then_uses() -> None:
    with open_store("sqlite://") as store:
        assert current(store.engine) == head()
        entry = store.append_audit("system", "started", "", {}, at=datetime(2026, 1, 5, tzinfo=UTC))
        assert list(store.iter_audit()) == [entry]


def test_a_sqlite_engine_without_the_stores_locking_is_refused(tmp_path: Path) -> None:
    plain = create_engine(f"sqlite:///{tmp_path}/plain.sqlite3")
    try:
        with pytest.raises(ValueError, match="make_engine"):
            SqlStore(plain)
    finally:
        plain.dispose()
    with pytest.raises(ValueError, match="unsupported database"):
        SqlStore("mysql://localhost/cpc")


def test_a_store_on_a_callers_engine_leaves_it_open(store_url: str) -> None:
    engine = make_engine(store_url)
    try:
        upgrade(engine)
        with SqlStore(engine) as store:
            store.record_event(CaseEvent("CPC-1", "conference_held", datetime(2026, 1, 5, tzinfo=UTC)))
        with engine.connect() as conn:  # still usable after the store closed
            assert conn.execute(text("SELECT count(*) FROM case_events")).scalar() == 1
    finally:
        engine.dispose()
