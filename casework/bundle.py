"""The case bundle's content: one case as the Ombudsman needs it, in words and in exact values.

``cpc case export`` writes this content twice: as JSON (sealed by :mod:`casework.audit_bundle`) and
as a PDF drawn from the very same dictionary, so the two cannot say different things. Every value a
person reads has its words beside it (``due`` and ``due_words``, the citation by the procedure's name,
the explanation of each date); every audit entry carries each field its MAC signs and the MAC of the
entry before it in the whole log, so that a recipient holding the key can check it although the
case's entries are not contiguous in the log.

Free text (a dissent's reason, a decision's reasons, a complaint's summary) is given as the record
holds it; text a redaction replaced starts ``[redacted`` and is shown as it is (casework.wording).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from casework.audit import canonical_time
from casework.audit_mac import MAC_GENESIS
from casework.citations import cite_text
from casework.clock import to_local_iso, when, when_recorded
from casework.commands.complaint import COMPLAINT_GROUNDS, OUTCOMES
from casework.deadline import Deadline
from casework.event_titles import event_title
from casework.free_text import FreeText
from casework.records import AuditEntry, CaseEvent
from casework.results import CaseView
from casework.wording import PROCESS_TITLE, STATUS_WORDS, audit_what, audit_when, detail_words, words

#: The audit actions that decide something, and how the bundle names them.
DECISIONS: Mapping[str, str] = {
    "dissent.recorded": "Late dissent accepted at the chair's discretion and recorded",
    "dissent.declined": "Late dissent declined by the chair",
    "dissent.upheld": "Dissent upheld: the conference is to be reconvened",
    "dissent.not_upheld": "Dissent not upheld",
    "complaint.closed": "Complaint closed with its outcome",
    "case.corrected": "A step withdrawn as recorded in error",
}


@dataclass(frozen=True, slots=True)
class LogCheck:
    """What verifying the whole audit log found at the moment of export."""

    intact: bool
    line: str
    problems: tuple[str, ...] = ()


def _iso(at: datetime | None) -> str | None:
    return to_local_iso(at) if at is not None else None


Texts = Mapping[tuple[str, int], str]
"""(field, record id) -> the free text its record holds (casework.free_text): the audit entry has
only the text's hash, so a decision's or a correction's reasons are read from their records."""


def texts_of(free: Sequence[FreeText]) -> dict[tuple[str, int], str]:
    """The latest text of each (field, record)."""
    return {(t.field, t.record_id): t.text for t in free}


def withdrawals(entries: Sequence[AuditEntry], texts: Texts) -> dict[int, str]:
    """Event id -> who withdrew it and when (the corrections' audit entries), and why (its record)."""
    out: dict[int, str] = {}
    for e in entries:
        event_id = e.detail.get("event_id") if e.action == "case.corrected" else None
        if isinstance(event_id, int):
            why = texts.get(("correction-reason", event_id), "")
            out[event_id] = f"withdrawn {when(e.at)} by {e.actor}: {why}"
    return out


def _stage_words(stage: str) -> str:
    """``stage2`` reads "Stage 2"; ``closed:confirmed`` "closed: Decision confirmed, with an explanation"."""
    if stage.startswith("closed:"):
        outcome = stage.removeprefix("closed:")
        return f"closed: {OUTCOMES.get(outcome, words(outcome))}"
    if stage.startswith("stage") and stage[5:].isdigit():
        return f"Stage {stage[5:]}"
    return words(stage)


def _deadline(d: Deadline) -> dict[str, Any]:
    return {
        "id": d.id,
        "title": d.title,
        "kind": d.rule.kind,
        "status": d.status,
        "status_words": STATUS_WORDS.get(d.status, d.status),
        "due": _iso(d.due),
        "due_words": when(d.due),
        "responsible": d.rule.responsible,
        "completed": _iso(d.completed_at),
        "completed_words": when(d.completed_at) if d.completed_at else None,
        "source": d.rule.source,
        "citation": cite_text(d.rule.source, d.area),
        "explanation": d.explanation,
    }


def _decision_reasons(e: AuditEntry, texts: Texts) -> str:
    if e.action == "complaint.closed":
        outcome = str(e.detail.get("outcome", ""))
        return OUTCOMES.get(outcome, words(outcome))
    if e.action == "dissent.recorded":
        return (
            "accepted although late, at the chair's discretion" if e.detail.get("late_accepted_at_discretion") else ""
        )
    if e.action == "case.corrected":
        event_id = e.detail.get("event_id")
        return texts.get(("correction-reason", event_id), "") if isinstance(event_id, int) else ""
    dissent = e.detail.get("dissent")
    if isinstance(dissent, int) and ("decision-reasons", dissent) in texts:
        return texts[("decision-reasons", dissent)]
    # Entries written before free text left the log carried the text itself.
    return str(e.detail.get("reasons") or e.detail.get("reason") or "")


def _decisions(entries: Sequence[AuditEntry], texts: Texts) -> list[dict[str, Any]]:
    out = []
    for e in entries:
        if e.action not in DECISIONS:
            continue
        if e.action == "dissent.recorded" and not e.detail.get("late_accepted_at_discretion"):
            continue  # recording a dissent in time is the chair's duty, not a decision
        out.append(
            {
                "seq": e.seq,
                "what": DECISIONS[e.action],
                "action": e.action,
                "by": e.actor,
                "at": to_local_iso(e.at),
                "at_words": when(e.at),
                "dissent": e.detail.get("dissent"),
                "reasons": _decision_reasons(e, texts),
            }
        )
    return out


def _events(
    view: CaseView, all_events: Sequence[CaseEvent], entries: Sequence[AuditEntry], texts: Texts
) -> list[dict[str, Any]]:
    counted = {e.id for e in view.events}
    why = withdrawals(entries, texts)
    return [
        {
            "id": e.id,
            "name": e.name,
            "title": event_title(e.name),
            "at": to_local_iso(e.at),
            "at_words": when_recorded(e.at),
            "recorded_by": e.recorded_by,
            "counted": e.id in counted,
            "withdrawn": None if e.id in counted else why.get(e.id or 0, "withdrawn"),
        }
        for e in all_events
    ]


def audit_record(e: AuditEntry, prev_mac: str | None, prev_key_id: str | None) -> dict[str, Any]:
    """One entry: every field its MAC signs (``at`` exactly as signed), the MAC before it, and words."""
    return {
        "seq": e.seq,
        "at": canonical_time(e.at),
        "actor": e.actor,
        "action": e.action,
        "reference": e.reference,
        "detail": e.detail,
        "key_id": e.key_id,
        "prev_mac": prev_mac or MAC_GENESIS,
        "prev_key_id": prev_key_id,
        "mac": e.mac,
        "cross_mac": e.cross_mac,
        "when_words": audit_when(e),
        "what_words": audit_what(e),
        "detail_words": detail_words(e.detail),
    }


def case_content(
    view: CaseView,
    all_events: Sequence[CaseEvent],
    entries: Sequence[AuditEntry],
    predecessors: Mapping[int, tuple[str | None, str | None]],
    check: LogCheck,
    head: tuple[int, str | None] | None,
    exported_at: datetime,
    texts: Texts,
) -> dict[str, Any]:
    """Everything about the case, in the order the PDF reads it (see the module docstring).

    ``predecessors`` gives, for each entry's position, the MAC and key id of the log's entry before
    it; ``head`` the log's last position and MAC at export, which a recipient may compare with a
    checkpoint kept elsewhere.
    """
    c, area = view.conference, view.area
    decisions = _decisions(entries, texts)
    by_dissent: dict[object, list[dict[str, Any]]] = {}
    for d in decisions:
        if d["dissent"] is not None:
            by_dissent.setdefault(d["dissent"], []).append(d)
    return {
        "reference": c.reference,
        "area": {"id": area.id, "name": area.name},
        "exported_at": to_local_iso(exported_at),
        "exported_words": when(exported_at),
        "conference": {
            "type": c.type,
            "scheduled": _iso(c.scheduled_at),
            "held": _iso(c.held_at),
            "held_words": when(c.held_at),
            "ended": _iso(c.ended_at),
            "ended_words": when(c.ended_at) if c.ended_at else None,
            "chair": c.chair_id,
            "attendees": [{"person": a.person_id, "agency": a.agency} for a in c.attendees],
        },
        "timelines": [
            {
                "process": tl.process,
                "title": PROCESS_TITLE.get(tl.process, tl.process),
                "deadlines": [_deadline(d) for d in tl.deadlines],
            }
            for tl in view.timelines
        ],
        "events": _events(view, all_events, entries, texts),
        "dissents": [
            {
                "id": d.id,
                "by": d.person_id,
                "agency": d.agency,
                "raised": to_local_iso(d.raised_at),
                "raised_words": when(d.raised_at),
                "late": d.late,
                "state": d.state,
                "state_words": words(d.state),
                "reason": d.reason,
                "decided": _iso(d.decided_at),
                "decided_words": when(d.decided_at) if d.decided_at else None,
                "decisions": [x["seq"] for x in by_dissent.get(d.id, [])],
            }
            for d in view.dissents
        ],
        "complaints": [
            {
                "id": k.id,
                "complainant": k.complainant_role,
                "grounds": k.grounds,
                "grounds_words": COMPLAINT_GROUNDS.get(k.grounds, words(k.grounds)),
                "summary": k.summary,
                "received": to_local_iso(k.received_at),
                "received_words": when(k.received_at) if k.time_given else when_recorded(k.received_at),
                "stage": k.stage,
                "stage_words": _stage_words(k.stage),
            }
            for k in view.complaints
        ],
        "decisions": decisions,
        "audit": {
            "verification": {"intact": check.intact, "line": check.line, "problems": list(check.problems)},
            "log_head": None if head is None else {"seq": head[0], "mac": head[1]},
            "entries": [audit_record(e, *predecessors.get(e.seq, (None, None))) for e in entries],
        },
    }


__all__ = ["DECISIONS", "LogCheck", "audit_record", "case_content", "withdrawals"]
