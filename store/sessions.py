"""Read and write transactions over one engine, shared by every repository in ``store/``.

Reads begin DEFERRED; writes on SQLite take the write lock at BEGIN (``BEGIN IMMEDIATE``) so that a
read-then-write cannot be overtaken by another writer, nor deadlock upgrading its lock. Every
repository must open its transactions the same way, so they all use this class.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from store.engine import SQLITE_BEGIN


class Transactions:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._reader = sessionmaker(bind=engine, expire_on_commit=False)
        self._writer = sessionmaker(
            bind=engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}), expire_on_commit=False
        )

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reader() as session, session.begin():
            yield session

    @contextmanager
    def core_read(self) -> Iterator[Connection]:
        """A read transaction on a plain connection: for hot reads, where ORM session bookkeeping
        cost more than the queries."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self._writer() as session, session.begin():
            yield session
