"""Who a Teams user is: a registered person, found by the (tenant id, Entra object id) pair.

Issue 11 found an activity from another tenant, with a valid channel token, acting as the chair:
its roster email matched the chair's, and the email alone was taken as the person. An object id is
meaningful only with its tenant, and an email is something another tenant can claim. So:

1. a pair linked to a person finds that person;
2. in the home tenant, a person registered with the object id itself (``cpc people add --id``) is
   found by it, and the pair is linked to them then;
3. in the home tenant, the roster's email may link a registered person who has no pair yet: once,
   with an audit entry. A person linked already is never linked to a second account.

Anything else is not recognised. Every link is an audit entry (``identity.linked``) naming the
person, the pair and how it was made; the audit log never holds an email or a name.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace

from casework.commands.base import CaseworkBase
from casework.errors import DuplicateRecord
from casework.records import Person

#: The home tenant of loopback development (no bot app id): every tenant the Playground sends is home.
ANY_TENANT = "*"
#: How a pair came to be linked (``person_identities.linked_by`` and the audit entry's ``by``).
BY_OBJECT_ID = "object-id"
BY_ROSTER_EMAIL = "roster-email"
#: The longest display name kept (Entra allows 256; cards need far less).
NAME_LIMIT = 80


def display_name(raw: str | None) -> str:
    """A display name as Teams sends it, made safe to store and show: control and format characters
    dropped, whitespace folded, at most :data:`NAME_LIMIT` characters."""
    kept = "".join(ch for ch in raw or "" if unicodedata.category(ch)[0] != "C")
    return " ".join(kept.split())[:NAME_LIMIT].strip()


@dataclass(frozen=True, slots=True)
class TeamsUser:
    """The account an activity comes from; ``tenant_id`` is "" when it names none (loopback only)."""

    tenant_id: str
    object_id: str

    def in_home(self, home_tenant: str | None) -> bool:
        """In the app's own tenant (any, in loopback development; none, when no home is configured)."""
        if home_tenant is None:
            return False
        return home_tenant == ANY_TENANT or self.tenant_id.lower() == home_tenant.lower()


class IdentityCommands(CaseworkBase):
    """Recognising a Teams user, and the once-only links that make them known."""

    def recognise(self, user: TeamsUser, home_tenant: str | None) -> Person | None:
        """Steps 1 and 2 above: the person for this pair, or None (then the roster may be asked)."""
        person = self.store.person_for_identity(user.tenant_id, user.object_id)
        if person is not None or not user.in_home(home_tenant):
            return person
        registered = self.store.get_person(user.object_id)
        return None if registered is None else self._link(user, registered, BY_OBJECT_ID)

    def name_from_teams(self, person: Person, user: TeamsUser, name: str | None, home_tenant: str | None) -> Person:
        """The professional's display name as Teams gives it (the activity's ``from.name``), kept so
        every card can name them (issue 14 item 1); stored only for an account of the home tenant,
        and only when it differs. The audit entry says that the name changed, never the name."""
        shown = display_name(name)
        if not shown or shown == person.display_name or not user.in_home(home_tenant):
            return person
        named = replace(person, display_name=shown)
        with self.store.unit_of_work() as uow:
            self.store.upsert_person(named)
            self.store.append_audit(person.id, "person.named", "-", {"person": person.id, "from": "teams"})
            uow.commit()
        return named

    def link_by_roster_email(self, user: TeamsUser, email: str, home_tenant: str | None) -> Person | None:
        """Step 3 above: the registered person with this roster email, linked to the pair now, or None
        (another tenant, nobody with that email, or a person linked to another account already)."""
        if not user.in_home(home_tenant) or not email.strip():
            return None
        person = self.store.find_person_by_email(email)
        return None if person is None else self._link(user, person, BY_ROSTER_EMAIL)

    def _link(self, user: TeamsUser, person: Person, how: str) -> Person | None:
        try:
            with self.store.unit_of_work() as uow:
                linked = self.store.identity_of(person.id)
                if linked is not None:
                    # Linked a moment ago by this account's own earlier turn, or to another account.
                    return person if linked == (user.tenant_id.lower(), user.object_id) else None
                self.store.link_identity(user.tenant_id, user.object_id, person.id, self.now(), how)
                self.store.append_audit(
                    person.id,
                    "identity.linked",
                    "-",
                    {"person": person.id, "tenant": user.tenant_id.lower(), "object_id": user.object_id, "by": how},
                )
                uow.commit()
        except DuplicateRecord:
            # The same user's first two turns raced: the one that linked first stands.
            return self.store.person_for_identity(user.tenant_id, user.object_id)
        return person
