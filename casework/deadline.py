"""One deadline of a case: its due time, status, how it was dated, and its JSON form.

Statuses: ``waiting`` (not started, or not yet applicable), ``pending`` (running), ``met``,
``late`` (done after the due time; a late window is flagged, and where the procedure gives someone
discretion they may accept it) and ``missed`` (not done and past due).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from casework.areas import Area
from casework.citations import cite, first_url, titles
from casework.clock import LONDON, to_local_iso
from casework.explanations import explain
from casework.rules import Candidate, Rule

STATUSES: tuple[str, ...] = ("waiting", "pending", "met", "late", "missed")


@dataclass(frozen=True, slots=True)
class Dated:
    """One candidate dated: its start and due, or why it could not be dated."""

    candidate: Candidate
    start_event: str | None
    start: datetime | None
    due: datetime | None
    period_text: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Extension:
    """An authorised extension (SI 2006/1738 regs 14, 17; London 8.14.14): when it was recorded and
    the date it replaced, which stays visible (``original_status`` is ``missed`` when the original
    date had passed unmet before the extension was recorded)."""

    recorded_at: datetime
    original_due: datetime | None
    original_status: str | None
    late: bool


@dataclass(slots=True)
class Deadline:
    rule: Rule
    due: datetime | None
    status: str
    dated: tuple[Dated, ...]
    chosen: Dated | None
    completed_at: datetime | None
    completed_event: str | None
    applicable: bool
    area: Area
    discretion: bool = False
    # For a rule that repeats (``each``): which occurrence of its start event, and its label.
    occurrence: int | None = None
    label: str | None = None
    # "sooner" (a duty) or "later" (a right) when two limits were dated.
    limits: str | None = None
    extension: Extension | None = None
    # Met because the window became unnecessary (``rule.satisfied_by``), not because it was used.
    satisfied: bool = False
    # What was assumed where the procedure names no starting point, in the pack's words.
    assumptions: tuple[str, ...] = ()
    _explanation: str | None = field(default=None, repr=False)

    @property
    def id(self) -> str:
        """The rule's id; ``rule#n`` for the n-th occurrence of a repeating rule."""
        return f"{self.rule.id}#{self.occurrence}" if self.occurrence else self.rule.id

    @property
    def title(self) -> str:
        return f"{self.rule.title} ({self.label})" if self.label else self.rule.title

    @property
    def explanation(self) -> str:
        if self._explanation is None:
            self._explanation = explain(self)
        return self._explanation

    def as_dict(self) -> dict[str, Any]:
        """The JSON form used by ``cpc timeline --json`` and the cards."""
        r = self.rule
        chosen = self.chosen
        skipped: list[dict[str, str]] = []
        if (
            chosen
            and chosen.start
            and chosen.due
            and chosen.candidate.period
            and chosen.candidate.direction != "next_meeting"
        ):
            cal = self.area.calendar
            skipped = [
                {"date": d.day.isoformat(), "reason": d.reason}
                for d in cal.skipped_between(
                    chosen.start.astimezone(LONDON).date(), chosen.due.astimezone(LONDON).date()
                )
            ]
        ext = self.extension
        cited = cite(r.source, self.area)  # the document's name and address beside the machine-readable source
        return {
            "id": self.id,
            "rule": r.id,
            "occurrence": self.occurrence,
            "label": self.label,
            "title": self.title,
            "kind": r.kind,
            "due": to_local_iso(self.due) if self.due else None,
            "status": self.status,
            "responsible": r.responsible,
            "source": r.source,
            "source_title": titles(cited),
            "source_url": first_url(cited),
            "explanation": self.explanation,
            "start": to_local_iso(chosen.start) if chosen and chosen.start else None,
            "start_event": chosen.start_event if chosen else None,
            "completed": to_local_iso(self.completed_at) if self.completed_at else None,
            "completed_by": self.completed_event,
            "skipped": skipped,
            "note": r.note,
            "applies": self.applicable,
            "discretion_recorded": self.discretion,
            "flagged": r.kind == "flag" and self.status == "late",  # a limit exceeded (004 8.9.10)
            "limits": [
                {
                    "due": to_local_iso(x.due),
                    "period": x.period_text,
                    "source": x.candidate.source or r.source,
                    "applies": x is chosen,
                }
                for x in self.dated
                if x.due is not None
            ]
            if self.limits
            else [],
            "limit_rule": self.limits,
            "extension": {
                "recorded": to_local_iso(ext.recorded_at),
                "original_due": to_local_iso(ext.original_due) if ext.original_due else None,
                "original_status": ext.original_status,
                "late": ext.late,
            }
            if ext
            else None,
            "satisfied": self.satisfied,
            "assumptions": list(self.assumptions),
        }
