"""Records the store keeps. Case references only: no child or family names, anywhere.

People here are professionals (chairs, attendees, managers), known by Entra object id and email.
Complainants are recorded by role (``parent``, ``child``, ``carer``, ``advocate``), never by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

ROLES: tuple[str, ...] = (
    "professional",
    "chair",
    "line_manager",
    "head_of_safeguarding",
    "complaints_manager",
    "service_manager_qa",
    "admin",
)
CONFERENCE_TYPES: tuple[str, ...] = ("initial", "review", "prebirth", "prebirth_review", "reconvened")
COMPLAINANT_ROLES: tuple[str, ...] = ("parent", "child", "carer", "advocate")

ConferenceType = Literal["initial", "review", "prebirth", "prebirth_review", "reconvened"]


@dataclass(frozen=True, slots=True)
class Person:
    """A professional who uses the bot. ``id`` is the Entra object id (or a local id before sign-in)."""

    id: str
    email: str
    display_name: str = ""
    agency: str = ""
    line_manager_id: str | None = None


@dataclass(frozen=True, slots=True)
class RoleGrant:
    """A role held in one area (a chair in Sussex need not be a chair in London)."""

    person_id: str
    role: str
    area: str


@dataclass(frozen=True, slots=True)
class Attendee:
    person_id: str
    agency: str


@dataclass(frozen=True, slots=True)
class Conference:
    reference: str
    area: str
    type: str
    scheduled_at: datetime | None = None
    held_at: datetime | None = None
    ended_at: datetime | None = None
    chair_id: str | None = None
    attendees: tuple[Attendee, ...] = ()
    meeting_chat_id: str | None = None


@dataclass(frozen=True, slots=True)
class Dissent:
    id: int | None
    reference: str
    person_id: str
    agency: str
    reason: str
    raised_at: datetime
    late: bool = False
    state: str = "raised"
    # When it was decided (upheld, not upheld, declined) or withdrawn.
    decided_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Complaint:
    id: int | None
    reference: str
    area: str
    received_at: datetime
    complainant_role: str
    grounds: str
    summary: str = ""
    stage: str = "stage1"
    # False when the user gave a received date with no time: received_at is then that day's start.
    time_given: bool = True
    # 0 for the first complaint from this complainant received that day; 1 for a confirmed second...
    repeat: int = 0


@dataclass(frozen=True, slots=True)
class CaseEvent:
    reference: str
    name: str
    at: datetime
    recorded_by: str | None = None
    # The stored row's id (None before it is stored): a correction names the event it withdraws.
    # Not part of equality: two records of the same happening are the same event.
    id: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One append-only audit entry; ``hash`` covers every field and ``prev_hash`` chains it."""

    seq: int
    at: datetime
    actor: str
    action: str
    reference: str
    detail: dict[str, Any] = field(default_factory=dict)
    prev_hash: str = ""
    hash: str = ""
    # HMAC-SHA-256 of the entry and the previous entry's MAC, under the key ``key_id`` names; the
    # first entry under a new key is also signed with the old one (``cross_mac``). None before the
    # keyed chain began (entries written by an older version).
    mac: str | None = None
    key_id: str | None = None
    cross_mac: str | None = None


@dataclass(frozen=True, slots=True)
class CaseFile:
    """Everything about one conference case, read in one transaction so it is a consistent snapshot."""

    conference: Conference
    events: tuple[CaseEvent, ...]
    dissents: tuple[Dissent, ...]
    complaints: tuple[Complaint, ...]
    # Registered professionals' display names by person id (chair, attendees, dissenters, whoever
    # recorded an event): cards name people (issue 14). Never a child's or family member's name.
    # Not part of equality: the same case read in bulk (the replan, ``deadlines``) carries no names.
    names: Mapping[str, str] = field(default_factory=dict, compare=False)


REMINDER_STATES: tuple[str, ...] = (
    "pending",  # to send at next_attempt_at
    "sent",  # delivered in Teams (its card can be updated in place)
    "emailed",  # handed to email: no conversation reference, blocked, or too many failures
    "failed",  # undeliverable: no conversation reference and no email address
    "cancelled",  # the deadline was met or moved before it was sent
    "skipped",  # planned after its time had passed, superseded by a later reminder (catching up)
    "notified",  # the person was told at once by a notice (the meeting-end card)
    "met_due",  # sent, and the deadline since met: the card is to be updated in place
    "met_shown",  # the card now shows that the deadline was met
)


@dataclass(frozen=True, slots=True)
class StoredReminder:
    """A reminder row as the store holds it: the plan's fields plus delivery state.

    ``lease_owner`` and ``lease_until`` say which instance is delivering it (a claim); ``attempts``
    counts failed sends; ``activity_id`` and ``conversation`` locate the card sent, to update it.
    """

    id: int
    key: str
    reference: str
    area: str
    process: str
    rule_id: str
    kind: str
    person_id: str
    audience: str
    send_at: datetime
    due: datetime | None
    state: str
    attempts: int = 0
    next_attempt_at: datetime | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = None
    sent_at: datetime | None = None
    channel: str | None = None
    activity_id: str | None = None
    conversation: str | None = None


@dataclass(frozen=True, slots=True)
class PlanChange:
    """What storing a case's reminder plan changed: rows added, pending rows cancelled (met or
    moved), rows brought back (a date moved back), and sent cards marked for a "met" update."""

    inserted: int = 0
    cancelled: int = 0
    restored: int = 0
    refresh: int = 0


@dataclass(frozen=True, slots=True)
class Contact:
    """Where a reminder can reach a person: a Teams conversation reference and/or an email."""

    person_id: str
    email: str | None
    conversation: str | None


R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Claimed(Generic[R]):
    """One claim of the sweep: the rows now leased to this instance, where to reach each row's person,
    and how many rows it took over from a holder whose lease had run out (a crashed or stalled
    instance: logged, so an operator sees it).

    Why together: the sweep needs all three for each batch, and on PostgreSQL the store gets them in
    one statement, so a batch costs one round trip however large the table is (issue 12).
    """

    rows: list[R]
    contacts: dict[str, Contact]
    reclaimed: int = 0


@dataclass(frozen=True, slots=True)
class Notice:
    """Someone must hear about something now (the chair's prompt, the reviewing manager's card...).

    Written as a row in the action's own transaction (a transactional outbox, ARCHITECTURE: Flows 5)
    and delivered by the sweep; ``kind`` names what, the edge chooses the card. ``occasion`` makes
    the key unique per happening (the complaint's id, the meeting's end), so the same notice is
    never queued twice.
    """

    kind: str
    person_id: str
    reference: str
    dissent_id: int | None = None
    occasion: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.reference}:{self.dissent_id or '-'}:{self.occasion or '-'}:{self.person_id}"


NOTICE_STATES: tuple[str, ...] = (
    "pending",  # to send at next_attempt_at
    "sent",  # delivered in Teams
    "emailed",  # handed to email
    "failed",  # undeliverable, or its card can no longer be drawn
)


@dataclass(frozen=True, slots=True)
class StoredNotice:
    """A notice row with its delivery state (the same lease and retry fields as a reminder's)."""

    id: int
    key: str
    kind: str
    person_id: str
    reference: str
    dissent_id: int | None
    occasion: str
    state: str
    created_at: datetime
    attempts: int = 0
    next_attempt_at: datetime | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = None
    sent_at: datetime | None = None
    channel: str | None = None
    activity_id: str | None = None

    @property
    def notice(self) -> Notice:
        return Notice(self.kind, self.person_id, self.reference, self.dissent_id, self.occasion)
