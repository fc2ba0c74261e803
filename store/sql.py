"""``SqlStore``: the ``casework.ports.CaseStore`` port over SQLAlchemy, for SQLite and PostgreSQL.

Each aggregate has its own repository module (people, conferences, case records, audit log, reminders,
notices); this class composes them over one engine. Every method opens its own short transaction, or
joins the unit of work open in its context (:meth:`SqlStore.unit_of_work`), and returns frozen
``casework.records`` dataclasses: ORM rows never leave ``store/``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import URL, Engine, make_url

from casework.audit_mac import AuditKeys
from store.audit_log import AuditRepository
from store.case_records import CaseRecordRepository
from store.conferences import ConferenceRepository
from store.engine import SUPPORTED_BACKENDS, configured_by_us, make_engine
from store.free_texts import FreeTextRepository
from store.identities import IdentityRepository
from store.migrate import upgrade
from store.notices import NoticeRepository
from store.open_cases import OpenCaseRepository
from store.people import PeopleRepository
from store.reminders import ReminderRepository
from store.rows import ALL_AREAS
from store.sessions import SqlUnitOfWork, Transactions


class SqlStore(
    PeopleRepository,
    IdentityRepository,
    ConferenceRepository,
    OpenCaseRepository,
    CaseRecordRepository,
    AuditRepository,
    FreeTextRepository,
    ReminderRepository,
    NoticeRepository,
):
    """Persistence of people, conferences, dissents, complaints, events and the audit log.

    Construct it from a URL (it then owns, and :meth:`close` disposes, its engine) or from an
    Engine made by :func:`store.engine.make_engine` (the caller keeps ownership). Either way the
    schema must already be migrated: :func:`open_store` does both.

    The audit log is append-only through this class: there is deliberately no method that updates
    or deletes an entry.
    """

    def __init__(
        self, url_or_engine: str | URL | Engine, audit_keys: AuditKeys | None = None, **engine_options: Any
    ) -> None:
        self._audit_keys = audit_keys
        if isinstance(url_or_engine, Engine):
            backend = url_or_engine.dialect.name
        else:
            backend = make_url(url_or_engine).get_backend_name()
        if backend not in SUPPORTED_BACKENDS:
            raise ValueError(f"unsupported database {backend!r}; use one of: {', '.join(SUPPORTED_BACKENDS)}")
        if isinstance(url_or_engine, Engine):
            if not configured_by_us(url_or_engine):
                raise ValueError(
                    "a SQLite engine for SqlStore must come from store.engine.make_engine, which "
                    "adds the BEGIN IMMEDIATE handling that keeps concurrent audit appends in order"
                )
            self._engine = url_or_engine
            self._owns_engine = False
        else:
            self._engine = make_engine(url_or_engine, **engine_options)
            self._owns_engine = True
        self._dialect = self._engine.dialect.name
        self._tx = Transactions(self._engine)
        self._read, self._core_read, self._write = self._tx.read, self._tx.core_read, self._tx.write
        self._core_write = self._tx.core_write

    def unit_of_work(self) -> SqlUnitOfWork:
        """One transaction for one action (``casework.ports.UnitOfWork``)."""
        return self._tx.unit_of_work()

    @property
    def engine(self) -> Engine:
        return self._engine

    def close(self) -> None:
        """Release pooled connections (only those of an engine this store created)."""
        if self._owns_engine:
            self._engine.dispose()

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqlStore({self._engine.url.render_as_string(hide_password=True)!r})"


def open_store(url: str, migrate: bool = True, **engine_options: Any) -> SqlStore:
    """Open the store at ``url``, first bringing its schema up to date unless told not to.

    The migration runs on the store's own engine, so an in-memory SQLite database (``sqlite://``)
    is migrated and then used, rather than migrated and thrown away. ``engine_options`` are
    :func:`store.engine.make_engine`'s (timeouts, pool size); migrations run without the timeouts.
    """
    store = SqlStore(url, **engine_options)
    if migrate:
        try:
            upgrade(store.engine)
        except BaseException:
            store.close()
            raise
    return store


__all__ = ["ALL_AREAS", "SqlStore", "open_store"]
