"""The Teams bot: translates activities into casework calls and casework results into cards.

Every command and card action goes through :class:`casework.service.Casework`, which checks roles
and state; this module only parses, renders, replies and delivers notices. The routes are the Agents
SDK's (:mod:`bot.edge_routes`): one ``Action.Execute`` handler per card verb, answered with a refreshed
card, and the same verbs as ``Action.Submit`` for clients that only know that, answered with a reply
carrying the card.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot import edge, panel_views, views
from bot.commands import Command, parse, usage
from bot.edge_routes import application
from bot.identity import Identities
from bot.notices import draw_notice
from bot.setup_turns import CHAT
from bot.turn_inputs import Bad, Reply, text_of
from bot.turns import Turns
from bot.views import Card
from casework.clock import parse_time
from casework.errors import AlreadyDone, CaseworkError, StaleAction, UnknownPerson
from casework.ports import EmailOutbox
from casework.records import Person
from casework.service import Casework, Notice
from casework.wording import named, sentence

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
    outbox: EmailOutbox
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


def _group_chat(activity: edge.Activity) -> str | None:
    """The id of the group or meeting chat an activity came from; None for a one-to-one chat.

    A one-to-one chat is no conference's chat: it is never linked, and dissent typed there names its
    conference (issue 14: a link made in a 1:1 chat sent every later dissent there).
    """
    conversation = activity.conversation
    if conversation is None or (conversation.conversation_type or "personal") == "personal":
        return None
    return conversation.id or None


def _card_activity(card: Card) -> edge.Activity:
    return edge.card_activity(card)


#: The verbs whose actions are async calls to the panel booker rather than casework on a worker thread.
PANEL_VERBS = ("panel.replace", "panel.slots", "panel.reschedule")


class ChallengeBot:
    def __init__(
        self,
        casework: Casework,
        delivery: Delivery,
        now: Callable[[], datetime],
        home_tenant: str | None = None,
        admin_contact: str = "",
    ) -> None:
        self.casework = casework
        self.delivery = delivery
        self.now = now
        self._refs: dict[str, tuple[str, str, str]] = {}
        self.identities = Identities(casework, home_tenant)
        self.turns = Turns(casework, now, admin_contact)
        # Panel booking (casework.booking.Booker), wired by the composition root when available.
        self.booker: Any = None
        # Asks the sweep to deliver queued notices now (wired by the composition root); notices are
        # rows written in the action's own transaction, so a crash before this loses nothing.
        self.kick: Callable[[], None] = lambda: None
        self.application = application(self, [*Turns.VERBS, *PANEL_VERBS])

    # ------------------------------------------------------------------ identity

    async def _person(self, turn_context: edge.TurnContext) -> Person | None:
        """By (tenant, Entra object id); the Teams roster's email (GET .../members/{id}) may link an
        account once, in the home tenant (casework.commands.identity)."""
        activity = turn_context.activity
        frm = activity.from_property
        if frm is None:
            return None
        email_of = functools.partial(edge.member_email, turn_context)
        object_id = getattr(frm, "aad_object_id", None)
        name = getattr(frm, "name", None)
        return await self.identities.resolve(edge.tenant_id(activity), object_id, frm.id, email_of, name)

    async def on_turn(self, turn_context: edge.TurnContext) -> None:
        """The turn as the adapter runs it: the SDK application's routes."""
        await self.application.on_turn(turn_context)

    async def before_turn(self, turn_context: edge.TurnContext) -> None:
        """Who is asking, and where to reach them later (a route runs after this)."""
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

    def _me(self, turn_context: edge.TurnContext) -> Person:
        person = turn_context.turn_state.get("cpc.person")
        if person is None:
            raise UnknownPerson(self.turns.admin_contact)
        assert isinstance(person, Person)
        return person

    # ------------------------------------------------------------------ messages

    async def on_message(self, turn_context: edge.TurnContext) -> None:
        activity = turn_context.activity
        cmd = parse(activity.text or "")
        chat_id = _group_chat(activity)
        found = turn_context.turn_state.get("cpc.person")
        person = found if isinstance(found, Person) else None
        try:
            if isinstance(cmd, Command) and cmd.name in ("attendee add", "attendee remove"):
                reply: Card | str | Reply = await self._attendee(turn_context, person, cmd, chat_id)
            else:
                # Store calls run on the worker pool, never on the event loop (issue 9 item 6).
                reply = await asyncio.to_thread(self.turns.command, person, cmd, chat_id)
        except CaseworkError as exc:
            reply = str(exc)
        self._after(reply)
        if isinstance(reply, Reply):
            reply = reply.body
        if isinstance(reply, str):
            await turn_context.send_activity(edge.text_activity(sentence(reply)))
        else:
            await turn_context.send_activity(_card_activity(reply))

    async def _attendee(
        self, turn_context: edge.TurnContext, me: Person | None, cmd: Command, chat_id: str | None
    ) -> Card | str:
        """``attendee add @person police``: the person is the message's one mention, found by their
        Entra object id in the chat's roster, and never by the name typed."""
        if me is None:
            raise UnknownPerson(self.turns.admin_contact)
        mentioned = edge.mentioned_ids(turn_context.activity)
        person: Person | None = None
        if chat_id is not None and len(mentioned) == 1:
            entry = await edge.roster_entry(turn_context, mentioned[0])
            if entry is None or not entry.object_id:
                return "I could not find that person in this chat's members. Mention someone who is in the chat."

            async def email_of(_user_id: str) -> str | None:
                return entry.email

            tenant = edge.tenant_id(turn_context.activity)
            person = await self.identities.resolve(tenant, entry.object_id, mentioned[0], email_of, entry.name)
        elif chat_id is not None and len(mentioned) > 1:
            return f"Mention one person at a time. {usage(cmd.name)}"
        return await asyncio.to_thread(self.turns.setup.attendee, me, cmd, chat_id, person, bool(mentioned))

    def _after(self, reply: object) -> None:
        """Wake the sweep when the action queued notices (they were committed with it)."""
        if isinstance(reply, Reply) and reply.notified:
            self.kick()

    # ------------------------------------------------------------------ card actions

    async def card_action(self, turn_context: edge.TurnContext, verb: str | None, data: Mapping[str, Any]) -> Card:
        """Run one card action; every outcome (including refusal) is a card, never an exception."""
        try:
            me = self._me(turn_context)
            if verb in PANEL_VERBS:
                return await self._panel_action(me, verb, data)
            # The chat a card was answered in, from the activity: never from the card's own data.
            data = {**data, CHAT: _group_chat(turn_context.activity)}
            result = await asyncio.to_thread(self.turns.act, me, verb, data)
        except AlreadyDone as exc:
            return views.result_card("Already done", f"{sentence(str(exc))} Nothing was changed.", "Default")
        except StaleAction as exc:
            return views.result_card(
                "This card is out of date", f"{sentence(str(exc))} Nothing was changed.", "Warning"
            )
        except CaseworkError as exc:
            return views.result_card("Not done", sentence(str(exc)), "Attention")
        self._after(result)
        body = result.body if isinstance(result, Reply) else result
        return body if isinstance(body, dict) else views.result_card("Done", body)

    async def _panel_action(self, me: Person, verb: str, data: Mapping[str, Any]) -> Card:
        """Decline prompts: replace a member, find new times, or move the meeting to one of them.

        Each card carries the transactionId of the booking it was drawn for; once the booking has
        been rebooked or replaced that id is no longer current and the card is refused as stale.
        """
        from casework.ports_graph import CalendarError

        booker = self.booker
        if booker is None:
            raise Bad("panel booking is not configured on this server")
        ref = self.casework.reference(text_of(data, "reference", "the case"))
        purpose = text_of(data, "purpose", "the meeting")
        current = await asyncio.to_thread(booker.bookings.current_booking, ref, purpose)
        if current is None or current.transaction_id != text_of(data, "transaction_id", "the booking"):
            raise StaleAction("this card was drawn for an earlier booking of this meeting")
        try:
            if verb == "panel.replace":
                joining_text = text_of(data, "joining", "the replacement member")
                store = self.casework.store
                joining = await asyncio.to_thread(store.get_person, joining_text) or await asyncio.to_thread(
                    store.find_person_by_email, joining_text
                )
                if joining is None:
                    raise Bad(f"no registered person matches {joining_text[:60]!r}")
                booking = await booker.replace_member(
                    me.id, ref, purpose, text_of(data, "leaving", "the member leaving"), joining.id
                )
                return views.result_card(
                    "Member replaced",
                    f"The invitation for {ref} now includes {named(joining.display_name, fallback=joining.email)}.",
                    facts=[("When", views.when(booking.start))],
                )
            if verb == "panel.slots":
                members = [i.person_id for i in current.invitees if i.kind != "resource" and i.person_id]
                room = current.room.email if current.room else None
                offer = await booker.find_slots(
                    me.id, ref, purpose, members, room, current.end - current.start, chair_id=current.chair_id
                )
                return panel_views.panel_slots_card(offer, current.transaction_id)
            start = text_of(data, "start", "the new time")
            try:
                at = datetime.fromisoformat(start)
            except ValueError:
                raise Bad("the card's time is not a valid time; find new times again") from None
            booking = await booker.reschedule(me.id, ref, purpose, at)
            return views.result_card(
                "Meeting moved",
                f"The meeting for {ref} is now at {views.when(booking.start)}; invitations were updated.",
            )
        except CalendarError as exc:
            raise Bad(str(exc)) from None

    async def send_decline_card(self, prompt: Any, person_id: str) -> bool:
        """For the invitation-response job: True when the card reached the person in Teams."""
        ref = await asyncio.to_thread(self.casework.store.conversation_ref, person_id)
        if ref is None:
            return False
        return await self.delivery.to_teams(ref, panel_views.panel_decline_card(prompt))

    # ------------------------------------------------------------------ meetings and installs

    async def on_meeting_event(self, turn_context: edge.TurnContext) -> None:
        """Teams' meeting start and end events (the app's RSC permission): they open the dissent window."""
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

    async def on_members_added(self, turn_context: edge.TurnContext) -> None:
        recipient = turn_context.activity.recipient
        members_added = turn_context.activity.members_added or []
        if any(recipient is not None and m.id == recipient.id for m in members_added):
            await turn_context.send_activity(_card_activity(views.help_card()))

    # ------------------------------------------------------------------ notices

    def draw_notice(self, notice: Notice) -> tuple[Card, str, str]:
        """The card, email subject and email text of a queued notice (the sweep calls this)."""
        return draw_notice(self.casework, notice)
