"""Casework results into card values: presentation only, no rules (those are in casework/)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.commands import USAGE
from bot.reminder_views import action_for, reminder_card, reminder_met_card
from bot.views_base import (
    Card,
    chair_of,
    cited,
    dissenter,
    escape_markdown,
    event_words,
    mention,
    prose,
    when,
    words,
)
from cards.render import link, render
from casework.audit_words import AuditLine
from casework.clock import when_recorded
from casework.commands.complaint import step_command
from casework.lifecycle.dissent import state_words
from casework.packs import Area
from casework.records import Conference, Dissent
from casework.service import CaseView, Due
from casework.timeline import Deadline, Timeline, rag
from casework.wording import PROCESS_TITLE, STATUS_WORDS

RAG_COLOUR = {"red": "Attention", "amber": "Warning", "green": "Good", "grey": "Default"}


# Words as well as colour: colour alone fails colour-blind readers, and emoji render as empty boxes
# in some clients.
def mark(d: Deadline, colour: str) -> str:
    if d.status == "pending":
        return "Due soon:" if colour == "amber" else "Open:"
    return {"missed": "Overdue:", "late": "Done late:", "met": "Done:", "waiting": "Not started:"}[d.status]


def help_card(intro: str | None = None) -> Card:
    return render(
        "help",
        intro=intro or "",
        commands=[{"usage": form, "what": what} for form, what in USAGE.values()],
    )


def result_card(title: str, message: str, colour: str = "Good", facts: Sequence[tuple[str, str]] = ()) -> Card:
    return render(
        "result",
        title=title,
        message=message,
        colour=colour,
        facts=[{"label": k, "value": v} for k, v in facts],
    )


def dissent_form(windows: Sequence[tuple[Conference, datetime | None]]) -> Card:
    conferences = [
        {
            "label": f"{c.reference} (held {when(c.held_at)}; "
            + (f"window closes {when(due)})" if due else "no time limit in this area)"),
            "reference": c.reference,
        }
        for c, due in windows
    ]
    return render("dissent_form", conferences=conferences, first=conferences[0]["reference"] if conferences else "")


def deadline_text(d: Deadline) -> str:
    """When the deadline falls, in words that add to its mark ("Done:", "Overdue:") rather than repeat
    it; a date already past reads as past ("Closed on ...", "Was due ...")."""
    if d.due is None:
        if d.status in ("pending", "missed") and d.rule.timescale:
            return d.rule.timescale[:1].upper() + d.rule.timescale[1:]
        return (
            "Dated once the step it runs from is recorded"
            if d.status == "waiting"
            else STATUS_WORDS[d.status].capitalize()
        )
    due = when(d.due)
    done = when_recorded(d.completed_at) if d.completed_at else ""
    if d.status == "met":
        return f"On {done} (due {due})" if done else f"By {due}"
    if d.status == "late":
        return f"On {done}, after its date ({due})" if done else f"After its date ({due})"
    if d.status == "missed":
        return f"Closed on {due}" if d.rule.kind == "window" else f"Was due {due}, and is not recorded as done"
    if d.status == "waiting":
        return f"Would be due {due}"
    return f"{'Open until' if d.rule.kind == 'window' else 'Due'} {due}"


def colour_of(d: Deadline, now: datetime) -> str:
    """The mark's colour: red, amber and grey as :func:`casework.timeline.rag` says; green only for
    what is done, since an open step in the same light green as a finished one is hard to tell apart
    (and hard to read on white)."""
    colour = rag(d, now)
    return "Accent" if colour == "green" and d.status == "pending" else RAG_COLOUR[colour]


def next_steps(tl: Timeline) -> str:
    open_ = [d for d in tl.deadlines if d.status in ("pending", "waiting") and d.rule.kind == "duty" and d.due]
    if not open_:
        return "The chair and the reviewing manager have been told."
    return " ".join(f"{d.title}: by {when(d.due)}." for d in open_[:3])


def procedure(area: Area) -> str:
    """The area's own procedure as card Markdown, by its name (a link where its address is known)."""
    doc = area.document
    return link(doc.title, doc.url) if doc else escape_markdown(area.name)


def dissent_confirmation(
    dissent: Dissent, window_due: datetime | None, view: CaseView, chair_object_id: str | None = None
) -> Card:
    """The professional's confirmation. In a group or meeting chat (``chair_object_id`` given) it
    mentions the chair, who must act next (001 5.7.7(2)); their own card comes to their 1:1 chat."""
    tl = next((t for t in view.timelines if t.process == "dissent"), None)
    chair = view.conference.chair_id
    if chair_object_id and chair:
        card = dissent_confirmation(dissent, window_due, view)
        card, at = mention(card, chair_object_id, view.names.get(chair, "the chair"))
        note = {
            "type": "TextBlock",
            "wrap": True,
            "text": f"{at}, as chair: a card to record this dissent is in your chat with the bot.",
        }
        return {**card, "body": [*card["body"], note]}
    return render(
        "dissent_confirmation",
        reference=dissent.reference,
        late=dissent.late,
        window=(f"closed on {when(window_due)}" if dissent.late else f"closes {when(window_due)}")
        if window_due
        else "no time limit in this area",
        raised=when(dissent.raised_at),
        reason=dissent.reason,
        next=next_steps(tl) if tl else "The chair has been told.",
        next_source=procedure(view.area),
    )


def name_check_card(reference: str, reason: str, verb: str = "dissent.submit") -> Card:
    """Before a reason that looks as if it names someone is recorded: send anyway, or edit it here
    (casework.names; issue 14 item 7). Never a refusal. ``verb``: a new dissent, or an amended reason."""
    return render("name_check", reference=reference, reason=reason, verb=verb)


def _decision_due(view: CaseView) -> str:
    """When the reviewing manager's decision is due, with its citation (card Markdown)."""
    for tl in view.timelines:
        for d in tl.deadlines:
            if any(e in d.rule.completed_by for e in ("dissent_upheld", "dissent_not_upheld")) and d.due:
                return f"{escape_markdown(when(d.due))} ({cited(d.rule.source, view.area)})"
    return "no time limit set in this area"


def chair_prompt(dissent: Dissent, view: CaseView, window_due: datetime | None) -> Card:
    rule = next(
        (d.rule for t in view.timelines for d in t.deadlines if "dissent_recorded" in d.rule.completed_by), None
    )
    return render(
        "chair_prompt",
        reference=dissent.reference,
        dissenter=dissenter(dissent, view),
        late=dissent.late,
        window=f"closed on {when(window_due)}" if window_due else "",
        reason=dissent.reason,
        raised=when(dissent.raised_at),
        decision_due=_decision_due(view),
        source=cited(rule.source, view.area) if rule else procedure(view.area),
        dissent=dissent.id,
        state=dissent.state,
    )


def decision_card(dissent: Dissent, view: CaseView) -> Card:
    rule = next((d.rule for t in view.timelines for d in t.deadlines if "dissent_upheld" in d.rule.completed_by), None)
    return render(
        "decision",
        reference=dissent.reference,
        dissenter=dissenter(dissent, view),
        chair=chair_of(view),
        reason=dissent.reason,
        decision_due=_decision_due(view),
        status=state_words(dissent.state).capitalize(),
        source=cited(rule.source, view.area) if rule else procedure(view.area),
        dissent=dissent.id,
        state=dissent.state,
    )


def timeline_card(view: CaseView, now: datetime, mine: Mapping[str, str] | None = None) -> Card:
    """``status``: every deadline of the case; beside each of the viewer's open duties (``mine``:
    deadline id -> purpose, from casework.overview) the one button that does it."""
    sections = []
    for tl in view.timelines:
        rows = []
        for d in tl.deadlines:
            verb, action = action_for((mine or {}).get(d.id, "none"), d.rule)
            rows.append(
                {
                    "has_action": d.id in (mine or {}),
                    "verb": verb,
                    "action": action,
                    "reference": view.conference.reference,
                    "rule": d.id,
                    "command": step_command(d.rule) if (mine or {}).get(d.id) == "step" else "",
                    "rag": mark(d, rag(d, now)),
                    "title": d.title,
                    "colour": colour_of(d, now),
                    "due_text": deadline_text(d),
                    "source": cited(d.rule.source, view.area)
                    + (f". {prose(d.rule.note, view.area)}" if d.rule.note and d.status != "waiting" else ""),
                }
            )
        sections.append({"process": PROCESS_TITLE.get(tl.process, tl.process), "deadlines": rows})
    events = [{"when": when_recorded(e.at), "name": event_words(e, view)} for e in view.events]
    return render(
        "timeline",
        reference=view.conference.reference,
        area=view.area.name,
        chair=chair_of(view),
        sections=sections,
        events=events,
    )


def deadlines_card(items: Sequence[Due], now: datetime) -> Card:
    """``deadlines``: the person's own duties, each with one tap to act; then rights open for others,
    which are never shown as the person's overdue work (casework.queries.deadlines_for)."""
    duties, rights = [], []
    for item in items[:40]:
        d = item.deadline
        if item.kind == "right":
            rights.append(
                {
                    "reference": item.reference,
                    "title": d.title,
                    "due_text": f"Open for {item.holder} until {when(d.due)}" if d.due else f"Open for {item.holder}",
                    "source": cited(d.rule.source, d.area),
                }
            )
            continue
        verb, title = action_for(item.purpose, d.rule)
        duties.append(
            {
                "rag": mark(d, rag(d, now)),
                "reference": item.reference,
                "title": d.title,
                "colour": colour_of(d, now),
                "due_text": deadline_text(d),
                "source": cited(d.rule.source, d.area),
                "verb": verb,
                "action": title,
                "rule": d.id,
                "command": step_command(d.rule) if item.purpose == "step" else "",
            }
        )
    return render(
        "deadlines",
        items=duties[:25],
        rights=rights[:15],
        empty=not duties,
        has_rights=bool(rights),
    )


def audit_card(reference: str, lines: Sequence[AuditLine]) -> Card:
    """The case's trail, newest 40, numbered per case; the chain's position is shown apart."""
    shown = lines[-40:]
    return render(
        "audit",
        reference=reference,
        count=f"{len(lines)} entries" + (f"; the latest {len(shown)} are shown" if len(shown) < len(lines) else ""),
        entries=[
            {"when": f"{line.number}. {line.when}", "what": f"{line.sentence}. Chain position {line.position}."}
            for line in shown
        ],
    )


def notice_card(
    title: str,
    message: str,
    facts: Sequence[tuple[str, str]] = (),
    source: str = "",
    colour: str = "Default",
    cites: str = "",
) -> Card:
    """A notice; ``source`` is plain text (a command to type), ``cites`` card Markdown (a citation)."""
    return render(
        "notice",
        title=title,
        message=message,
        facts=[{"label": k, "value": v} for k, v in facts],
        source=source,
        colour=colour,
        cites=cites,
    )


__all__ = ["Card", "reminder_card", "reminder_met_card", "when", "words"]
