"""Who may do what. One table, checked on every action (ARCHITECTURE: Roles).

Dissent is a professional's right only for conferences they attended (001 5.7.3-5.7.6; 004 8.13.1);
the chair's prompts belong to that conference's chair (001 5.7.7(2)); the decision to uphold belongs
to the reviewing manager, the Head of Safeguarding and Review (001 5.7.7(3)).
"""

from __future__ import annotations

from casework.errors import NotEntitled
from casework.records import Conference

COMPLAINT_ROLES = frozenset({"chair", "complaints_manager", "admin"})
STAGE_ROLES = frozenset({"complaints_manager", "admin", "head_of_safeguarding", "service_manager_qa"})
DECIDE_ROLES = frozenset({"head_of_safeguarding"})
AUDIT_ROLES = frozenset({"admin", "head_of_safeguarding", "complaints_manager"})
OVERSIGHT_ROLES = frozenset(
    {"head_of_safeguarding", "complaints_manager", "service_manager_qa", "admin", "line_manager"}
)


def is_attendee(person_id: str, conference: Conference) -> bool:
    return any(a.person_id == person_id for a in conference.attendees)


def require_attendee(person_id: str, conference: Conference) -> None:
    if not is_attendee(person_id, conference):
        raise NotEntitled(
            f"only professionals who attended conference {conference.reference} may dissent from it "
            "(you are not on its attendance list; if that is wrong, ask the chair to add you: in the meeting chat "
            "they type attendee add, mention you and name your agency)"
        )


def require_chair(person_id: str, conference: Conference, roles: set[str]) -> None:
    if conference.chair_id != person_id and "admin" not in roles:
        raise NotEntitled(f"only the chair of conference {conference.reference} can do this")


def require_any(roles: set[str], allowed: frozenset[str], what: str) -> None:
    if not roles & allowed:
        names = ", ".join(sorted(r.replace("_", " ") for r in allowed))
        raise NotEntitled(f"{what} is for: {names}")


def may_view(person_id: str, conference: Conference, roles: set[str]) -> bool:
    """A case's timeline: its chair, its attendees and people with oversight roles in the area."""
    return conference.chair_id == person_id or is_attendee(person_id, conference) or bool(roles & OVERSIGHT_ROLES)
