"""Persistence behind the ``casework.ports.CaseStore`` port: SQLAlchemy 2, SQLite or PostgreSQL.

``open_store(url)`` is the one call the composition root needs: it migrates the schema and returns
a :class:`SqlStore`. Callers only ever see ``casework.records`` dataclasses.
"""

from store.errors import AlreadyExists, InvalidRecord, NaiveDatetimeError, NotFound, StoreError
from store.migrate import current, upgrade
from store.sql import SqlStore, open_store

__all__ = [
    "AlreadyExists",
    "InvalidRecord",
    "NaiveDatetimeError",
    "NotFound",
    "SqlStore",
    "StoreError",
    "current",
    "open_store",
    "upgrade",
]
