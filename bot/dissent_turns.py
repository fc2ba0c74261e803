"""The dissent's turns (001_554f9f91afccd8e1.txt 5.7.4-5.7.8): a professional raises or amends it, the chair
records or declines it, the reviewing manager decides. Part of :class:`bot.turns.Turns`, kept apart for size.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot import views
from bot.turn_inputs import Bad, Reply, confirmed, int_of, text_of, twice, who_is_told
from bot.views import Card
from casework.errors import PossibleName
from casework.records import Person
from casework.service import Casework, Changed


class DissentTurns:
    """Mixed into :class:`bot.turns.Turns`, which provides the casework service."""

    casework: Casework

    def _raise_dissent(
        self, me: Person, reference: str | None, reason: str, chat_id: str | None, confirm_name: bool = False
    ) -> Reply:
        cw = self.casework
        try:
            result = cw.raise_dissent(me.id, reference, reason, chat_id, confirm_name=confirm_name)
        except PossibleName as asked:
            return Reply(views.name_check_card(asked.reference, " ".join(reason.split())))
        # The command drew the case as it left it; only a repeat is drawn again (one read per turn).
        view = result.view or cw.view(me.id, result.conference.reference)
        chair = view.conference.chair_id
        # In a group or meeting chat, the chair is mentioned: they act next (001 5.7.7(2)).
        at = cw.teams_object_id(chair) if chat_id is not None and chair else None
        return Reply(views.dissent_confirmation(result.dissent, result.window_due, view, at), bool(result.notices))

    def _amend(
        self, me: Person, reference: str | None, reason: str, chat_id: str | None, confirm_name: bool = False
    ) -> Reply:
        try:
            changed = self.casework.amend_dissent(me.id, reference, reason, chat_id, confirm_name)
        except PossibleName as asked:
            return Reply(views.name_check_card(asked.reference, " ".join(reason.split()), "dissent.amend"))
        return Reply(views.result_card("Dissent amended", changed.summary + "."), bool(changed.notices))

    def _dissent_amend(self, me: Person, data: Mapping[str, Any]) -> Card | Reply:
        reference, reason, confirm = _reason_card(data)
        return self._amend(me, reference, reason, None, confirm_name=confirm)

    def _dissent_submit(self, me: Person, data: Mapping[str, Any]) -> Card | Reply:
        reference, reason, confirm = _reason_card(data)
        return self._raise_dissent(me, reference, reason, None, confirm_name=confirm)

    def _dissent_record(self, me: Person, data: Mapping[str, Any]) -> Card | Reply:
        changed = self.casework.record_dissent(
            me.id, int_of(data, "dissent"), text_of(data, "state", "the card's state")
        )
        card = views.result_card(
            "Dissent recorded",
            f"{changed.summary}. {who_is_told(changed)}{twice(changed)}",
            facts=[("Conference", changed.reference)],
        )
        return Reply(card, bool(changed.notices))

    def _dissent_decline(self, me: Person, data: Mapping[str, Any]) -> Card | Reply:
        changed = self.casework.decline_dissent(
            me.id,
            int_of(data, "dissent"),
            text_of(data, "reasons", "your reasons for declining"),
            text_of(data, "state", "the card's state"),
        )
        card = views.result_card(
            "Late dissent declined",
            f"{changed.summary}. The professional is being told, with your reasons kept on the record."
            + twice(changed),
            "Default",
            facts=[("Conference", changed.reference)],
        )
        return Reply(card, bool(changed.notices))

    def _dissent_decide(self, me: Person, data: Mapping[str, Any]) -> Card | Reply:
        decision = text_of(data, "decision", "a decision")
        if decision not in ("uphold", "not_upheld"):
            raise Bad("choose uphold or do not uphold")
        changed = self.casework.decide_dissent(
            me.id,
            int_of(data, "dissent"),
            decision == "uphold",
            text_of(data, "reasons", "the reasons"),
            text_of(data, "state", "the card's state"),
        )
        return Reply(self._decision_card(me, changed), bool(changed.notices))

    def _decision_card(self, me: Person, changed: Changed) -> Card:
        """The reviewing manager's confirmation: what this decision means, and nothing left over from
        another dissent on the case (a "not upheld" must not say "hold the reconvened conference")."""
        d = changed.dissent
        facts = [("Conference", changed.reference)]
        if d is not None and d.state == "upheld":
            follow = self.casework.after_uphold(self.casework.view(me.id, changed.reference))
            facts += [(dl.title, views.when(dl.due)) for dl in follow[:1]]
            message = f"{changed.summary}. The chair and the professional are being told."
        else:
            message = f"{changed.summary}. The professional and the chair are being told; the decision stands."
        return views.result_card("Decision recorded", message + twice(changed), facts=facts)


def _reason_card(data: Mapping[str, Any]) -> tuple[str, str, bool]:
    """A dissent form's or name check's data: the conference, the reason, and "send anyway"."""
    return (
        text_of(data, "reference", "the conference"),
        text_of(data, "reason", "your reason"),
        confirmed(data, "confirm_name"),
    )
