"""People, their roles and where to reach them (conversation references)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from casework.records import (
    ROLES,
    Person,
    RoleGrant,
)
from store import statements
from store.base import Repository
from store.errors import AlreadyExists, InvalidRecord
from store.models import (
    ConversationRefRow,
    PersonRow,
    RoleGrantRow,
)
from store.rows import (
    ALL_AREAS,
    _check,
    _normal_email,
    _person,
)


class PeopleRepository(Repository):
    """People by Entra object id, role grants per area, conversation references."""

    def upsert_person(self, person: Person) -> Person:
        """Insert or update by id; the email is stored lowercased so it matches in any case."""
        email = _normal_email(person.email)
        if not email:
            raise InvalidRecord("email", person.email, ("a non-empty address",))
        values = {
            "id": person.id,
            "email": email,
            "display_name": person.display_name,
            "agency": person.agency,
            "line_manager_id": person.line_manager_id,
        }
        stmt = self._insert()(PersonRow).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[PersonRow.id], set_={k: v for k, v in values.items() if k != "id"}
        )
        try:
            with self._write() as s:
                s.execute(stmt)
        except IntegrityError as exc:
            raise AlreadyExists("email", email, "another person holds it; update or merge that person first") from exc
        return Person(person.id, email, person.display_name, person.agency, person.line_manager_id)

    def get_person(self, person_id: str) -> Person | None:
        with self._core_read() as conn:
            row = conn.execute(statements.PERSON, {"person_id": person_id}).first()
            return None if row is None else _person(row)

    def find_person_by_email(self, email: str) -> Person | None:
        with self._read() as s:
            row = s.scalars(select(PersonRow).where(PersonRow.email == _normal_email(email))).first()
            return None if row is None else _person(row)

    def grant_role(self, grant: RoleGrant) -> None:
        """Grant a role in an area (``*`` for every area); granting it again is a no-op."""
        _check("role", grant.role, ROLES)
        if not grant.area:
            raise InvalidRecord("area", grant.area, ("an area name", ALL_AREAS))
        stmt = (
            self._insert()(RoleGrantRow)
            .values(person_id=grant.person_id, role=grant.role, area=grant.area)
            .on_conflict_do_nothing()
        )
        with self._write() as s:
            s.execute(stmt)

    def roles_of(self, person_id: str, area: str) -> set[str]:
        """Roles held in ``area`` plus those granted for every area."""
        with self._core_read() as conn:
            roles = conn.execute(statements.ROLES, {"person_id": person_id, "area": area})
            return {r.role for r in roles}

    def people_with_role(self, role: str, area: str) -> list[Person]:
        """People holding ``role`` in ``area`` or in every area, ordered by name then email (a Core
        statement built once: every replan of a case reads it for each role its reminders go to)."""
        with self._core_read() as conn:
            rows = conn.execute(statements.PEOPLE_WITH_ROLE, {"role": role, "area": area})
            return [_person(r) for r in rows]

    def save_conversation_ref(self, person_id: str, reference_json: str) -> None:
        """Where to reach the person, kept current: one upsert, so two instances seeing the person's
        first message at once cannot collide (a merge's select-then-insert could)."""
        values = {"person_id": person_id, "reference": reference_json, "updated_at": datetime.now(UTC)}
        stmt = self._insert()(ConversationRefRow).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[ConversationRefRow.person_id],
            set_={"reference": reference_json, "updated_at": values["updated_at"]},
        )
        with self._write() as s:
            s.execute(stmt)

    def conversation_ref(self, person_id: str) -> str | None:
        with self._core_read() as conn:
            found: str | None = conn.execute(statements.CONVERSATION_REF, {"person_id": person_id}).scalar()
            return found
