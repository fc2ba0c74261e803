"""Setting a conference up from Teams (issue 14 item 5): ``attendee add @person police``, ``attendee
remove @person`` and ``conference new`` (a card). Run on a worker thread; casework decides who may.

The person added is the message's mention, looked up by the handler in the chat's roster (their Entra
object id) before this runs: a name typed without a mention is never taken for a person.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot import views
from bot.commands import Command, usage
from bot.turn_inputs import given, text_of
from bot.views import Card
from cards.render import render
from casework.clock import LONDON, start_of_day
from casework.errors import NotEntitled, admin_contact
from casework.records import CONFERENCE_TYPES, Person
from casework.references import DEFAULT_PATTERN
from casework.service import Casework

#: Where the handler puts the id of the group or meeting chat a card was answered in (never taken from
#: the card's own data: a card's data is the client's to change).
CHAT = "cpc.chat"

_TYPE_WORDS = {
    "initial": "Initial conference",
    "review": "Review conference",
    "prebirth": "Pre-birth conference",
    "prebirth_review": "Pre-birth review conference",
    "reconvened": "Reconvened conference",
}


@dataclass
class SetupTurns:
    casework: Casework
    now: Callable[[], datetime]
    admin_contact: str = ""

    def attendee(self, me: Person, cmd: Command, chat_id: str | None, person: Person | None, found: bool) -> Card | str:
        """``attendee add`` / ``attendee remove``; ``found`` is False when the message mentioned nobody."""
        if chat_id is None:
            return "Add attendees in the conference's meeting chat or a group chat, where you can mention them."
        if not found:
            return f"Mention the person (type @ and their name). {usage(cmd.name)}"
        if person is None:
            return (
                "That person is not registered with the conference challenge bot yet, so they cannot be added. "
                f"Ask {admin_contact(self.admin_contact)} to add them."
            )
        cw = self.casework
        if cmd.name == "attendee add":
            changed = cw.add_attendee(me.id, cmd.reference, chat_id, person.id, cmd.text)
            if changed.repeated:
                return views.result_card("Already an attendee", changed.summary + ". Nothing was changed.", "Default")
            due = cw.window_due(cw.conference(changed.reference))
            window = f" They can record dissent until {views.when(due)}." if due else ""
            return views.result_card("Attendee added", changed.summary + "." + window)
        changed = cw.remove_attendee(me.id, cmd.reference, chat_id, person.id)
        return views.result_card("Attendee removed", changed.summary + ". The audit trail keeps both changes.")

    def conference_form(
        self, me: Person, chat_id: str | None, typed: Mapping[str, Any] | None = None, error: str = ""
    ) -> Card:
        """The ``conference new`` card: only the areas this person may set conferences up in."""
        areas = self._areas_for(me)
        cw = self.casework
        return conference_form_card(
            [(a, cw.areas[a].name or a) for a in areas],
            [cw.areas[a].reference_pattern for a in areas],
            self.now().astimezone(LONDON).date(),
            chat_id is not None,
            typed,
            error,
        )

    def conference_submit(self, me: Person, data: Mapping[str, Any]) -> Card:
        chat = data.get(CHAT)
        chat_id = chat if isinstance(chat, str) and chat else None
        # The time is asked for: a conference's start is when its record begins (001 5.7.4), and a
        # midnight standing in for a time not given would read as a time on the record.
        moment = given(text_of(data, "date", "the date"), text_of(data, "time", "the start time"))
        when = moment if isinstance(moment, datetime) else start_of_day(moment)
        changed = self.casework.set_up_conference(
            me.id,
            text_of(data, "reference", "the case reference"),
            str(data.get("area") or "").strip() or text_of(data, "default_area", "the area"),
            text_of(data, "type", "the type of conference"),
            when,
            chat_id,
            self.now(),
        )
        ref = changed.reference
        if chat_id is None:
            message = (
                f"Conference {ref} is set up, with you as its chair. Link it from its meeting chat "
                f"(conference link {ref}), then add each professional who attends: attendee add @person police."
            )
        else:
            message = (
                f"Conference {ref} is set up and linked to this chat, with you as its chair: dissent typed here "
                "needs no reference. Add each professional who attends: attendee add @person police."
            )
        # As casework recorded it (a time already past is when it was held), not decided again here.
        held = self.casework.conference(ref).held_at is not None
        return views.result_card(
            "Conference set up", message, facts=[("Held" if held else "Scheduled for", views.when(when))]
        )

    def _areas_for(self, me: Person) -> list[str]:
        areas = self.casework.set_up_areas(me.id)
        if not areas:
            raise NotEntitled(
                "setting up a conference is for the area's chairs and administrators; "
                f"ask {admin_contact(self.admin_contact)} if you should have that role"
            )
        return areas


def conference_form_card(
    areas: Sequence[tuple[str, str]],
    patterns: Sequence[str],
    today: date,
    linked: bool,
    typed: Mapping[str, Any] | None = None,
    error: str = "",
) -> Card:
    """The form: ``areas`` as (id, name); with a group or meeting chat, it says the chat is linked."""
    typed = typed or {}
    return render(
        "conference_form",
        areas=[{"title": title, "value": value} for value, title in areas],
        area=str(typed.get("area") or typed.get("default_area") or areas[0][0]),
        many_areas=len(areas) > 1,
        types=[{"title": _TYPE_WORDS.get(t, t), "value": t} for t in CONFERENCE_TYPES],
        type=str(typed.get("type") or "initial"),
        reference=str(typed.get("reference") or ""),
        reference_hint=_reference_hint(patterns),
        date=str(typed.get("date") or today.isoformat()),
        time=str(typed.get("time") or ""),
        linked=linked,
        error=error,
    )


def _reference_hint(patterns: Sequence[str]) -> str:
    """How a reference looks, in words: a regular expression is no help on a form."""
    example = " (for example CPC-123)" if DEFAULT_PATTERN in patterns else ""
    return f"The case reference your authority uses{example}. Never a child's or family's name."
