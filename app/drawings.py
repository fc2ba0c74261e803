"""What the sweep sends, drawn by the bot's views: wired here so that the scheduler imports no bot code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot import views
from bot.notices import draw_notice
from casework.records import Notice, StoredReminder
from casework.rules import Rule
from casework.service import Casework

Card = dict[str, Any]


@dataclass(frozen=True)
class BotDrawings:
    """``scheduler.sweep.Drawings`` over ``bot.views`` and ``bot.notices``."""

    casework: Casework

    def reminder(self, row: StoredReminder, rule: Rule) -> tuple[Card, str, str]:
        return views.reminder_card(row.reference, rule, row.kind, row.due, row.audience)

    def reminder_met(self, row: StoredReminder, rule: Rule) -> Card:
        return views.reminder_met_card(row.reference, rule, row.due)

    def notice(self, notice: Notice) -> tuple[Card, str, str]:
        return draw_notice(self.casework, notice)
