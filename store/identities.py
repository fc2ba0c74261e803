"""Which registered person a Teams user is: rows of ``person_identities`` (migration 0010).

A person is found by the (tenant id, Entra object id) pair; :mod:`casework.commands.identity` decides
when a pair may be linked to a person (once, audited). The pair's tenant is stored lowercased, as
the gate compares tenants.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from casework.records import Person
from store.base import Repository
from store.models import PersonIdentityRow, PersonRow
from store.rows import _person


class IdentityRepository(Repository):
    """The pairs that identify people; never updated or deleted, so a link cannot be moved silently."""

    def person_for_identity(self, tenant_id: str, object_id: str) -> Person | None:
        with self._read() as s:
            row = s.execute(
                select(PersonRow)
                .join(PersonIdentityRow, PersonIdentityRow.person_id == PersonRow.id)
                .where(PersonIdentityRow.tenant_id == tenant_id.lower(), PersonIdentityRow.object_id == object_id)
            ).scalar_one_or_none()
            return None if row is None else _person(row)

    def identity_of(self, person_id: str) -> tuple[str, str] | None:
        """The (tenant id, object id) pair linked to a person, if any."""
        with self._read() as s:
            row = s.scalars(select(PersonIdentityRow).where(PersonIdentityRow.person_id == person_id)).first()
            return None if row is None else (row.tenant_id, row.object_id)

    def link_identity(self, tenant_id: str, object_id: str, person_id: str, at: datetime, linked_by: str) -> None:
        """Link a pair to a person. Inside a unit of work, a pair or person linked already (two first
        turns racing) surfaces as ``casework.errors.DuplicateRecord`` after the rollback."""
        with self._write() as s:
            s.add(
                PersonIdentityRow(
                    tenant_id=tenant_id.lower(),
                    object_id=object_id,
                    person_id=person_id,
                    linked_at=at,
                    linked_by=linked_by,
                )
            )
            s.flush()


__all__ = ["IdentityRepository"]
