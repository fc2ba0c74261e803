"""How the record reads in words, shared by every place a person reads it: a card, the case bundle.

The Teams audit card and the Ombudsman's case bundle describe the same audit entries and the same
deadline statuses; one wording here keeps them from drifting apart (a complaints manager comparing
the card with the bundle must see the same sentence).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from casework.clock import when
from casework.records import AuditEntry

PROCESS_TITLE: Mapping[str, str] = {
    "dissent": "Professional dissent",
    "complaint": "Complaint",
    "conference": "Conference timescales",
}
STATUS_WORDS: Mapping[str, str] = {
    "waiting": "not started",
    "pending": "open",
    "met": "done",
    "late": "done late",
    "missed": "overdue",
}
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``1 case``, ``2 cases``: a count with its noun in the right number."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def words(name: str) -> str:
    """An identifier as words: ``not_upheld`` reads "not upheld"."""
    return name.replace("_", " ")


#: Who acted when it was not a person signed in to Teams.
NOT_A_PERSON: Mapping[str, str] = {
    "cli": "An administrator (command line)",
    "system": "The bot",
}


_COMMAND_AT_END = re.compile(r"Type: [^.?!]*$")


def sentence(text: str) -> str:
    """A reply as a sentence: a capital first letter and a full stop at the end (issue 14: replies
    started "you already recorded ..."). A reply ending with a command to type ("Type: status CPC-123")
    gets no stop, which would be copied with it."""
    text = " ".join(text.split())
    if not text:
        return text
    text = text[0].upper() + text[1:]
    if text[-1] in ".?!" or _COMMAND_AT_END.search(text):
        return text
    return text + "."


def named(name: str | None, agency: str = "", fallback: str = "A professional") -> str:
    """A professional as cards name them: "Alex Wilber (police)". Display names are professionals'
    own, from the Teams roster or the register; a child's or a family's name is never stored as one.
    ``fallback`` stands in when no display name is on record."""
    who = name or fallback
    return f"{who} ({words(agency)})" if agency else who


def audit_when(entry: AuditEntry) -> str:
    """The entry's position and moment: "6. Thu 17 Dec 2026, 16:00" (UK time)."""
    return f"{entry.seq}. {when(entry.at)}"


def audit_what(entry: AuditEntry) -> str:
    """What was done and by whom: "dissent.not upheld by oid-hos"."""
    return f"{words(entry.action)} by {entry.actor}"


def detail_words(detail: Mapping[str, Any]) -> str:
    """An entry's detail as "key: value" pairs, in the order written; a moment in UK time as people
    read it. Free text (reasons) is given whole, redacted or not, as the record holds it."""
    parts: list[str] = []
    for key, value in detail.items():
        if isinstance(value, bool):
            shown = "yes" if value else "no"
        elif isinstance(value, list):
            shown = ", ".join(str(v) for v in value)
        elif isinstance(value, str) and _ISO_MOMENT.match(value):
            shown = _moment(value)
        else:
            shown = str(value)
        parts.append(f"{words(str(key))}: {shown}")
    return "; ".join(parts)


def _moment(text: str) -> str:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return text
    return when(at) if at.tzinfo is not None else text


__all__ = [
    "PROCESS_TITLE",
    "STATUS_WORDS",
    "audit_what",
    "audit_when",
    "detail_words",
    "named",
    "sentence",
    "words",
]
