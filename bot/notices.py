"""Drawing queued notices: the card, and the email used when Teams cannot take it.

Notices are rows written in the action's own transaction (the outbox, ARCHITECTURE: Flows 5); the
sweep delivers them and calls :func:`draw_notice` at send time, so a card always shows the case as it
is when it is sent (an amended reason, a dissent since recorded). It reads the case once (one
transaction), since every notice the turns queue is drawn by it.
"""

from __future__ import annotations

from bot import views
from bot.views import Card
from bot.views_base import chair_of, dissenter
from casework.queries import CaseQueries
from casework.records import Dissent, Notice
from casework.results import CaseView
from casework.service import Casework


def decision_notice(dissent: Dissent, view: CaseView, reasons: str) -> Card:
    """What was decided on a dissent, by whom, with the reasons given and what follows (001 5.7.7(3)-(6)).

    Sent to the dissenting professional and the chair alike, so it names the professional rather
    than saying "your dissent"."""
    event = next((e for e in reversed(view.events) if e.name == f"dissent_{dissent.state}"), None)
    decider = view.names.get(event.recorded_by or "") if event else None
    if dissent.state == "declined":
        title = f"Late dissent declined: {dissent.reference}"
        decision, by = "Declined by the chair, at their discretion", chair_of(view)
        follow = "The dissent was raised after its window closed and the chair did not accept it."
    elif dissent.state == "upheld":
        title = f"Dissent upheld: {dissent.reference}"
        decision, by = "Upheld: the conference will be reconvened", decider or "The reviewing manager"
        follow = "; ".join(f"{d.title}: by {views.when(d.due)}." for d in CaseQueries.after_uphold(view)[:1]) or (
            "The chair arranges the reconvened conference."
        )
    else:
        title = f"Dissent not upheld: {dissent.reference}"
        decision, by = "Not upheld: the conference decision stands", decider or "The reviewing manager"
        follow = (
            "If the professional remains unhappy with the decision, the procedure for resolving professional "
            "differences applies; they discuss their reasons with their line manager or safeguarding lead."
        )
    facts = [
        ("Dissent by", dissenter(dissent, view)),
        ("Raised", views.when(dissent.raised_at)),
        ("Decision", decision),
        ("Decided by", by),
        ("Reasons", reasons),
    ]
    return views.notice_card(title, follow, facts, colour="Default", cites=views.procedure(view.area))


def draw_notice(cw: Casework, notice: Notice) -> tuple[Card, str, str]:
    """Card, email subject and email text for one notice; casework errors mean it cannot be drawn."""
    ref = notice.reference
    # One read of the case serves the whole card: its dissent, its timelines and its window.
    view = cw.system_view(ref)
    conference = view.conference
    dissent = next((d for d in view.dissents if d.id == notice.dissent_id), None)
    if notice.kind == "chair_prompt" and dissent is not None:
        card = views.chair_prompt(dissent, view, cw.window_due(conference, view.events))
        return card, f"Dissent raised: {ref}", f"A dissent was raised on {ref}. Open Teams to record it."
    if notice.kind == "decision_request" and dissent is not None:
        card = views.decision_card(dissent, view)
        return card, f"Decision needed: dissent on {ref}", f"A dissent on {ref} awaits your decision."
    if notice.kind == "decision_made" and dissent is not None:
        reasons = cw.decision_reasons(ref, dissent.id or 0) or "not on record"
        card = decision_notice(dissent, view, reasons)
        if dissent.state == "declined":
            return card, f"Late dissent declined: {ref}", f"Your late dissent on {ref} was declined by the chair."
        outcome = "upheld: the conference will be reconvened" if dissent.state == "upheld" else "not upheld"
        return card, f"Dissent decided: {ref}", f"The dissent on {ref} was {outcome}. Open Teams for the reasons."
    if notice.kind == "dissent_withdrawn":
        card = views.notice_card(
            f"Dissent withdrawn: {ref}", "The professional withdrew their dissent; there is nothing to record."
        )
        return card, f"Dissent withdrawn: {ref}", f"A dissent on {ref} was withdrawn by the professional."
    if notice.kind == "line_manager_notice":
        card = views.notice_card(f"Dissent recorded: {ref}", "A dissent was recorded at a conference you oversee.")
        return card, f"Dissent recorded: {ref}", f"A dissent was recorded on {ref}."
    if notice.kind == "complaint_logged":
        card = views.notice_card(f"Complaint received: {ref}", "A complaint about the conference was recorded.")
        return card, f"Complaint received: {ref}", f"A complaint about {ref} was recorded."
    due = cw.window_due(conference, view.events)
    card = views.notice_card(
        f"Conference {ref} has ended",
        f"You may record dissent until {views.when(due)}." if due else "You may record dissent.",
        source=f"Type: dissent {ref} <reason>",
    )
    return card, f"Conference {ref} ended", f"You may record dissent on {ref} until {views.when(due)}."
