"""What every repository mixin of :class:`store.sql.SqlStore` relies on: its transactions and dialect."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


class Repository:
    """Set up by ``SqlStore.__init__``; each mixin reads and writes only through these."""

    _dialect: str
    _read: Callable[[], AbstractContextManager[Session]]
    _core_read: Callable[[], AbstractContextManager[Connection]]
    _write: Callable[[], AbstractContextManager[Session]]
    _core_write: Callable[[], AbstractContextManager[Connection]]

    def _insert(self) -> Callable[..., Any]:
        """The dialect's INSERT, which (on both our backends) has ON CONFLICT clauses."""
        return postgresql.insert if self._dialect == "postgresql" else sqlite.insert


__all__ = ["Repository"]
