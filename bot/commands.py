"""Parsing what people type in Teams into commands. Pure: no SDK, no store.

Case-insensitive; an ``@mention`` of the bot is stripped first. A malformed command gets a short
reply showing the right form, never a stack trace.
"""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass

_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]{0,200}>")

#: Words people open a chat with, or ask what the bot does: all get the help card.
HELP_WORDS = frozenset({"help", "?", "hi", "hello", "hey", "what", "commands", "menu", "start", "options"})

USAGE: dict[str, tuple[str, str]] = {
    "help": ("help", "what the bot can do"),
    "dissent": ("dissent CPC-123 <reason>", "record formal dissent from a conference decision (or just: dissent)"),
    "dissent amend": ("dissent amend CPC-123 <new reason>", "change your reason until the chair records it"),
    "dissent withdraw": ("dissent withdraw CPC-123", "withdraw your dissent before it is decided"),
    "complaint": ("complaint CPC-123", "record a complaint by a child or family (chair or complaints manager)"),
    "status": ("status CPC-123", "the case's timeline: every deadline, red/amber/green, with its source"),
    "deadlines": ("deadlines", "what you are responsible for next, soonest first"),
    "cases": ("cases", "your open cases: what needs you now, what waits on others, what closed lately"),
    "decide": ("decide CPC-123", "decide on a dissent (reviewing manager)"),
    "stage2": ("stage2 CPC-123", "record Stage 1 and Stage 2 steps of a complaint"),
    "panel": ("panel CPC-123", "record the panel's steps"),
    "outcome": ("outcome CPC-123", "record a complaint's outcome"),
    "attendee add": ("attendee add @person police", "in the meeting chat: add an attendee, with their agency (chair)"),
    "attendee remove": ("attendee remove @person", "in the meeting chat: take off someone added in error (chair)"),
    "conference new": ("conference new", "set up a conference you chair; from its meeting chat, linked to it"),
    "conference link": ("conference link CPC-123", "in a meeting or group chat: link it to the conference"),
    "conference unlink": ("conference unlink CPC-123", "in that chat: undo the link (chair)"),
    "audit": ("audit CPC-123", "the case's audit trail (authorised roles)"),
    "correct": ("correct CPC-123", "withdraw a wrongly recorded step, giving a reason (chair, complaints manager)"),
}


#: Words people type for a command whose name they do not know yet.
_SAID_FOR: dict[str, str] = {
    "step": "stage2",
    "steps": "stage2",
    "stage": "stage2",
    "stage1": "stage2",
    "timeline": "status",
    "reminders": "deadlines",
    "due": "deadlines",
}


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    reference: str | None = None
    text: str = ""


@dataclass(frozen=True, slots=True)
class ParseError:
    message: str


def clean(text: str) -> str:
    """Strip mentions and any markup Teams adds, unescape entities and fold whitespace."""
    text = _MENTION.sub(" ", text or "")
    text = _TAGS.sub(" ", text)
    return " ".join(html.unescape(text).split())


def _looks_like_reference(word: str) -> bool:
    """A word that may be a case reference: references carry digits (a reason's first word seldom does)."""
    return any(ch.isdigit() for ch in word) and len(word) <= 40


def usage(name: str) -> str:
    form, _ = USAGE[name]
    return f"Type: {form}"


def parse(raw: str) -> Command | ParseError:
    text = clean(raw)
    if not text:
        return ParseError("Type help to see what I can do.")
    words = text.split(" ")
    head = words[0].lower()
    rest = words[1:]
    if head in HELP_WORDS:
        return Command("help")
    if head in ("deadlines", "cases"):
        return Command(head)
    if head in ("attendee", "attendees"):
        sub = rest[0].lower() if rest else ""
        if sub not in ("add", "remove"):
            return ParseError(usage("attendee add"))
        args = rest[1:]
        # The person is the message's mention (its entity, which the handler reads): what is left
        # is an optional reference, and for ``add`` the agency.
        has_ref = bool(args) and _looks_like_reference(args[0])
        reference, text = (args[0], " ".join(args[1:])) if has_ref else (None, " ".join(args))
        if sub == "add" and not text:
            return ParseError(usage("attendee add"))
        if sub == "remove" and text:
            return ParseError(usage("attendee remove"))
        return Command(f"attendee {sub}", reference, text)
    if head == "conference":
        if rest and rest[0].lower() == "new":
            return Command("conference new") if len(rest) == 1 else ParseError(usage("conference new"))
        if len(rest) >= 2 and rest[0].lower() in ("link", "unlink"):
            return Command(f"conference {rest[0].lower()}", rest[1])
        return ParseError(usage("conference link"))
    if head == "dissent":
        if not rest:
            return Command("dissent")
        sub = rest[0].lower()
        if sub in ("amend", "withdraw"):
            name = f"dissent {sub}"
            args = rest[1:]
            # In a linked meeting chat the reference may be left out, as for dissent itself.
            has_ref = bool(args) and _looks_like_reference(args[0])
            reference, text = (args[0], " ".join(args[1:])) if has_ref else (None, " ".join(args))
            if sub == "withdraw" and text:
                return ParseError(usage(name))
            if sub == "amend" and not text:
                return ParseError(usage(name))
            return Command(name, reference, text)
        # "dissent <reason>" in a linked meeting chat has no reference: the bot decides.
        if _looks_like_reference(rest[0]):
            return Command("dissent", rest[0], " ".join(rest[1:]))
        return Command("dissent", None, " ".join(rest))
    if head in ("complaint", "status", "decide", "stage2", "panel", "outcome", "audit", "correct"):
        if len(rest) != 1:
            return ParseError(usage(head))
        return Command(head, rest[0])
    if head in _SAID_FOR:
        meant = _SAID_FOR[head]
        return ParseError(f"Did you mean {meant}? {usage(meant)}")
    close = difflib.get_close_matches(head, sorted({name.split(" ")[0] for name in USAGE}), n=1, cutoff=0.7)
    if close:
        return ParseError(f"Did you mean {close[0]}? {usage(next(n for n in USAGE if n.startswith(close[0])))}")
    return ParseError("I can record dissent, complaints and their steps, and show deadlines. Type help to see how.")
