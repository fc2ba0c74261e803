"""The complaint's forms (000_263c99b8cdce9ba9.txt §3: Stage 1, Stage 2 and the panel): recording a complaint, its
steps, its outcome, and the correction of a step recorded in error. Each offers only what the
complaint's lifecycle allows now (casework decides; issue 14 item 6), and a refused form comes back
with what was typed (issue 9 item 4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from bot.views import deadline_text
from bot.views_base import Card, cited, escape_markdown
from cards.render import render
from casework.commands.corrections import Correctable, describe
from casework.lifecycle.spec import CLOSED
from casework.records import COMPLAINANT_ROLES
from casework.service import COMPLAINT_GROUNDS, OUTCOMES, STEP_EVENTS, CaseView


def _typed(typed: Mapping[str, Any] | None, key: str, default: str = "") -> str:
    """What the user typed into a refused form, so it comes back filled in (issue 9 item 4)."""
    value = (typed or {}).get(key)
    return value.strip()[:2000] if isinstance(value, str) else default


def complaint_form(
    reference: str,
    today: date,
    typed: Mapping[str, Any] | None = None,
    error: str = "",
    offer_second: bool = False,
    offer_name: bool = False,
) -> Card:
    """The complaint form; refused, it comes back with what was typed, the error, and (for a second
    complaint like one on record, casework.errors.SecondComplaint) the box that confirms it."""
    return render(
        "complaint_form",
        reference=reference,
        today=today.isoformat(),
        received=_typed(typed, "received", today.isoformat()),
        received_time=_typed(typed, "received_time"),
        complainant=_typed(typed, "complainant"),
        grounds_value=_typed(typed, "grounds"),
        summary=_typed(typed, "summary"),
        error=error,
        offer_second=offer_second,
        offer_name=offer_name,
        roles=[{"title": r.capitalize(), "value": r} for r in COMPLAINANT_ROLES],
        grounds=[{"title": t, "value": k} for k, t in COMPLAINT_GROUNDS.items()],
    )


def step_form(
    view: CaseView,
    command: str,
    today: date,
    now: datetime,
    valid: Sequence[Any],
    typed: Mapping[str, Any] | None = None,
    error: str = "",
) -> Card:
    """The steps of ``command`` that the complaint's lifecycle allows now (``valid``, from casework)."""
    offered = set(STEP_EVENTS[command]) & set(view.area.events)
    steps = [s for s in valid if s.event in offered]
    due = [
        {"label": d.title, "value": f"{escape_markdown(deadline_text(d))} ({cited(d.rule.source, view.area)})"}
        for t in view.timelines
        if t.process == "complaint"
        for d in t.deadlines
        if d.status in ("pending", "missed") and d.applicable
    ]

    def listed(found: Sequence[Any]) -> str:
        return "; ".join(f"{escape_markdown(s.title)} ({cited(s.source, view.area)})" for s in found)

    if steps:
        nxt = "Steps that can be recorded now: " + listed(steps)
    elif valid:
        nxt = "Nothing here can be recorded yet. Next: " + listed(valid)
    else:
        nxt = "The complaint has no further steps to record."
    return render(
        "step_form",
        title="Stage 1 and 2 steps" if command == "stage2" else "Panel steps",
        reference=view.conference.reference,
        due=due or [{"label": "Open deadlines", "value": "none"}],
        events=[{"title": s.title, "value": s.event} for s in steps],
        has_steps=bool(steps),
        next=nxt,
        today=today.isoformat(),
        date=_typed(typed, "date", today.isoformat()),
        time=_typed(typed, "time"),
        # With one step possible it is chosen already: one tap to record it.
        event=_typed(typed, "event", steps[0].event if len(steps) == 1 else ""),
        error=error,
        command=command,
        version=view.version,
    )


def correction_form(correctable: Correctable) -> Card:
    """``correct CPC-123``: the steps this person may withdraw, newest first (casework decides which)."""
    items = [{"title": label, "value": value} for value, label in describe(correctable.events)]
    return render(
        "correction_form",
        reference=correctable.conference.reference,
        items=items,
        some=bool(items),
        none=not items,
        version=correctable.version,
    )


def outcome_form(view: CaseView) -> Card:
    """The complaint's outcome, citing the case's own procedure for it (its lifecycle's outcome step)."""
    return render(
        "outcome_form",
        reference=view.conference.reference,
        source=cited(view.area.complaint_lifecycle.source_of(CLOSED), view.area),
        outcomes=[{"title": t, "value": k} for k, t in OUTCOMES.items()],
        version=view.version,
    )
