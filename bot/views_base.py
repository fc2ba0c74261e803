"""What every card module shares: the card type, how times and names read in words, and citations.

A citation is shown as the procedure's name and paragraph ("Pan-Sussex Child Protection and
Safeguarding Procedures, 5.7.4"), linked where the pack gives the procedure's public address; which
document a source names is casework's (:mod:`casework.citations`), the Markdown is this module's.
"""

from __future__ import annotations

from typing import Any

from cards.render import escape_markdown, link
from casework.citations import Where, cite, cite_text
from casework.clock import when
from casework.event_titles import event_title
from casework.records import CaseEvent, Dissent
from casework.results import CaseView
from casework.wording import named, words

Card = dict[str, Any]


def cited(source: str, where: Where) -> str:
    """``source`` as card Markdown (for a ``${raw:...}`` placeholder): each document by its name and
    paragraph, a link where its address is known, "; " between them."""
    return "; ".join(link(c.text, c.url) for c in cite(source, where))


def cited_plain(source: str, where: Where) -> str:
    """``source`` as plain text (an email): each document by its name and paragraph, its address after it."""
    return "; ".join(c.text + (f" <{c.url}>" if c.url else "") for c in cite(source, where))


def prose(text: str, where: Where) -> str:
    """A note or message from a pack as card Markdown: any document it names, by its name."""
    return escape_markdown(cite_text(text, where))


# People by name (issue 14 item 1): who dissented, who chairs, who recorded an event.


def dissenter(dissent: Dissent, view: CaseView) -> str:
    """The dissenting professional by name and agency: "Alex Wilber (police)"."""
    return named(view.names.get(dissent.person_id), dissent.agency or "", fallback="A professional")


def chair_of(view: CaseView) -> str:
    """The conference's chair by name, or that none is recorded."""
    chair = view.conference.chair_id
    if not chair:
        return "No chair recorded"
    return named(view.names.get(chair), fallback="Name not on record")


def mention(card: Card, object_id: str, name: str) -> tuple[Card, str]:
    """``card`` with a Teams mention of this person (the ``msteams.entities`` form: the text
    ``<at>name</at>`` in a TextBlock, and the entity naming their Entra object id), and that text.

    Teams matches the entity by its exact text, so the name goes in without Markdown escapes; angle
    brackets, which would end the tag, are dropped. ``msteams`` is Teams' extension to the card, which
    the Adaptive Card 1.5 schema itself does not list."""
    shown = "".join(ch for ch in name if ch not in "<>") or "the chair"
    text = f"<at>{shown}</at>"
    entity = {"type": "mention", "text": text, "mentioned": {"id": object_id, "name": shown}}
    return {**card, "msteams": {"entities": [entity]}}, text


def event_words(event: CaseEvent, view: CaseView) -> str:
    """An event as a sentence: what happened, whose dissent it concerns, and who recorded it when that
    is someone else ("Dissent upheld: the dissent by Alex Wilber (police), raised Tue 1 Dec 2026,
    19:34. Recorded by Priya Shah.")."""
    text = event_title(event.name)
    about = next((d for d in view.dissents if _concerns(event, d)), None)
    recorder = event.recorded_by
    if about is not None and event.name == "dissent_raised":
        text += f" by {dissenter(about, view)}"
    elif about is not None:
        text += f": the dissent by {dissenter(about, view)}, raised {when(about.raised_at)}"
    if recorder and recorder in view.names and not (about is not None and recorder == about.person_id):
        text += f". Recorded by {view.names[recorder]}"
    return text + "."


def _concerns(event: CaseEvent, d: Dissent) -> bool:
    """Whether a dissent event is this dissent's: raised at its moment, or decided at its decision's."""
    if not event.name.startswith("dissent_"):
        return False
    at = d.raised_at if event.name == "dissent_raised" else d.decided_at
    return at is not None and abs((event.at - at).total_seconds()) < 1


__all__ = [
    "Card",
    "chair_of",
    "cited",
    "cited_plain",
    "dissenter",
    "escape_markdown",
    "event_words",
    "mention",
    "prose",
    "when",
    "words",
]
