"""Read and write transactions over one engine, shared by every repository in ``store/``, and the
unit of work that makes one action one transaction.

Reads begin DEFERRED; writes on SQLite take the write lock at BEGIN (``BEGIN IMMEDIATE``) so that a
read-then-write cannot be overtaken by another writer, nor deadlock upgrading its lock. Every
repository must open its transactions the same way, so they all use this class.

Unit of work (ARCHITECTURE: Writing; cosmicpython's ``with uow: ...; uow.commit()``): while one is
open in this thread or task, every read and write of every repository on this engine joins its one
session instead of opening its own, so an action's state change, events, audit entry, reminder rows
and notices commit together or not at all. Leaving the block without ``commit()`` rolls back.

SQLite writers of one process queue on a lock of ours before ``BEGIN IMMEDIATE`` (:class:`WriterQueue`).
Why: SQLite has one writer at a time, and a writer that finds the lock taken is left to its busy
handler, which polls with sleeps growing to 100 ms. Under fifty concurrent turns the lock was then
often free while every waiter slept, and who got it next was chance, so the slowest turn waited
far longer than the work ahead of it. Queued here, the next writer starts the moment the last one
commits. Other processes on the same file still meet the busy handler, as before.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from casework.errors import DuplicateRecord
from store.engine import SQLITE_BEGIN, busy_timeout_of

# The unit of work open in this context, per engine: contextvars follow asyncio tasks and are copied
# into asyncio.to_thread workers, so a unit opened inside a worker stays inside it.
_OPEN: ContextVar[dict[int, Session] | None] = ContextVar("cpc_unit_of_work", default=None)


_QUEUES: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_QUEUES_GUARD = threading.Lock()


class WriterQueue:
    """One SQLite write transaction at a time in this process, per engine, the waiters woken as soon as it
    ends. Reentrant, so that a thread that holds it and opens a second write transaction (which SQLite
    itself would refuse after its busy timeout) behaves as it did without the queue. A waiter gives up
    queueing after the engine's busy timeout and goes on to SQLite's own wait, which then refuses it
    as before if the lock is still held (so a writer stuck that long fails after twice the timeout)."""

    def __init__(self, engine: Engine) -> None:
        self._lock: threading.RLock | None = None
        self.timeout = busy_timeout_of(engine)
        if engine.dialect.name == "sqlite":
            with _QUEUES_GUARD:
                self._lock = _QUEUES.setdefault(engine, threading.RLock())

    def enter(self) -> bool:
        """Wait for our turn; True when it was given (then :meth:`leave` must follow)."""
        return self._lock is not None and self._lock.acquire(timeout=self.timeout)

    def leave(self, entered: bool) -> None:
        if entered and self._lock is not None:
            self._lock.release()

    @contextmanager
    def turn(self) -> Iterator[None]:
        entered = self.enter()
        try:
            yield
        finally:
            self.leave(entered)


class Transactions:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.writers = WriterQueue(engine)
        self._reader = sessionmaker(bind=engine, expire_on_commit=False)
        self._writer = sessionmaker(
            bind=engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}), expire_on_commit=False
        )

    def _open(self) -> Session | None:
        units = _OPEN.get()
        return None if units is None else units.get(id(self.engine))

    @contextmanager
    def read(self) -> Iterator[Session]:
        if (unit := self._open()) is not None:
            yield unit
            return
        with self._reader() as session, session.begin():
            yield session

    @contextmanager
    def core_read(self) -> Iterator[Connection]:
        """A read transaction on a plain connection: for hot reads, where ORM session bookkeeping
        cost more than the queries."""
        if (unit := self._open()) is not None:
            yield unit.connection()
            return
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Session]:
        if (unit := self._open()) is not None:
            # Inside a unit of work: flush so that constraint violations surface here, where the
            # caller can name them, and so later reads in the same unit see the rows.
            yield unit
            unit.flush()
            return
        with self.writers.turn(), self._writer() as session, session.begin():
            yield session

    @contextmanager
    def core_write(self) -> Iterator[Connection]:
        """A write on a plain connection, for the sweep's claims (issue 12). On PostgreSQL the
        connection is in autocommit, so each statement is its own transaction: a write that is one
        statement (a claim) saves the round trips of BEGIN and COMMIT (a sweep of 1,000 rows in eleven
        claims went from 112 to 88 ms on the 2-core machine). SQLAlchemy puts the connection back in
        its usual mode when it returns to the pool (a test checks that a unit of work on the same
        connection afterwards is still one transaction). A caller that needs two statements to be
        atomic must not use this. SQLite: one write transaction, as :meth:`write`. Inside a unit of
        work: joins it."""
        if (unit := self._open()) is not None:
            yield unit.connection()
            return
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT")
                yield conn
            return
        with self.writers.turn(), self.engine.connect() as conn:
            conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
            with conn.begin():
                yield conn

    def unit_of_work(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self)


class SqlUnitOfWork:
    """One SQLAlchemy session (one transaction) for one action: the ``casework.ports.UnitOfWork``.

    Nested use joins the outer unit: only the outermost ``commit()`` commits. A unique-constraint
    violation anywhere in the unit becomes ``casework.errors.DuplicateRecord`` after the rollback,
    so the casework command can answer with the action that won the race.
    """

    def __init__(self, tx: Transactions) -> None:
        self._tx = tx
        self._session: Session | None = None
        self._outer = False
        self._committed = False
        self._token: object | None = None
        self._queued = False

    def __enter__(self) -> Self:
        if self._tx._open() is not None:
            self._outer = False
            return self
        self._outer = True
        self._queued = self._tx.writers.enter()
        try:
            self._session = self._tx._writer()
            self._session.begin()
        except BaseException:
            self._tx.writers.leave(self._queued)
            raise
        units = dict(_OPEN.get() or {})
        units[id(self._tx.engine)] = self._session
        self._token = _OPEN.set(units)
        return self

    def commit(self) -> None:
        if self._outer and self._session is not None:
            self._session.commit()
        self._committed = True

    def rollback(self) -> None:
        if self._outer and self._session is not None:
            self._session.rollback()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._outer:
            return
        assert self._session is not None
        try:
            if not self._committed or exc is not None:
                self._session.rollback()
        finally:
            try:
                self._session.close()
                if self._token is not None:
                    _OPEN.reset(self._token)  # type: ignore[arg-type]
            finally:
                self._tx.writers.leave(self._queued)
        if isinstance(exc, IntegrityError) and unique_violation(exc):
            raise DuplicateRecord("this was already recorded by a request that arrived at the same time") from exc


def unique_violation(exc: IntegrityError) -> bool:
    """A unique constraint or index refused the row (PostgreSQL SQLSTATE 23505; SQLite's "UNIQUE
    constraint failed"), not a foreign key, a NOT NULL or a check: only that is a duplicate."""
    orig = exc.orig
    return getattr(orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(orig)
