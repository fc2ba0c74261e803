"""Records the store keeps. Case references only: no child or family names, anywhere.

People here are professionals (chairs, attendees, managers), known by Entra object id and email.
Complainants are recorded by role (``parent``, ``child``, ``carer``, ``advocate``), never by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

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


@dataclass(frozen=True, slots=True)
class CaseEvent:
    reference: str
    name: str
    at: datetime
    recorded_by: str | None = None


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


@dataclass(frozen=True, slots=True)
class CaseFile:
    """Everything about one conference case, read in one transaction so it is a consistent snapshot."""

    conference: Conference
    events: tuple[CaseEvent, ...]
    dissents: tuple[Dissent, ...]
    complaints: tuple[Complaint, ...]
