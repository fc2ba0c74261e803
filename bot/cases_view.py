"""``cases``: a person's cases grouped by what needs them (issue 14 item 4); casework.overview decides."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.views import colour_of, deadline_text
from bot.views_base import Card, words
from cards.render import render
from casework.overview import RECENT_DAYS, CaseLine, Overview

#: How many cases each group of the overview lists (the rest are counted).
CASES_SHOWN = 10


def cases_card(overview: Overview, now: datetime) -> Card:
    """``cases``: what needs the person now, what waits on others, what closed lately (casework.overview)."""

    def line(case: CaseLine, group: str) -> dict[str, Any]:
        shown = {"reference": case.reference, "area": case.area, "who": "", "colour": "Default"}
        d = case.mine[0].deadline if group == "mine" and case.mine else case.next
        if group == "closed" or d is None:
            return {**shown, "next": "Closed" if group == "closed" else "No open steps"}
        more = f" (and {len(case.mine) - 1} more of yours)" if len(case.mine) > 1 else ""
        return {
            **shown,
            "next": f"{d.title}: {deadline_text(d)}{more}",
            "who": "" if group == "mine" else f"Waiting on: {words(d.rule.responsible or 'nobody named')}",
            "colour": colour_of(d, now),
        }

    groups = []
    for heading, cases, group in (
        ("Needs you now", overview.needs_me, "mine"),
        ("Waiting on others", overview.waiting, "waiting"),
        (f"Closed in the last {RECENT_DAYS} days", overview.closed, "closed"),
    ):
        if not cases:
            continue
        hidden = len(cases) - CASES_SHOWN
        groups.append(
            {
                "heading": f"{heading} ({len(cases)})",
                "cases": [line(c, group) for c in cases[:CASES_SHOWN]],
                "more": f"And {hidden} more: type deadlines for every duty of yours." if hidden > 0 else "",
            }
        )
    return render("cases", groups=groups, empty=not groups, days=str(RECENT_DAYS))
