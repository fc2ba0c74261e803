"""The Teams bot: translates activities into casework calls and casework results into cards.

Every command and card action goes through :class:`casework.service.Casework`, which checks roles
and state; this module only parses, renders, replies and delivers notices. A card action is
answered with a refreshed card (``Action.Execute``) or, for clients that only know
``Action.Submit``, with a reply carrying the same card.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Protocol

from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.schema import Activity, ActivityTypes

from bot import edge, views
from bot.commands import Command, ParseError, parse, usage
from bot.identity import Identities
from bot.notices import draw_notice
from bot.views import Card
from casework.clock import LONDON, parse_time, start_of_day
from casework.errors import AlreadyDone, CaseworkError, InvalidInput, StaleAction, UnknownPerson
from casework.lifecycle import StepNotValid
from casework.records import Person
from casework.service import Casework, Changed, Notice
from graph.outbox import FileOutbox

log = logging.getLogger("cpc.bot")

MEETING_START = "application/vnd.microsoft.meetingStart"
MEETING_END = "application/vnd.microsoft.meetingEnd"


class TeamsSend(Protocol):
    """Sends a card to a stored conversation, with the channel's limits and retries: the composition
    root passes the reminder delivery's ``send`` (scheduler.delivery.ReminderDelivery), so notices and
    reminders share one rate limit and one backoff policy."""

    async def __call__(self, reference_json: str, card: Card) -> Any: ...


@dataclass
class Delivery:
    """Cards pushed outside the notice outbox (the decline prompt of the invitation-response job)."""

    adapter: Any
    app_id: str
    casework: Casework
    outbox: FileOutbox
    teams: TeamsSend | None = None

    async def to_teams(self, ref: str, card: Card) -> bool:
        """True when the card reached the conversation."""
        if self.teams is not None:
            return bool((await self.teams(ref, card)).activity_id)
        try:  # not wired to the shared delivery (tools and tests): one attempt
            await edge.send_proactive(self.adapter, self.app_id, ref, _card_activity(card))
        except (edge.SendFailed, ValueError):
            return False
        return True


def _card_activity(card: Card) -> Activity:
    return edge.card_activity(card)


def _data(activity: Activity) -> tuple[str | None, dict[str, Any]]:
    """Verb and data of a card action, from Action.Execute (invoke) or Action.Submit (message value)."""
    value: dict[str, Any] = activity.value if isinstance(activity.value, dict) else {}
    if activity.type == ActivityTypes.invoke:
        raw_action = value.get("action")
        action: dict[str, Any] = raw_action if isinstance(raw_action, dict) else {}
        raw_data = action.get("data")
        data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
        verb = action.get("verb") or data.get("verb")
        return (verb if isinstance(verb, str) else None), data
    verb = value.get("verb")
    return (verb if isinstance(verb, str) else None), value


def _int(data: Mapping[str, Any], key: str) -> int:
    v = data.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, str)) or not str(v).isdigit():
        raise _Bad(f"the card is missing its {key}; open a fresh one with the command")
    return int(v)


def _str(data: Mapping[str, Any], key: str, what: str) -> str:
    v = data.get(key)
    if not isinstance(v, str) or not v.strip():
        raise _Bad(f"{what} is required")
    return v.strip()


class _Bad(InvalidInput):
    """A card's data is missing or malformed: the form comes back with the message beside it."""


class ChallengeBot(ActivityHandler):  # type: ignore[misc]
    def __init__(self, casework: Casework, delivery: Delivery, now: Callable[[], datetime]) -> None:
        self.casework = casework
        self.delivery = delivery
        self.now = now
        self._refs: dict[str, tuple[str, str, str]] = {}
        self.identities = Identities(casework.store)
        # Panel booking (casework.booking.Booker), wired by the composition root when available.
        self.booker: Any = None
        # Asks the sweep to deliver queued notices now (wired by the composition root); notices are
        # rows written in the action's own transaction, so a crash before this loses nothing.
        self.kick: Callable[[], None] = lambda: None

    # ------------------------------------------------------------------ identity

    async def _person(self, turn_context: TurnContext) -> Person | None:
        """By Entra object id, then by the Teams roster's email (GET .../members/{id})."""
        frm = turn_context.activity.from_property
        if frm is None:
            return None
        email_of = functools.partial(edge.member_email, turn_context)
        return await self.identities.resolve(getattr(frm, "aad_object_id", None), frm.id, email_of)

    async def on_turn(self, turn_context: TurnContext) -> None:
        person = await self._person(turn_context)
        turn_context.turn_state["cpc.person"] = person
        if person is not None and turn_context.activity.conversation is not None:
            conv_type = getattr(turn_context.activity.conversation, "conversation_type", None)
            if conv_type in (None, "personal"):
                # Written only when where to reach the person changed: the store is the truth; this
                # saves serializing and writing the same reference on every turn.
                activity = turn_context.activity
                key = (activity.conversation.id, activity.service_url, activity.from_property.id)
                if self._refs.get(person.id) != key:
                    ref_json = edge.reference_to_json(activity)
                    await asyncio.to_thread(self.casework.store.save_conversation_ref, person.id, ref_json)
                    self._refs[person.id] = key
        await super().on_turn(turn_context)

    @staticmethod
    def _me(turn_context: TurnContext) -> Person:
        person = turn_context.turn_state.get("cpc.person")
        if person is None:
            raise UnknownPerson()
        assert isinstance(person, Person)
        return person

    # ------------------------------------------------------------------ messages

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if isinstance(activity.value, dict) and activity.value and not (activity.text or "").strip():
            card = await self._card_action(turn_context)
            await turn_context.send_activity(_card_activity(card))
            return
        cmd = parse(activity.text or "")
        chat_id = activity.conversation.id if activity.conversation else None
        person = turn_context.turn_state.get("cpc.person")
        try:
            # Store calls run on the worker pool, never on the event loop (issue 9 item 6).
            reply = await asyncio.to_thread(self._command, person, cmd, chat_id)
        except CaseworkError as exc:
            reply = str(exc)
        self._after(reply)
        if isinstance(reply, Reply):
            reply = reply.body
        if isinstance(reply, str):
            await turn_context.send_activity(MessageFactory.text(reply))
        else:
            await turn_context.send_activity(_card_activity(reply))

    def _after(self, reply: object) -> None:
        """Wake the sweep when the action queued notices (they were committed with it)."""
        if isinstance(reply, Reply) and reply.notified:
            self.kick()

    def _command(self, person: Person | None, cmd: Command | ParseError, chat_id: str | None) -> Card | str | Reply:
        """One typed command, run on a worker thread: casework decides, views draw."""
        if isinstance(cmd, ParseError):
            return cmd.message
        if cmd.name == "help":
            return views.help_card(None if person else str(UnknownPerson()))
        if person is None:
            raise UnknownPerson()
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
            changed = cw.amend_dissent(me.id, cmd.reference, cmd.text, chat_id)
            return Reply(views.result_card("Dissent amended", changed.summary + "."), bool(changed.notices))
        if cmd.name == "dissent withdraw":
            changed = cw.withdraw_dissent(me.id, cmd.reference, chat_id)
            card = views.result_card(
                "Dissent withdrawn", changed.summary + ". The record keeps that it was made.", "Default"
            )
            return Reply(card, bool(changed.notices))
        if cmd.name == "status":
            return views.timeline_card(cw.view(me.id, cmd.reference or ""), now)
        if cmd.name == "deadlines":
            return views.deadlines_card(cw.deadlines_for(me.id), now)
        if cmd.name == "decide":
            view = cw.require_decider(me.id, cmd.reference or "")
            open_ = cw.awaiting_decision(view)
            if not open_:
                return f"There is no dissent awaiting a decision on {view.conference.reference}."
            return views.decision_card(open_[0], view)
        if cmd.name == "complaint":
            conference = cw.require_complaint_role(me.id, cmd.reference or "")
            return views.complaint_form(conference.reference, now.astimezone(LONDON).date())
        if cmd.name in ("stage2", "panel"):
            view = cw.require_stage_role(me.id, cmd.reference or "")
            if not view.complaints:
                ref = view.conference.reference
                return f"There is no complaint about {ref}. Type: complaint {ref}"
            return views.step_form(view, cmd.name, now.astimezone(LONDON).date(), now, cw.complaint_next(view))
        if cmd.name == "outcome":
            view = cw.require_stage_role(me.id, cmd.reference or "")
            return views.outcome_form(view)
        if cmd.name == "correct":
            return views.correction_form(cw.correctable(me.id, cmd.reference or ""))
        if cmd.name == "conference link":
            if chat_id is None:
                return usage("conference link")
            changed = cw.link_chat(me.id, cmd.reference or "", chat_id)
            return views.result_card("Conference linked", changed.summary + ". Dissent typed here needs no reference.")
        if cmd.name == "audit":
            entries = cw.audit_trail(me.id, cmd.reference or "")
            return views.audit_card(cmd.reference.upper() if cmd.reference else "", entries)
        return usage("help")

    def _raise_dissent(self, me: Person, reference: str | None, reason: str, chat_id: str | None) -> Reply:
        cw = self.casework
        result = cw.raise_dissent(me.id, reference, reason, chat_id)
        view = cw.view(me.id, result.conference.reference)
        return Reply(views.dissent_confirmation(result.dissent, result.window_due, view), bool(result.notices))

    # ------------------------------------------------------------------ card actions

    async def on_invoke_activity(self, turn_context: TurnContext) -> Any:
        if turn_context.activity.name == "adaptiveCard/action":
            card = await self._card_action(turn_context)
            return edge.adaptive_card_invoke_response(card)
        return await super().on_invoke_activity(turn_context)

    async def _card_action(self, turn_context: TurnContext) -> Card:
        """Run one card action; every outcome (including refusal) is a card, never an exception."""
        verb, data = _data(turn_context.activity)
        try:
            me = self._me(turn_context)
            if verb in ("panel.replace", "panel.slots", "panel.reschedule"):
                return await self._panel_action(me, verb, data)
            result = await asyncio.to_thread(self._act_refused_kept, me, verb, data)
        except AlreadyDone as exc:
            return views.result_card("Already done", f"{exc}. Nothing was changed.", "Default")
        except StaleAction as exc:
            return views.result_card("This card is out of date", f"{exc}. Nothing was changed.", "Warning")
        except CaseworkError as exc:
            return views.result_card("Not done", str(exc), "Attention")
        self._after(result)
        body = result.body if isinstance(result, Reply) else result
        return body if isinstance(body, dict) else views.result_card("Done", body)

    def _act_refused_kept(self, me: Person, verb: str | None, data: Mapping[str, Any]) -> Card | Reply:
        """A refused form comes back as the same form, with what was typed and the error beside it."""
        try:
            return self._act(me, verb, data)
        except (InvalidInput, StepNotValid) as exc:  # not refusals of who may act: those get no form
            again = self._form_again(verb, data, str(exc))
            if again is None:
                raise
            return again

    def _form_again(self, verb: str | None, data: Mapping[str, Any], error: str) -> Card | None:
        reference = data.get("reference")
        if not isinstance(reference, str) or not reference.strip():
            return None
        today = self.now().astimezone(LONDON).date()
        if verb == "complaint.submit":
            return views.complaint_form(reference.strip().upper(), today, typed=data, error=error)
        command = data.get("command")
        if verb == "step.submit" and command in ("stage2", "panel"):
            try:
                view = self.casework.system_view(reference)
            except CaseworkError:
                return None
            valid = self.casework.complaint_next(view)
            return views.step_form(view, command, today, self.now(), valid, typed=data, error=error)
        return None

    def _act(self, me: Person, verb: str | None, data: Mapping[str, Any]) -> Card | Reply:
        cw = self.casework
        if verb == "dissent.submit":
            return self._raise_dissent(
                me, _str(data, "reference", "the conference"), _str(data, "reason", "your reason"), None
            )
        if verb == "dissent.record":
            changed = cw.record_dissent(me.id, _int(data, "dissent"), _str(data, "state", "the card's state"))
            card = views.result_card(
                "Dissent recorded",
                f"{changed.summary}. Your line manager and the reviewing manager are being told.",
                facts=[("Conference", changed.reference)],
            )
            return Reply(card, bool(changed.notices))
        if verb == "dissent.decline":
            changed = cw.decline_dissent(
                me.id,
                _int(data, "dissent"),
                _str(data, "reasons", "your reasons for declining"),
                _str(data, "state", "the card's state"),
            )
            card = views.result_card(
                "Late dissent declined",
                f"{changed.summary}. The professional is being told, with your reasons kept on the record.",
                "Default",
                facts=[("Conference", changed.reference)],
            )
            return Reply(card, bool(changed.notices))
        if verb == "dissent.decide":
            decision = _str(data, "decision", "a decision")
            if decision not in ("uphold", "not_upheld"):
                raise _Bad("choose uphold or do not uphold")
            changed = cw.decide_dissent(
                me.id,
                _int(data, "dissent"),
                decision == "uphold",
                _str(data, "reasons", "the reasons"),
                _str(data, "state", "the card's state"),
            )
            return Reply(self._decision_card(me, changed), bool(changed.notices))
        if verb == "complaint.submit":
            received = _given(_str(data, "received", "the date received"), str(data.get("received_time") or ""))
            changed = cw.record_complaint(
                me.id,
                _str(data, "reference", "the conference"),
                received,
                _str(data, "complainant", "the complainant"),
                _str(data, "grounds", "the grounds"),
                str(data.get("summary") or ""),
                confirm_repeat=str(data.get("second") or "").lower() == "true",
            )
            return Reply(self._changed_card(me, changed, "Complaint recorded"), bool(changed.notices))
        if verb == "step.submit":
            at = _date(_str(data, "date", "the date"), str(data.get("time") or ""))
            changed = cw.record_step(
                me.id,
                _str(data, "reference", "the conference"),
                _str(data, "command", "the step"),
                _str(data, "event", "what happened"),
                at,
                _str(data, "version", "the card's version"),
            )
            return self._changed_card(me, changed, "Recorded")
        if verb == "outcome.submit":
            changed = cw.record_outcome(
                me.id,
                _str(data, "reference", "the conference"),
                _str(data, "outcome", "the outcome"),
                _str(data, "version", "the card's version"),
            )
            return self._changed_card(me, changed, "Outcome recorded")
        if verb == "correct.submit":
            changed = cw.correct(
                me.id,
                _str(data, "reference", "the conference"),
                _str(data, "item", "what to withdraw"),
                _str(data, "reason", "the reason for the correction"),
                _str(data, "version", "the card's version"),
            )
            return self._changed_card(me, changed, "Corrected")
        if verb in ("open.status", "open.decide", "open.dissent"):
            return self._open(me, verb, _str(data, "reference", "the conference"))
        raise _Bad("this card action is not recognised; open a fresh card with the command")

    async def _panel_action(self, me: Person, verb: str, data: Mapping[str, Any]) -> Card:
        """Decline prompts: replace a member, find new times, or move the meeting to one of them.

        Each card carries the transactionId of the booking it was drawn for; once the booking has
        been rebooked or replaced that id is no longer current and the card is refused as stale.
        """
        from casework.ports_graph import CalendarError
        from casework.references import normalise_reference

        booker = self.booker
        if booker is None:
            raise _Bad("panel booking is not configured on this server")
        ref = normalise_reference(_str(data, "reference", "the case"))
        purpose = _str(data, "purpose", "the meeting")
        current = booker.bookings.current_booking(ref, purpose)
        if current is None or current.transaction_id != _str(data, "transaction_id", "the booking"):
            raise StaleAction("this card was drawn for an earlier booking of this meeting")
        try:
            if verb == "panel.replace":
                joining_text = _str(data, "joining", "the replacement member")
                joining = self.casework.store.get_person(joining_text) or self.casework.store.find_person_by_email(
                    joining_text
                )
                if joining is None:
                    raise _Bad(f"no registered person matches {joining_text[:60]!r}")
                booking = await booker.replace_member(
                    me.id, ref, purpose, _str(data, "leaving", "the member leaving"), joining.id
                )
                return views.result_card(
                    "Member replaced",
                    f"The invitation for {ref} now includes {joining.display_name or joining.id}.",
                    facts=[("When", views.when(booking.start))],
                )
            if verb == "panel.slots":
                members = [i.person_id for i in current.invitees if i.kind != "resource" and i.person_id]
                room = current.room.email if current.room else None
                offer = await booker.find_slots(
                    me.id, ref, purpose, members, room, current.end - current.start, chair_id=current.chair_id
                )
                return views.panel_slots_card(offer, current.transaction_id)
            start = _str(data, "start", "the new time")
            try:
                at = datetime.fromisoformat(start)
            except ValueError:
                raise _Bad("the card's time is not a valid time; find new times again") from None
            booking = await booker.reschedule(me.id, ref, purpose, at)
            return views.result_card(
                "Meeting moved",
                f"The meeting for {ref} is now at {views.when(booking.start)}; invitations were updated.",
            )
        except CalendarError as exc:
            raise _Bad(str(exc)) from None

    async def send_decline_card(self, prompt: Any, person_id: str) -> bool:
        """For the invitation-response job: True when the card reached the person in Teams."""
        ref = self.casework.store.conversation_ref(person_id)
        if ref is None:
            return False
        return await self.delivery.to_teams(ref, views.panel_decline_card(prompt))

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
        if verb == "open.dissent":
            ref = reference.upper()
            windows = [(c, due) for c, due in cw.open_windows(me.id) if c.reference == ref]
            if windows:
                return views.dissent_form(windows)
            return views.result_card(
                "The dissent window is closed",
                f"Dissent from {ref} can no longer be recorded on time; type: dissent {ref} <reason> "
                "and the chair will decide whether to accept it.",
                "Warning",
            )
        return views.timeline_card(cw.view(me.id, reference), self.now())

    def _decision_card(self, me: Person, changed: Changed) -> Card:
        """The reviewing manager's confirmation: what this decision means, and nothing left over from
        another dissent on the case (a "not upheld" must not say "hold the reconvened conference")."""
        d = changed.dissent
        facts = [("Conference", changed.reference)]
        if d is not None and d.state == "upheld":
            view = self.casework.view(me.id, changed.reference)
            facts += [
                (dl.rule.title, views.when(dl.due))
                for t in view.timelines
                for dl in t.deadlines
                if dl.status == "pending" and dl.due is not None and "dissent_upheld" in dl.rule.start_events()
            ][:1]
            message = f"{changed.summary}. The chair and the professional are being told."
        else:
            message = f"{changed.summary}. The professional and the chair are being told; the decision stands."
        return views.result_card("Decision recorded", message, facts=facts)

    def _changed_card(self, me: Person, changed: Changed, title: str) -> Card:
        view = self.casework.view(me.id, changed.reference)
        due = [
            (d.rule.title, views.when(d.due))
            for t in view.timelines
            for d in t.deadlines
            if d.status == "pending" and d.due is not None and d.applicable
        ]
        return views.result_card(title, changed.summary + ".", facts=[("Conference", changed.reference), *due[:4]])

    # ------------------------------------------------------------------ meetings and installs

    async def on_event_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if activity.name not in (MEETING_START, MEETING_END) or activity.conversation is None:
            return
        value = activity.value if isinstance(activity.value, dict) else {}
        raw = value.get("StartTime" if activity.name == MEETING_START else "EndTime")
        try:
            at = parse_time(str(raw)) if raw else self.now()
        except CaseworkError:
            at = self.now()
        started = activity.name == MEETING_START
        changed = await asyncio.to_thread(self.casework.meeting_event, activity.conversation.id, started, at)
        if changed is not None and changed.notices:
            self.kick()

    async def on_members_added_activity(self, members_added: list[Any], turn_context: TurnContext) -> None:
        recipient = turn_context.activity.recipient
        if any(recipient is not None and m.id == recipient.id for m in members_added):
            await turn_context.send_activity(_card_activity(views.help_card()))

    # ------------------------------------------------------------------ notices

    def draw_notice(self, notice: Notice) -> tuple[Card, str, str]:
        """The card, email subject and email text of a queued notice (the sweep calls this)."""
        return draw_notice(self.casework, notice)


@dataclass(frozen=True)
class Reply:
    """A reply, and whether the action queued notices (so the sweep is woken to send them)."""

    body: Card | str
    notified: bool = False


def _given(text: str, clock: str) -> date | datetime:
    """A date as the user gave it: with a time when one was typed, else a plain date (issue 9 item 4)."""
    try:
        d = date.fromisoformat(text.strip()[:10])
        if not clock.strip():
            return d
        return datetime.combine(d, time.fromisoformat(clock.strip()[:5]), tzinfo=LONDON)
    except ValueError:
        raise _Bad("give the date as YYYY-MM-DD (and the time, if you know it, as HH:MM)") from None


def _date(text: str, clock: str = "") -> datetime:
    """A step's date: with no time typed, the day's start (the step is compared by date)."""
    given = _given(text, clock)
    return given if isinstance(given, datetime) else start_of_day(given)
