"""Engines configured the one way the store relies on, for SQLite and PostgreSQL alike.

SQLite needs most of the care: the ``sqlite3`` driver's legacy transaction handling does not BEGIN
before a SELECT, so a read-then-write (the audit append) could interleave with another writer. We
take over BEGIN ourselves and let a connection ask for ``BEGIN IMMEDIATE`` (the write lock up front)
through the :data:`SQLITE_BEGIN` execution option.

Every store call carries a time limit (ARCHITECTURE: Writing), so a stuck database makes a request
fail with a clear error instead of holding a thread for ever. On PostgreSQL each connection is made
with ``connect_timeout`` and starts with ``statement_timeout`` and ``lock_timeout`` (sent as startup
``options``, so no extra round trip); a transaction may set its own through :data:`TIMEOUTS`. On
SQLite a writer waits ``busy_timeout`` seconds for another's lock. :class:`Readiness` is the
database's part of ``/readyz``: reachable, answering within a short limit, migrated to the head.
"""

from __future__ import annotations

import logging
import math
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool, StaticPool

log = logging.getLogger("cpc.store")

# Execution option read by the ``begin`` hook: "DEFERRED" (default) or "IMMEDIATE".
SQLITE_BEGIN = "cpc_sqlite_begin"
# Execution option read by the PostgreSQL ``begin`` hook: {"statement_timeout": s, "lock_timeout": s}
# for one transaction (SET LOCAL; 0 means no limit), e.g. a migration that may run longer than a request.
TIMEOUTS = "cpc_timeouts"
# How long a SQLite writer waits for another's lock before giving up (seconds).
SQLITE_BUSY_TIMEOUT = 30.0
# PostgreSQL limits (seconds; 0 means none): connecting, any one statement, waiting for any one lock.
CONNECT_TIMEOUT = 5.0
STATEMENT_TIMEOUT = 15.0
LOCK_TIMEOUT = 5.0
# The connection pool (SQLAlchemy's QueuePool defaults): connections kept, and extra ones allowed.
POOL_SIZE = 5
MAX_OVERFLOW = 10
# How long /readyz lets the database take to answer (seconds).
READY_TIMEOUT = 2.0
SUPPORTED_BACKENDS = ("sqlite", "postgresql")

# SQLite engines carrying our hooks; a plain create_engine() one would append to the audit log
# without the write lock, so SqlStore refuses it.
_CONFIGURED: weakref.WeakSet[Engine] = weakref.WeakSet()


def configured_by_us(engine: Engine) -> bool:
    return engine.dialect.name != "sqlite" or engine in _CONFIGURED


#: Each SQLite engine's busy timeout, which a writer queued in the process waits at most as well
#: (store.sessions.WriterQueue).
_BUSY: weakref.WeakKeyDictionary[Engine, float] = weakref.WeakKeyDictionary()


def busy_timeout_of(engine: Engine) -> float:
    """How long a SQLite writer of this engine waits for another's lock (seconds)."""
    return _BUSY.get(engine, SQLITE_BUSY_TIMEOUT)


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


def _ms(seconds: float) -> int:
    if seconds < 0:
        raise ValueError(f"a timeout cannot be negative: {seconds!r}")
    return round(seconds * 1000)


def _startup_options(url: URL, connect_args: Mapping[str, Any], statement_timeout: float, lock_timeout: float) -> str:
    """libpq ``options`` setting our limits, then whatever the URL or caller already sent (which wins)."""
    # TimeZone UTC: every instant is stored and compared in UTC anyway, and psycopg then hands back
    # datetime.UTC itself, which store.models.UTCDateTime passes through without converting.
    ours = f"-c statement_timeout={_ms(statement_timeout)} -c lock_timeout={_ms(lock_timeout)} -c TimeZone=UTC"
    theirs = [url.query.get("options"), connect_args.get("options")]
    return " ".join([ours, *(o for o in theirs if isinstance(o, str) and o.strip())])


def _pool_limits(kwargs: dict[str, Any], pool_size: int, max_overflow: int) -> None:
    """Size the pool, unless the caller chose one that has no size (NullPool, StaticPool, ...)."""
    chosen = kwargs.get("poolclass")
    if "pool" in kwargs or (chosen is not None and not issubclass(chosen, QueuePool)):
        return
    kwargs.setdefault("pool_size", pool_size)
    kwargs.setdefault("max_overflow", max_overflow)


def make_engine(
    url: str | URL,
    *,
    connect_timeout: float = CONNECT_TIMEOUT,
    statement_timeout: float = STATEMENT_TIMEOUT,
    lock_timeout: float = LOCK_TIMEOUT,
    busy_timeout: float = SQLITE_BUSY_TIMEOUT,
    pool_size: int = POOL_SIZE,
    max_overflow: int = MAX_OVERFLOW,
    **kwargs: Any,
) -> Engine:
    """Create an engine with time limits on every connection.

    PostgreSQL: ``connect_timeout`` (whole seconds, rounded up), ``statement_timeout`` and
    ``lock_timeout`` (a statement waiting longer fails with ``LockNotAvailable``), a pool of
    ``pool_size`` connections plus ``max_overflow``, pre-pinged so a restarted server is reconnected.
    SQLite: WAL, foreign keys, a ``busy_timeout`` for writers and our own BEGIN. All in seconds.
    """
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        _pool_limits(kwargs, pool_size, max_overflow)
        pg_args: dict[str, Any] = dict(kwargs.pop("connect_args", {}))
        if connect_timeout < 0:
            raise ValueError(f"connect_timeout cannot be negative: {connect_timeout!r}")
        # libpq takes whole seconds (and 0 means wait for ever).
        pg_args.setdefault("connect_timeout", math.ceil(connect_timeout))
        pg_args["options"] = _startup_options(u, pg_args, statement_timeout, lock_timeout)
        engine = create_engine(u, connect_args=pg_args, **kwargs)

        @event.listens_for(engine, "begin")
        def _on_pg_begin(conn: Connection) -> None:
            limits = conn.get_execution_options().get(TIMEOUTS)
            if limits:
                for name, seconds in dict(limits).items():
                    if name not in ("statement_timeout", "lock_timeout"):
                        raise ValueError(f"{TIMEOUTS} sets statement_timeout and lock_timeout, not {name!r}")
                    conn.exec_driver_sql(f"SET LOCAL {name} = {_ms(float(seconds))}")

        return engine

    ensure_parent_dir(u)
    connect_args: dict[str, Any] = dict(kwargs.pop("connect_args", {}))
    # The bot answers from several threads; SQLAlchemy's pool hands a connection to one at a time.
    connect_args.setdefault("check_same_thread", False)
    if busy_timeout < 0:
        raise ValueError(f"busy_timeout cannot be negative: {busy_timeout!r}")
    connect_args.setdefault("timeout", busy_timeout)
    file = sqlite_file(u)
    if file is None:
        # Each connection to :memory: is a new empty database, so all must share one.
        kwargs.setdefault("poolclass", StaticPool)
    else:
        _pool_limits(kwargs, pool_size, max_overflow)
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
    _BUSY[engine] = busy_timeout
    return engine


def without_limits(engine: Engine) -> Engine:
    """The same engine (and pool) with no statement or lock limit on PostgreSQL, for migrations: a
    schema change may take longer than a request, and an instance waits its turn for the migration
    lock while another migrates."""
    return engine.execution_options(**{TIMEOUTS: {"statement_timeout": 0, "lock_timeout": 0}})


def describe(exc: BaseException) -> str:
    """One line about a database error, from the driver's own message: no traceback, no SQL."""
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    return lines[0] if lines else type(orig).__name__


def _plain(exc: SQLAlchemyError) -> str:
    """What went wrong in words fit for an unauthenticated endpoint: no host, no SQL, no message text."""
    orig = exc.orig if isinstance(exc, DBAPIError) else None
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in ("57014", "55P03") or "locked" in str(orig):
        return "database too slow: a query waited for a lock or ran past its time limit"
    if isinstance(exc, DBAPIError) and (sqlstate is None or sqlstate.startswith(("08", "57P"))):
        return "database unreachable"
    return f"database error ({sqlstate or type(orig or exc).__name__})"


class Readiness:
    """Whether the database is ready for this code: ``check()`` is None, or the problem in plain words.

    It runs in a worker thread (it blocks): one short transaction, limited on PostgreSQL to
    ``timeout`` seconds, that selects 1 and reads Alembic's revision, compared with the newest this
    code ships. The caller should also stop waiting after about ``timeout`` seconds, since
    connecting (or waiting for a free pooled connection) is not part of the statement limit.
    """

    def __init__(self, engine: Engine, timeout: float = READY_TIMEOUT) -> None:
        from store.migrate import alembic_config  # here: store.migrate imports this module

        self.engine = engine
        self.timeout = timeout
        script = ScriptDirectory.from_config(alembic_config())
        self.head = script.get_current_head()
        self.known = {rev.revision for rev in script.walk_revisions()}

    def check(self) -> str | None:
        limits = {"statement_timeout": self.timeout, "lock_timeout": self.timeout}
        try:
            with self.engine.connect().execution_options(**{TIMEOUTS: limits}) as conn:
                conn.exec_driver_sql("SELECT 1")
                revision = MigrationContext.configure(conn).get_current_revision()
                conn.rollback()
        except SQLAlchemyError as exc:
            log.warning("readiness check: %s", describe(exc))
            return _plain(exc)
        if revision == self.head:
            return None
        if revision is None:
            return f"migrations behind: the database has no schema (the code needs {self.head}); run 'cpc db upgrade'"
        if revision in self.known:
            return f"migrations behind: the database is at {revision}, the code needs {self.head}; run 'cpc db upgrade'"
        return f"migrations ahead: the database is at {revision}, which this code does not know (it needs {self.head})"
