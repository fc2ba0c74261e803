"""Typed commands and card actions, run on a worker thread: casework decides, views draw.

No Teams SDK here: the handler (bot/handler.py) passes the person, the parsed command or the card's
verb and data, and sends back what these return. A refused form comes back as the same form with
what was typed and the error beside it (issue 9 item 4).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from bot import complaint_views, views
from bot.cases_view import cases_card
from bot.commands import Command, ParseError, usage
from bot.dissent_turns import DissentTurns
from bot.setup_turns import CHAT, SetupTurns
from bot.turn_inputs import Bad, Reply, confirmed, given, step_date, text_of, twice
from bot.views import Card
from casework.clock import LONDON
from casework.errors import (
    CaseworkError,
    InvalidInput,
    PossibleName,
    SecondComplaint,
    UnknownPerson,
)
from casework.lifecycle import StepNotValid
from casework.records import Person
from casework.references import BadReference
from casework.service import Casework, Changed
from casework.timeline import soonest_first


@dataclass
class Turns(DissentTurns):
    """What a turn does, once the person is known."""

    casework: Casework
    now: Callable[[], datetime]
    #: Who adds people to the register, as unregistered users are told (``CPC_ADMIN_CONTACT``).
    admin_contact: str = ""
    #: Every card verb this class handles (filled from ``_ACTIONS`` below).
    VERBS: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        #: ``attendee add``, ``attendee remove`` and ``conference new`` (bot/setup_turns.py).
        self.setup = SetupTurns(self.casework, self.now, self.admin_contact)

    def command(self, person: Person | None, cmd: Command | ParseError, chat_id: str | None) -> Card | str | Reply:
        """One typed command, run on a worker thread: casework decides, views draw."""
        if isinstance(cmd, ParseError):
            return cmd.message
        if cmd.name == "help":
            return views.help_card(None if person else str(UnknownPerson(self.admin_contact)))
        if person is None:
            raise UnknownPerson(self.admin_contact)
        me = person
        cw = self.casework
        now = self.now()
        if cmd.name == "dissent":
            if not cmd.text and cmd.reference is None:
                windows = cw.open_windows(me.id)
                if not windows:
                    return "You have no conference with an open dissent window. Type: dissent CPC-123 <reason>"
                return views.dissent_form(windows)
            if not cmd.text:
                return usage("dissent")
            return self._raise_dissent(me, cmd.reference, cmd.text, chat_id)
        if cmd.name == "dissent amend":
            if not cmd.text:
                return usage("dissent amend")
            return self._amend(me, cmd.reference, cmd.text, chat_id)
        if cmd.name == "dissent withdraw":
            changed = cw.withdraw_dissent(me.id, cmd.reference, chat_id)
            card = views.result_card(
                "Dissent withdrawn",
                changed.summary + ". The record keeps that it was made." + twice(changed),
                "Default",
            )
            return Reply(card, bool(changed.notices))
        if cmd.name == "status":
            view, mine = cw.status(me.id, cmd.reference or "")
            return views.timeline_card(view, now, mine)
        if cmd.name == "deadlines":
            return views.deadlines_card(cw.deadlines_for(me.id), now)
        if cmd.name == "cases":
            return cases_card(cw.cases_for(me.id), now)
        if cmd.name == "decide":
            view = cw.require_decider(me.id, cmd.reference or "")
            open_ = cw.awaiting_decision(view)
            if not open_:
                return f"There is no dissent awaiting a decision on {view.conference.reference}."
            return views.decision_card(open_[0], view)
        if cmd.name == "complaint":
            conference = cw.require_complaint_role(me.id, cmd.reference or "")
            return complaint_views.complaint_form(conference.reference, now.astimezone(LONDON).date())
        if cmd.name in ("stage2", "panel"):
            view = cw.require_stage_role(me.id, cmd.reference or "")
            if not view.complaints:
                ref = view.conference.reference
                return f"There is no complaint about {ref}. Type: complaint {ref}"
            return complaint_views.step_form(
                view, cmd.name, now.astimezone(LONDON).date(), now, cw.complaint_next(view)
            )
        if cmd.name == "outcome":
            view = cw.require_stage_role(me.id, cmd.reference or "")
            if not view.complaints:
                ref = view.conference.reference
                return f"There is no complaint about {ref}, so there is no outcome to record. Type: complaint {ref}"
            return complaint_views.outcome_form(view)
        if cmd.name == "correct":
            return complaint_views.correction_form(cw.correctable(me.id, cmd.reference or ""))
        if cmd.name == "conference new":
            return self.setup.conference_form(me, chat_id)
        if cmd.name in ("conference link", "conference unlink"):
            if chat_id is None:
                return "Link a conference from its meeting chat or a group chat, not a one-to-one chat."
            if cmd.name == "conference unlink":
                changed = cw.unlink_chat(me.id, cmd.reference or "", chat_id)
                return views.result_card(
                    "Conference unlinked", changed.summary + ". Dissent typed here needs its reference."
                )
            changed = cw.link_chat(me.id, cmd.reference or "", chat_id)
            return views.result_card(
                "Conference linked",
                changed.summary
                + ". Dissent typed here needs no reference. To undo: conference unlink "
                + changed.reference
                + "."
                + twice(changed),
            )
        if cmd.name == "audit":
            entries = cw.audit_trail(me.id, cmd.reference or "")
            return views.audit_card(cmd.reference.upper() if cmd.reference else "", entries)
        return usage("help")

    def act(self, me: Person, verb: str | None, data: Mapping[str, Any]) -> Card | Reply:
        """A refused form comes back as the same form, with what was typed and the error beside it."""
        try:
            return self._act(me, verb, data)
        except (InvalidInput, StepNotValid, BadReference) as exc:  # not refusals of who may act: no form
            again = self._form_again(me, verb, data, exc)
            if again is None:
                raise
            return again

    def _form_again(self, me: Person, verb: str | None, data: Mapping[str, Any], exc: CaseworkError) -> Card | None:
        """The refused form again, only for someone entitled to it (checked again here: a malformed
        card is refused before casework has checked who is asking)."""
        reference = data.get("reference")
        if not isinstance(reference, str) or not reference.strip():
            return None
        error = str(exc)
        today = self.now().astimezone(LONDON).date()
        cw = self.casework
        command = data.get("command")
        try:
            if verb == "complaint.submit":
                conference = cw.require_complaint_role(me.id, reference)
                second = isinstance(exc, SecondComplaint)
                asked = isinstance(exc, PossibleName)
                return complaint_views.complaint_form(
                    conference.reference, today, typed=data, error=error, offer_second=second, offer_name=asked
                )
            if verb == "conference.submit":
                chat = data.get(CHAT)
                return self.setup.conference_form(me, chat if isinstance(chat, str) else None, data, error)
            if verb != "step.submit" or command not in ("stage2", "panel"):
                return None
            view = cw.require_stage_role(me.id, reference)
        except CaseworkError:
            return None
        return complaint_views.step_form(
            view, command, today, self.now(), cw.complaint_next(view), typed=data, error=error
        )

    def _act(self, me: Person, verb: str | None, data: Mapping[str, Any]) -> Card | Reply:
        action = _ACTIONS.get(verb or "")
        if action is None:
            raise Bad("this card action is not recognised; open a fresh card with the command")
        return action(self, me, data)

    def _complaint_submit(self, me: Person, data: Mapping[str, Any]) -> Card | Reply:
        received = given(text_of(data, "received", "the date received"), str(data.get("received_time") or ""))
        changed = self.casework.record_complaint(
            me.id,
            text_of(data, "reference", "the conference"),
            received,
            text_of(data, "complainant", "the complainant"),
            text_of(data, "grounds", "the grounds"),
            str(data.get("summary") or ""),
            confirm_repeat=confirmed(data, "second"),
            confirm_name=confirmed(data, "confirm_name"),
        )
        return Reply(self._changed_card(me, changed, "Complaint recorded", "complaint"), bool(changed.notices))

    def _step_submit(self, me: Person, data: Mapping[str, Any]) -> Card | Reply:
        at = step_date(text_of(data, "date", "the date"), str(data.get("time") or ""))
        changed = self.casework.record_step(
            me.id,
            text_of(data, "reference", "the conference"),
            text_of(data, "command", "the step"),
            text_of(data, "event", "what happened"),
            at,
            text_of(data, "version", "the card's version"),
        )
        return self._changed_card(me, changed, "Recorded", "complaint")

    def _outcome_submit(self, me: Person, data: Mapping[str, Any]) -> Card | Reply:
        changed = self.casework.record_outcome(
            me.id,
            text_of(data, "reference", "the conference"),
            text_of(data, "outcome", "the outcome"),
            text_of(data, "version", "the card's version"),
            str(data.get("explanation") or ""),
        )
        return self._changed_card(me, changed, "Outcome recorded", "complaint")

    def _correct_submit(self, me: Person, data: Mapping[str, Any]) -> Card | Reply:
        changed = self.casework.correct(
            me.id,
            text_of(data, "reference", "the conference"),
            text_of(data, "item", "what to withdraw"),
            text_of(data, "reason", "the reason for the correction"),
            text_of(data, "version", "the card's version"),
        )
        return self._changed_card(me, changed, "Corrected")

    def _duty_done(self, me: Person, data: Mapping[str, Any]) -> Card | Reply:
        changed = self.casework.complete_duty(
            me.id, text_of(data, "reference", "the conference"), text_of(data, "rule", "the duty")
        )
        return self._changed_card(me, changed, "Marked done")

    def _open_step(self, me: Person, data: Mapping[str, Any]) -> Card | Reply:
        command = data.get("command")
        view = self.casework.require_stage_role(me.id, text_of(data, "reference", "the conference"))
        today = self.now().astimezone(LONDON).date()
        form = "panel" if command == "panel" else "stage2"
        return complaint_views.step_form(view, form, today, self.now(), self.casework.complaint_next(view))

    def _open(self, me: Person, verb: str, reference: str) -> Card:
        """A reminder's button: the card for what is due (the casework service checks who may see it)."""
        cw = self.casework
        if verb == "open.decide":
            view = cw.require_decider(me.id, reference)
            open_ = cw.awaiting_decision(view)
            if open_:
                return views.decision_card(open_[0], view)
            ref = view.conference.reference
            return views.result_card("Nothing to decide", f"No dissent on {ref} awaits a decision.")
        if verb == "open.record":
            view = cw.view(me.id, reference)
            waiting = cw.awaiting_chair(me.id, view)
            if waiting:
                return views.chair_prompt(waiting[0], view, cw.window_due(view.conference))
            ref = view.conference.reference
            return views.result_card("Nothing to record", f"No dissent on {ref} is waiting for the chair.")
        if verb == "open.dissent":
            ref = cw.reference(reference)
            windows = [(c, due) for c, due in cw.open_windows(me.id) if c.reference == ref]
            if windows:
                return views.dissent_form(windows)
            return views.result_card(
                "The dissent window is closed",
                f"Dissent from {ref} can no longer be recorded on time; type: dissent {ref} <reason> "
                "and the chair will decide whether to accept it.",
                "Warning",
            )
        view, mine = cw.status(me.id, reference)
        return views.timeline_card(view, self.now(), mine)

    def _changed_card(self, me: Person, changed: Changed, title: str, process: str | None = None) -> Card:
        """What was done, and the case's next deadlines, soonest first: of ``process`` only when given
        (after a complaint step, the complaint's own steps; not the dissent window beside it)."""
        view = self.casework.view(me.id, changed.reference)
        pending = [
            d
            for t in view.timelines
            if process is None or t.process == process
            for d in t.deadlines
            if d.status == "pending" and d.due is not None and d.applicable
        ]
        due = [(d.title, views.when(d.due)) for d in soonest_first(pending)]
        message = changed.summary + "." + twice(changed)
        return views.result_card(title, message, facts=[("Conference", changed.reference), *due[:4]])


def _opens(verb: str) -> Callable[[Turns, Person, Mapping[str, Any]], Card | Reply]:
    """A reminder button's handler: open the card for what is due on the case it names."""

    def open_card(turns: Turns, me: Person, data: Mapping[str, Any]) -> Card | Reply:
        return turns._open(me, verb, text_of(data, "reference", "the conference"))

    return open_card


#: One handler per card verb: the SDK's routes are registered from this table (bot/edge_routes.py), so a
#: verb added here is routed as both Action.Execute and Action.Submit.
_ACTIONS: dict[str, Callable[[Turns, Person, Mapping[str, Any]], Card | Reply]] = {
    "dissent.submit": Turns._dissent_submit,
    "dissent.amend": Turns._dissent_amend,
    "dissent.record": Turns._dissent_record,
    "dissent.decline": Turns._dissent_decline,
    "dissent.decide": Turns._dissent_decide,
    "complaint.submit": Turns._complaint_submit,
    "step.submit": Turns._step_submit,
    "outcome.submit": Turns._outcome_submit,
    "correct.submit": Turns._correct_submit,
    "duty.done": Turns._duty_done,
    "conference.submit": lambda turns, me, data: turns.setup.conference_submit(me, data),
    "open.step": Turns._open_step,
    "open.status": _opens("open.status"),
    "open.decide": _opens("open.decide"),
    "open.dissent": _opens("open.dissent"),
    "open.record": _opens("open.record"),
}
Turns.VERBS = tuple(_ACTIONS)
