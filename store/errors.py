"""Errors the store raises, each with a message that says what to do about it.

They sit beside (not inside) ``casework.errors``: these are refusals of the persistence adapter,
so the composition root can tell a storage problem from a domain refusal.
"""

from __future__ import annotations

from datetime import datetime


class StoreError(Exception):
    """Base class, so callers can catch every storage refusal in one place."""


class NaiveDatetimeError(StoreError, ValueError):
    """A datetime without a timezone: stored as it is it would be read back an hour out in summer."""

    def __init__(self, what: str, value: datetime) -> None:
        super().__init__(
            f"{what} {value.isoformat()} has no timezone; give an aware datetime "
            "(for example datetime.now(UTC), or attach ZoneInfo('Europe/London') to local times)"
        )
        self.what = what
        self.value = value


class NotFound(StoreError, LookupError):
    """The record an update or attachment names does not exist."""

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"no {kind} {key!r} is stored; add it first")
        self.kind = kind
        self.key = key


class AlreadyExists(StoreError):
    """An insert that would duplicate a unique key (a reference, an email, a meeting chat)."""

    def __init__(self, kind: str, key: object, hint: str = "") -> None:
        super().__init__(f"{kind} {key!r} is already stored" + (f"; {hint}" if hint else ""))
        self.kind = kind
        self.key = key


class InvalidRecord(StoreError, ValueError):
    """A value outside the vocabulary the store accepts (a role, a conference type...)."""

    def __init__(self, field: str, value: object, allowed: tuple[str, ...]) -> None:
        super().__init__(f"{field} {value!r} is not one of: {', '.join(allowed)}")
        self.field = field
        self.value = value


class RolesUnsupported(StoreError):
    """``cpc db roles`` on a database that has no roles (SQLite: whoever can open the file can write it)."""

    def __init__(self, backend: str) -> None:
        super().__init__(
            f"{backend} has no database roles, so there is nothing to grant: 'cpc db roles' is for PostgreSQL "
            "(on SQLite, protect the file instead); nothing was changed"
        )
        self.backend = backend


class RolesRefused(StoreError):
    """The application role cannot be set up safely (or yet): nothing was changed, and the message says why."""
