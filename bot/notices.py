"""Drawing queued notices: the card, and the email used when Teams cannot take it.

Notices are rows written in the action's own transaction (the outbox, ARCHITECTURE: Flows 5); the
sweep delivers them and calls :func:`draw_notice` at send time, so a card always shows the case as it
is when it is sent (an amended reason, a dissent since recorded). It reads the case once (one
transaction), since every notice the turns queue is drawn by it.
"""

from __future__ import annotations

from bot import views
from bot.views import Card
from casework.records import Notice
from casework.service import Casework


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
        card = views.decision_notice(dissent, view, reasons)
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
