"""The calendar invitation for a booking, as the Calendar port sends it (ARCHITECTURE: Flow 3).

Its ``transactionId`` is deterministic (:func:`transaction_id`) and stored *before* the create is
sent, so a retried or resumed create never makes a second event. A panel's invitation carries the
papers its pack lists; an invitation without a Teams link says why (:func:`link_warnings`).
"""

from __future__ import annotations

import hashlib

from casework.citations import cite_text
from casework.packs import Area
from casework.ports_graph import Booking, EventDraft, Invitee
from casework.purposes import purpose_of


def transaction_id(reference: str, purpose: str, revision: int) -> str:
    """Graph's ``transactionId`` for one booking: the same case, purpose and revision give the same id.

    A sha256 of ``reference|purpose|revision`` shaped as a UUID (8-4-4-4-12 hex digits).
    """
    h = hashlib.sha256(f"{reference}|{purpose}|{revision}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def event_draft(b: Booking, area: Area) -> EventDraft:
    """The event to create or update for booking ``b``, with the papers when it is a panel."""
    p = purpose_of(b.purpose)
    rules = area.panel if p.panel else None
    return EventDraft(
        transaction_id=b.transaction_id,
        reference=b.reference,
        purpose=b.purpose,
        title=p.title,
        start=b.start,
        end=b.end,
        invitees=tuple(Invitee(i.email, i.kind, i.person_id) for i in b.invitees),
        papers=rules.papers if rules else (),
        papers_source=cite_text(rules.papers_source, area) if rules else "",
        chair_id=b.chair_id,
        online=True,
        sequence=b.sequence,
    )


def link_warnings(join_url: str | None, limitation: str | None) -> tuple[str, ...]:
    """What the complaints manager must do when the event came back without a Teams join link."""
    if join_url:
        return ()
    if limitation:
        return ("No Teams link: the invitation was written as a file because no Microsoft Graph tenant is configured.",)
    return (
        "Graph returned no Teams join link: the organiser mailbox is probably not enabled for Teams meetings. "
        "Add a link to the invitation by hand, or ask the Teams administrator to enable the mailbox.",
    )
