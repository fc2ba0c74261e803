"""The Teams bot: translates activities into casework calls and casework results into cards.

Every command and card action goes through :class:`casework.service.Casework`, which checks roles
and state; this module only parses, renders, replies and delivers notices. A card action is
answered with a refreshed card (``Action.Execute``) or, for clients that only know
``Action.Submit``, with a reply carrying the same card.
"""

from __future__ import annotations

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
from bot.views import Card
from casework.clock import LONDON, parse_time
from casework.errors import AlreadyDone, CaseworkError, StaleAction, UnknownPerson
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
    """Proactive delivery of notices: Teams first, then email, never dropped."""

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

    async def deliver(self, notice: Notice, card: Card, subject: str, text: str) -> str:
        store = self.casework.store
        ref = store.conversation_ref(notice.person_id)
        if ref is not None and await self.to_teams(ref, card):
            return "teams"
        person = store.get_person(notice.person_id)
        if person is None:
            log.warning("notice %s for an unknown person could not be delivered", notice.kind)
            return "undeliverable"
        key = f"{notice.kind}-{notice.reference}-{notice.dissent_id or 0}-{notice.person_id}"
        self.outbox.send_email(person.email, subject, text, None, key)
        return "email"


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


class _Bad(CaseworkError):
    pass


class ChallengeBot(ActivityHandler):  # type: ignore[misc]
    def __init__(self, casework: Casework, delivery: Delivery, now: Callable[[], datetime]) -> None:
        self.casework = casework
        self.delivery = delivery
        self.now = now
        self._refs: dict[str, tuple[str, str, str]] = {}
        self.identities = Identities(casework.store)
        # Panel booking (casework.booking.Booker), wired by the composition root when available.
        self.booker: Any = None

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
                    self.casework.store.save_conversation_ref(person.id, edge.reference_to_json(activity))
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
        try:
            reply = await self._command(turn_context, parse(activity.text or ""))
        except CaseworkError as exc:
            reply = str(exc)
        if isinstance(reply, str):
            await turn_context.send_activity(MessageFactory.text(reply))
        else:
            await turn_context.send_activity(_card_activity(reply))

    async def _command(self, turn_context: TurnContext, cmd: Command | ParseError) -> Card | str:
        if isinstance(cmd, ParseError):
            return cmd.message
        if cmd.name == "help":
            intro = None if turn_context.turn_state.get("cpc.person") else str(UnknownPerson())
            return views.help_card(intro)
        me = self._me(turn_context)
        cw = self.casework
        now = self.now()
        chat_id = turn_context.activity.conversation.id if turn_context.activity.conversation else None
        if cmd.name == "dissent":
            if not cmd.text and cmd.reference is None:
                windows = cw.open_windows(me.id)
                if not windows:
                    return "You have no conference with an open dissent window. Type: dissent CPC-123 <reason>"
                return views.dissent_form(windows)
            if not cmd.text:
                return usage("dissent")
            return await self._raise_dissent(me, cmd.reference, cmd.text, chat_id)
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
            return views.step_form(view, cmd.name, now.astimezone(LONDON).date(), now)
        if cmd.name == "outcome":
            view = cw.require_stage_role(me.id, cmd.reference or "")
            return views.outcome_form(view)
        if cmd.name == "conference link":
            if chat_id is None:
                return usage("conference link")
            changed = cw.link_chat(me.id, cmd.reference or "", chat_id)
            return views.result_card("Conference linked", changed.summary + ". Dissent typed here needs no reference.")
        if cmd.name == "audit":
            entries = cw.audit_trail(me.id, cmd.reference or "")
            return views.audit_card(cmd.reference.upper() if cmd.reference else "", entries)
        return usage("help")

    async def _raise_dissent(self, me: Person, reference: str | None, reason: str, chat_id: str | None) -> Card:
        cw = self.casework
        result = cw.raise_dissent(me.id, reference, reason, chat_id)
        view = cw.view(me.id, result.conference.reference)
        await self._deliver(result.notices)
        return views.dissent_confirmation(result.dissent, result.window_due, view)

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
            return await self._act(me, verb, data)
        except AlreadyDone as exc:
            return views.result_card("Already done", f"{exc}. Nothing was changed.", "Default")
        except StaleAction as exc:
            return views.result_card("This card is out of date", f"{exc}. Nothing was changed.", "Warning")
        except CaseworkError as exc:
            return views.result_card("Not done", str(exc), "Attention")

    async def _act(self, me: Person, verb: str | None, data: Mapping[str, Any]) -> Card:
        cw = self.casework
        if verb == "dissent.submit":
            return await self._raise_dissent(
                me, _str(data, "reference", "the conference"), _str(data, "reason", "your reason"), None
            )
        if verb == "dissent.record":
            changed = cw.record_dissent(me.id, _int(data, "dissent"), _str(data, "state", "the card's state"))
            await self._deliver(changed.notices)
            return views.result_card(
                "Dissent recorded",
                f"{changed.summary}. Your line manager and the reviewing manager have been told.",
                facts=[("Conference", changed.reference)],
            )
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
            await self._deliver(changed.notices)
            return self._changed_card(me, changed, "Decision recorded")
        if verb == "complaint.submit":
            received = _date(_str(data, "received", "the date received"))
            changed = cw.record_complaint(
                me.id,
                _str(data, "reference", "the conference"),
                received,
                _str(data, "complainant", "the complainant"),
                _str(data, "grounds", "the grounds"),
                str(data.get("summary") or ""),
            )
            await self._deliver(changed.notices)
            return self._changed_card(me, changed, "Complaint recorded")
        if verb == "step.submit":
            at = _date(_str(data, "date", "the date"), str(data.get("time") or "09:00"))
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
        if verb in ("open.status", "open.decide", "open.dissent"):
            return self._open(me, verb, _str(data, "reference", "the conference"))
        if verb in ("panel.replace", "panel.slots", "panel.reschedule"):
            return await self._panel_action(me, verb, data)
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
        changed = self.casework.meeting_event(activity.conversation.id, activity.name == MEETING_START, at)
        if changed is not None:
            await self._deliver(changed.notices)

    async def on_members_added_activity(self, members_added: list[Any], turn_context: TurnContext) -> None:
        recipient = turn_context.activity.recipient
        if any(recipient is not None and m.id == recipient.id for m in members_added):
            await turn_context.send_activity(_card_activity(views.help_card()))

    # ------------------------------------------------------------------ notices

    async def _deliver(self, notices: tuple[Notice, ...]) -> None:
        for notice in notices:
            try:
                card, subject, text = self._notice_card(notice)
                await self.delivery.deliver(notice, card, subject, text)
            except CaseworkError as exc:  # a notice that cannot be drawn is logged, never raised to the user
                log.warning("notice %s on %s not drawn: %s", notice.kind, notice.reference, type(exc).__name__)

    def _notice_card(self, notice: Notice) -> tuple[Card, str, str]:
        cw = self.casework
        ref = notice.reference
        conference = cw.conference(ref)
        dissent = cw.store.get_dissent(notice.dissent_id) if notice.dissent_id is not None else None
        view = cw.system_view(ref)
        if notice.kind == "chair_prompt" and dissent is not None:
            card = views.chair_prompt(dissent, view, cw.window_due(conference))
            return card, f"Dissent raised: {ref}", f"A dissent was raised on {ref}. Open Teams to record it."
        if notice.kind == "decision_request" and dissent is not None:
            card = views.decision_card(dissent, view)
            return card, f"Decision needed: dissent on {ref}", f"A dissent on {ref} awaits your decision."
        if notice.kind == "decision_made" and dissent is not None:
            outcome = "upheld: the conference will be reconvened" if dissent.state == "upheld" else "not upheld"
            card = views.notice_card(f"Dissent decided: {ref}", f"The reviewing manager's decision: {outcome}.")
            return card, f"Dissent decided: {ref}", f"The dissent on {ref} was {outcome}."
        if notice.kind == "line_manager_notice":
            card = views.notice_card(f"Dissent recorded: {ref}", "A dissent was recorded at a conference you oversee.")
            return card, f"Dissent recorded: {ref}", f"A dissent was recorded on {ref}."
        if notice.kind == "complaint_logged":
            card = views.notice_card(f"Complaint received: {ref}", "A complaint about the conference was recorded.")
            return card, f"Complaint received: {ref}", f"A complaint about {ref} was recorded."
        due = cw.window_due(conference)
        card = views.notice_card(
            f"Conference {ref} has ended",
            f"You may record dissent until {views.when(due)}." if due else "You may record dissent.",
            source=f"Type: dissent {ref} <reason>",
        )
        return card, f"Conference {ref} ended", f"You may record dissent on {ref} until {views.when(due)}."


def _date(text: str, clock: str = "09:00") -> datetime:
    try:
        d = date.fromisoformat(text[:10])
        t = time.fromisoformat(clock[:5]) if clock else time(9, 0)
    except ValueError:
        raise _Bad("give the date as YYYY-MM-DD (and the time as HH:MM)") from None
    return datetime.combine(d, t, tzinfo=LONDON)
