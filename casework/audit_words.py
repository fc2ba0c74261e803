"""The audit trail as a reader reads it: "Tue 1 Dec 2026, 19:34: Alex Wilber (police) raised dissent".

Entries are numbered per case (1, 2, 3 ...). The log's own sequence is global, across every case, so
a case's entries numbered by it show gaps (1, 2, 3, 4, 11, 12, 16) that a reader takes for deleted
entries; it is shown only as each entry's position in the chain, which is what ``cpc audit verify``
checks (issue 14 item 1). Who acted is named from the register; the entry itself keeps the person's
id, since the log is append-only and a display name may change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from casework.clock import when
from casework.records import AuditEntry, Person
from casework.wording import NOT_A_PERSON, named, words

#: What each action reads as after the actor's name. Actions not listed read "<thing>: <what>".
ACTION_WORDS: Mapping[str, str] = {
    "conference.added": "added the conference",
    "conference.linked": "linked the meeting chat to the conference",
    "conference.unlinked": "unlinked the meeting chat from the conference",
    "conference.started": "recorded that the conference started",
    "conference.ended": "recorded that the conference ended",
    "dissent.raised": "raised dissent",
    "dissent.amended": "amended their dissent",
    "dissent.withdrawn": "withdrew their dissent",
    "dissent.recorded": "recorded the dissent in the Chair's Summary and Plan",
    "dissent.declined": "declined a late dissent, giving reasons",
    "dissent.upheld": "upheld the dissent, giving reasons",
    "dissent.not_upheld": "did not uphold the dissent, giving reasons",
    "complaint.received": "recorded a complaint",
    "complaint.closed": "recorded the complaint's outcome",
    "case.corrected": "corrected the record, giving a reason",
    "case.redacted": "redacted free text",
    "case.retention_applied": "removed free text at the end of its retention period",
    "duty.done": "marked a duty done",
    "attendee.added": "added {person} as an attendee",
    "attendee.removed": "took {person} off the attendance list",
    "identity.linked": "linked their Teams account to their registered record",
    "person.upserted": "updated a person's registration",
    "person.named": "had their display name updated from Teams",
}


@dataclass(frozen=True, slots=True)
class AuditLine:
    """One entry in words: ``number`` counts this case's entries; ``position`` is the chain's own."""

    number: int
    position: int
    when: str
    sentence: str


def actor_words(actor: str, people: Mapping[str, Person]) -> str:
    """Who acted: a registered person by name and agency, the command line or the bot by role."""
    if actor in NOT_A_PERSON:
        return NOT_A_PERSON[actor]
    person = people.get(actor)
    if person is None:
        return "Someone no longer registered"
    return named(person.display_name, person.agency, fallback=person.email or "A registered professional")


def action_words(action: str) -> str:
    """What was done: the listed wording, else the thing and the step in words."""
    if action in ACTION_WORDS:
        return ACTION_WORDS[action]
    thing, _, step = action.partition(".")
    return f"recorded {words(thing)}: {words(step)}" if step else f"recorded {words(thing)}"


def named_in(entry: AuditEntry) -> set[str]:
    """Everyone an entry names: who acted, and whom an attendance change was about."""
    subject = entry.detail.get("person") if entry.action.startswith("attendee.") else None
    return {entry.actor, *([subject] if isinstance(subject, str) else [])}


def _sentence(entry: AuditEntry, people: Mapping[str, Person]) -> str:
    done = action_words(entry.action)
    if "{person}" in done:
        subject = str(entry.detail.get("person") or "")
        who = actor_words(subject, people) if subject else "someone"
        done = done.replace("{person}", who[0].lower() + who[1:] if who.startswith("Someone") else who)
    return f"{actor_words(entry.actor, people)} {done}"


def audit_lines(entries: Sequence[AuditEntry], people: Mapping[str, Person]) -> list[AuditLine]:
    """A case's entries, oldest first, numbered from 1 (``entries`` is the whole trail of one case)."""
    return [
        AuditLine(n, e.seq, when(e.at), _sentence(e, people))
        for n, e in enumerate(sorted(entries, key=lambda e: e.seq), start=1)
    ]
