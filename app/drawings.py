"""What the sweep sends, drawn by the bot's views and sent through the bot's adapter: wired here, in
the composition root, so that the scheduler imports no bot code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot import edge, views
from bot.notices import draw_notice
from casework.areas import Area
from casework.duties import purpose
from casework.records import Notice, StoredReminder
from casework.rules import Rule
from casework.service import Casework

Card = dict[str, Any]


@dataclass(frozen=True)
class BotDrawings:
    """``scheduler.sweep.Drawings`` over ``bot.views`` and ``bot.notices``."""

    casework: Casework

    def reminder(self, row: StoredReminder, rule: Rule) -> tuple[Card, str, str]:
        area = self._area(row)
        return views.reminder_card(row.reference, rule, row.kind, row.due, row.audience, area, purpose(area, rule))

    def reminder_met(self, row: StoredReminder, rule: Rule) -> Card:
        return views.reminder_met_card(row.reference, rule, row.due, self._area(row))

    def _area(self, row: StoredReminder) -> Area:
        """The reminder's area (the sweep draws a reminder only when its area's pack has its rule)."""
        area = self.casework.areas.get(row.area)
        if area is None:
            raise LookupError("its area is no longer loaded")
        return area

    def notice(self, notice: Notice) -> tuple[Card, str, str]:
        return draw_notice(self.casework, notice)


@dataclass
class BotSender:
    """``casework.ports.ProactiveSender`` over the bot's adapter (``continue_conversation``, bot/edge.py)."""

    adapter: Any
    app_id: str

    async def send(self, reference_json: str, card: dict[str, Any]) -> str:
        return await edge.send_proactive(self.adapter, self.app_id, reference_json, card)

    async def update(self, reference_json: str, activity_id: str, card: dict[str, Any]) -> None:
        await edge.update_proactive(self.adapter, self.app_id, reference_json, activity_id, card)
