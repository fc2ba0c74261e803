"""What the store benchmarks share: the PostgreSQL server to use, and a fresh store on each backend.

Why: each measured size needs an empty, migrated database of its own (a new PostgreSQL schema, or a
SQLite file in a temporary directory) that is dropped afterwards, so one size's rows never flatter
or burden another's.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, make_url, text

from store.sql import SqlStore, open_store

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_url(given: str | None = None) -> str:
    """The server to use (``--postgres-url``, ``CPC_TEST_POSTGRES_URL`` or the local one), psycopg 3."""
    url = make_url(given or os.environ.get("CPC_TEST_POSTGRES_URL") or DEFAULT_POSTGRES)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def unreachable(url: str) -> str | None:
    """None when the server answers, else the name of the error."""
    try:
        probe = create_engine(url, connect_args={"connect_timeout": 5})
        try:
            with probe.connect() as conn:
                conn.execute(text("SELECT 1"))
        finally:
            probe.dispose()
    except Exception as exc:
        return type(exc).__name__
    return None


def analyze(store: SqlStore) -> None:
    """Statistics for the planner after a bulk fill (PostgreSQL also vacuums), as a store in use has."""
    if store.engine.dialect.name == "postgresql":
        raw = store.engine.raw_connection()
        try:
            raw.set_autocommit(True)
            raw.cursor().execute("VACUUM ANALYZE")
        finally:
            raw.close()
        return
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


def postgres_schema(url: str) -> tuple[str, Callable[[], None]]:
    """A new, empty schema on the PostgreSQL server at ``url``: its URL, and how to drop it."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    schema = f"cpc_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return scoped.render_as_string(hide_password=False), drop


@contextmanager
def fresh_store(backend: str, pg_url: str | None = None) -> Iterator[SqlStore]:
    """A migrated, empty store on ``postgresql`` (a new schema) or ``sqlite`` (a new file), dropped after."""
    if backend == "postgresql":
        assert pg_url is not None
        url, drop = postgres_schema(pg_url)
        store = open_store(url)
        try:
            yield store
        finally:
            store.close()
            drop()
        return
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/bench.sqlite3")
        try:
            yield store
        finally:
            store.close()
