"""Cards for a booked panel that lost a member or its slot: replace the member, or pick new times
(casework.booking decides what is offered; these only draw it)."""

from __future__ import annotations

from typing import Any

from bot.views_base import Card, when
from cards.render import render


def panel_decline_card(prompt: Any) -> Card:
    """A decline (or a lost event) on a booked panel: replace the member, or find new times."""
    from casework.booking import purpose_of

    title = purpose_of(prompt.purpose).title
    return render(
        "panel_decline",
        title=f"{title} for {prompt.reference}: " + ("declined" if prompt.reason != "lost" else "cancelled elsewhere"),
        message=prompt.text(),
        facts=[
            {"label": "Case", "value": prompt.reference},
            {"label": "Meeting", "value": title},
            {"label": "When", "value": when(prompt.start)},
        ],
        can_replace=bool(prompt.person_id) and prompt.reason != "lost",
        reference=prompt.reference,
        purpose=prompt.purpose,
        transaction_id=prompt.transaction_id,
        leaving=prompt.person_id or "",
    )


def panel_slots_card(offer: Any, transaction_id: str) -> Card:
    from casework.booking import purpose_of

    slots = [{"label": s.describe(), "start": s.start.isoformat()} for s in offer.search.slots]
    return render(
        "panel_slots",
        title=f"New times: {purpose_of(offer.purpose).title} for {offer.reference}",
        message=offer.text(),
        none=not slots,
        slots=slots,
        reference=offer.reference,
        purpose=offer.purpose,
        transaction_id=transaction_id,
    )
