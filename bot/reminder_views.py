"""Reminder cards and the one-tap action each duty offers (drawn by the sweep, and in ``deadlines``).

What the button does comes from the rule's purpose (casework.duties), never from matching event names.
"""

from __future__ import annotations

from datetime import datetime

from bot.views_base import Card, cited, cited_plain, when
from cards.render import render
from casework.citations import Where
from casework.commands.complaint import step_command
from casework.event_titles import event_title
from casework.rules import Rule

#: purpose (casework.duties.purpose) -> (verb, button title)
ACTIONS: dict[str, tuple[str, str]] = {
    "decide": ("open.decide", "Decide now"),
    "record": ("open.record", "Record the dissent"),
    "step": ("open.step", "Record the step"),
    "dissent": ("open.dissent", "Record dissent"),
    "done": ("duty.done", "Mark done"),
    "none": ("open.status", "Open the case"),
}


def action_for(purpose: str, rule: Rule | None = None) -> tuple[str, str]:
    """The verb and title of the one button that completes a deadline of this purpose; a complaint
    step's button names the step ("Record: Stage 1 response sent")."""
    verb, title = ACTIONS.get(purpose, ACTIONS["none"])
    if purpose == "step" and rule is not None and rule.completed_by:
        title = f"Record: {event_title(rule.completed_by[0])}"
    return verb, title


def _working_days(kind: str) -> int:
    return int(kind.split("-", 1)[1])


def reminder_card(
    reference: str, rule: Rule, kind: str, due: datetime | None, audience: str, where: Where, purpose: str = "none"
) -> tuple[Card, str, str]:
    """A reminder as a card, with the email subject and plain text for when Teams cannot carry it.

    ``where`` is the case's area: the rule is cited by its procedure's name, never its seed file."""
    due_text = when(due)
    window = rule.kind == "window"
    colour = "Default"
    if kind == "opened":
        heading = f"Open until {due_text}: {reference}"
        message = (
            f"You may record dissent from conference {reference} until {due_text}."
            if "dissent_raised" in rule.completed_by
            else f"{rule.title}: open until {due_text}."
        )
    elif kind.startswith("before-"):
        n = _working_days(kind)
        span = "1 working day" if n == 1 else f"{n} working days"
        heading = f"{'Closes' if window else 'Due'} in {span}: {reference}"
        message = f"{rule.title}: {'closes' if window else 'due by'} {due_text}."
        colour = "Warning" if n <= 2 else "Default"
    elif kind == "due":
        heading = f"Due today: {reference}"
        message = f"{rule.title}: due by {due_text}."
        colour = "Warning"
    else:
        heading = f"Overdue: {reference}"
        message = f"{rule.title} was due by {due_text} and is not recorded as done."
        colour = "Attention"
    note = (
        "You are receiving this as line manager of the person responsible (delay is reported to the manager)."
        if audience == "line_manager"
        else ""
    )
    verb, action = action_for(purpose, rule)
    card = render(
        "reminder",
        heading=heading,
        message=message,
        colour=colour,
        reference=reference,
        title=rule.title,
        due=due_text,
        source=cited(rule.source, where),
        note=note,
        verb=verb,
        action=action,
        rule=rule.id,
        command=step_command(rule) if purpose == "step" else "",
    )
    text = f"{message}\n\nCase: {reference}\nRule: {cited_plain(rule.source, where)}\n" + (
        f"\n{note}\n" if note else ""
    )
    return card, heading, text + "\nOpen Teams and type: status " + reference


def reminder_met_card(reference: str, rule: Rule, due: datetime | None, where: Where) -> Card:
    """The earlier reminder, updated in place once its deadline is met: no button, no alarm."""
    return render(
        "reminder",
        heading=f"Done: {reference}",
        message=f"{rule.title}: recorded as done. No further reminders.",
        colour="Good",
        reference=reference,
        title=rule.title,
        due=when(due),
        source=cited(rule.source, where),
        note="",
        verb="",
        action="",
        rule=rule.id,
        command="",
    )
