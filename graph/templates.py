"""Invitation bodies and email notifications from Jinja2 templates under ``graph/templates/``.

(The complaints managers' digest has its own templates in ``scheduler/``; it is sent through the same
mail outbox.)

HTML templates are autoescaped (``*.html.j2``): every value a person typed, and every value at all, is
escaped, so nothing in an email can become markup. Plain-text templates (``*.txt.j2``) are not
escaped, since there is no markup to break. Undefined values fail loudly (StrictUndefined): a
template asking for something it was not given is a bug, not a blank.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from casework.booking import DeclinePrompt, purpose_of
from casework.clock import LONDON
from casework.ports_graph import EventDraft, OutgoingEmail
from casework.slots import describe_time

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _autoescape(name: str | None) -> bool:
    return not (name or "").endswith(".txt.j2")


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=_autoescape,
        undefined=StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )


def render(name: str, values: Mapping[str, Any]) -> str:
    return environment().get_template(name).render(**values)


def _when(start: datetime, end: datetime) -> str:
    s, e = start.astimezone(LONDON), end.astimezone(LONDON)
    return (
        f"{s.strftime('%A %d %B %Y').replace(' 0', ' ')}, {s.strftime('%H:%M')} to {e.strftime('%H:%M')} {s.tzname()}"
    )


def event_values(draft: EventDraft) -> dict[str, Any]:
    room = draft.room
    chair = next((i.email for i in draft.invitees if draft.chair_id and i.person_id == draft.chair_id), None)
    return {
        "title": draft.title,
        "reference": draft.reference,
        "when": _when(draft.start, draft.end),
        "room": room.email if room else None,
        "chair": chair,
        "papers": list(draft.papers),
        "papers_source": draft.papers_source,
        "transaction_id": draft.transaction_id,
    }


def event_body_html(draft: EventDraft) -> str:
    """The invitation's HTML body: the papers the panel must have, with their citation."""
    return render("event_body.html.j2", event_values(draft))


def event_body_text(draft: EventDraft) -> str:
    return render("event_body.txt.j2", event_values(draft))


# -- notifications and digests --------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    label: str
    value: str


@dataclass(frozen=True)
class Notification:
    """A notice by email (when Teams cannot reach someone, or as a copy): references, never names."""

    to: tuple[str, ...]
    subject: str
    title: str
    message: str
    key: str
    facts: tuple[Fact, ...] = ()
    source: str = ""


def notification_email(n: Notification) -> OutgoingEmail:
    values = {"title": n.title, "message": n.message, "facts": list(n.facts), "source": n.source}
    return OutgoingEmail(
        to=n.to,
        subject=n.subject,
        text=render("notification.txt.j2", values),
        html=render("notification.html.j2", values),
        key=n.key,
    )


def decline_email(prompt: DeclinePrompt, to: tuple[str, ...]) -> OutgoingEmail:
    """The complaints managers' email copy of a decline prompt (the card goes through Teams)."""
    p = purpose_of(prompt.purpose)
    facts = [Fact("Case", prompt.reference), Fact("Meeting", p.title), Fact("When", describe_time(prompt.start))]
    if prompt.reason != "lost":
        facts.append(Fact("Declined by", "the room" if prompt.kind == "resource" else (prompt.email or "an invitee")))
    return notification_email(
        Notification(
            to=to,
            subject=f"{prompt.reference}: "
            + ("booking lost" if prompt.reason == "lost" else "an invitation was declined"),
            title=f"{p.title}: action needed",
            message=prompt.text(),
            key=f"decline-{prompt.transaction_id}-{prompt.reason}-{prompt.email.lower() or 'event'}",
            facts=tuple(facts),
        )
    )
