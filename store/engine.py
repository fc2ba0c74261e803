"""Engines configured the one way the store relies on, for SQLite and PostgreSQL alike.

SQLite needs most of the care: the ``sqlite3`` driver's legacy transaction handling does not BEGIN
before a SELECT, so a read-then-write (the audit append) could interleave with another writer. We
take over BEGIN ourselves and let a connection ask for ``BEGIN IMMEDIATE`` (the write lock up front)
through the :data:`SQLITE_BEGIN` execution option.
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.engine import Connection
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

# Execution option read by the ``begin`` hook: "DEFERRED" (default) or "IMMEDIATE".
SQLITE_BEGIN = "cpc_sqlite_begin"
# How long a SQLite writer waits for another's lock before giving up (seconds).
SQLITE_BUSY_TIMEOUT = 30.0
SUPPORTED_BACKENDS = ("sqlite", "postgresql")

# SQLite engines carrying our hooks; a plain create_engine() one would append to the audit log
# without the write lock, so SqlStore refuses it.
_CONFIGURED: weakref.WeakSet[Engine] = weakref.WeakSet()


def configured_by_us(engine: Engine) -> bool:
    return engine.dialect.name != "sqlite" or engine in _CONFIGURED


def sqlite_file(url: str | URL) -> Path | None:
    """The database file of a SQLite URL, or None for an in-memory database."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        return None
    database = u.database or ""
    if database in ("", ":memory:") or database.startswith("file:") or u.query.get("mode") == "memory":
        return None
    return Path(database)


def ensure_parent_dir(url: str | URL) -> None:
    """Create the directory of a SQLite file (``var/`` on a fresh checkout) so the first run works."""
    path = sqlite_file(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """Create an engine; for SQLite, with WAL, foreign keys, a busy timeout and our own BEGIN."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(u, **kwargs)

    ensure_parent_dir(u)
    connect_args: dict[str, Any] = dict(kwargs.pop("connect_args", {}))
    # The bot answers from several threads; SQLAlchemy's pool hands a connection to one at a time.
    connect_args.setdefault("check_same_thread", False)
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT)
    file = sqlite_file(u)
    if file is None:
        # Each connection to :memory: is a new empty database, so all must share one.
        kwargs.setdefault("poolclass", StaticPool)
    engine = create_engine(u, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Stop the driver emitting BEGIN (and COMMIT before DDL); the "begin" hook emits it instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            if file is not None:
                # Readers do not block the writer, nor the writer the readers.
                cursor.execute("PRAGMA journal_mode=WAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        if mode not in ("DEFERRED", "IMMEDIATE"):
            raise ValueError(f"{SQLITE_BEGIN} must be DEFERRED or IMMEDIATE, not {mode!r}")
        conn.exec_driver_sql(f"BEGIN {mode}")

    _CONFIGURED.add(engine)
    return engine
