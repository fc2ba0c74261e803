"""The data of a complaint lifecycle: which step may follow which, as a pack declares it.

A pack's optional ``[lifecycle.complaint]`` table lists **transitions**: "this event may be recorded
when the last complaint step recorded is one of ``after``" (``after = []``: the first step). The same
event may appear in several transitions, each with its own citation; that is how a pack says a seed
allows a skip (SI 2006/1738: Stage 2 without local resolution) or a repeat (001 5.7.39: the same
panel re-convened)::

    [lifecycle.complaint]
    source = "001_554f9f91afccd8e1.txt 5.7.8-5.7.39"

    [[lifecycle.complaint.steps]]
    event = "stage1_meeting_held"
    after = ["complaint_received"]
    source = "001_554f9f91afccd8e1.txt 5.7.14"
    # title = "..."   plain English; needed only for an event with no default title below
    # times = 2       how many times in all the event may be recorded by this route (default 1)
    # note = "..."

``offered = false`` (with ``source`` and ``note``) says the area's seed sets no complaints process for
children and families (003: City and Hackney's procedure is for professionals). ``closed`` is the
outcome: it must be declared, with the steps after which the seed allows an outcome, and nothing
follows it. A pack that says nothing inherits its parent's lifecycle, or :data:`DEFAULT_LIFECYCLE`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from casework.event_titles import event_title, is_listed

CLOSED = "closed"

#: Plain-English titles of the canonical complaint events (ARCHITECTURE: Domain vocabulary).
# Each step's default title is the event's own (casework.event_titles), so a step reads alike in a
# lifecycle refusal, a step form and a timeline's explanation.


@dataclass(frozen=True, slots=True)
class Step:
    """A step that may be recorded now: its event name, plain-English title and citation."""

    event: str
    title: str
    source: str


@dataclass(frozen=True, slots=True)
class Transition:
    """``event`` may be recorded when the last complaint step recorded is one of ``after`` (the first
    step when ``after`` is empty), while it has been recorded fewer than ``times`` times."""

    event: str
    after: tuple[str, ...]
    source: str
    title: str
    times: int = 1
    note: str | None = None

    @property
    def step(self) -> Step:
        return Step(self.event, self.title, self.source)


@dataclass(frozen=True, slots=True)
class ComplaintLifecycle:
    """One area's complaint lifecycle: its transitions in pack order, the citation of the whole and
    whether the area has a complaints process for children and families at all."""

    transitions: tuple[Transition, ...]
    source: str
    offered: bool = True
    note: str | None = None

    @property
    def events(self) -> frozenset[str]:
        return frozenset(t.event for t in self.transitions)

    def title_of(self, event: str) -> str:
        for t in self.transitions:
            if t.event == event:
                return t.title
        return event_title(event)

    def source_of(self, event: str) -> str:
        return next((t.source for t in self.transitions if t.event == event), self.source)


def _t(event: str, after: tuple[str, ...], source: str, times: int = 1, title: str | None = None) -> Transition:
    return Transition(event, after, source, title or event_title(event), times)


_D = "000_263c99b8cdce9ba9.txt"
#: Where a pack says nothing and extends no pack: the shape common to 000 §3 and 004 8.17 (a Stage 1
#: with the chair, then an inter-agency panel), which is also ARCHITECTURE's Flow 2.
DEFAULT_LIFECYCLE = ComplaintLifecycle(
    (
        _t("complaint_received", (), f"{_D} §3 Stage 1"),
        _t("stage1_meeting_held", ("complaint_received",), f"{_D} §3 Stage 1 'meet and / or speak with'"),
        _t("stage1_response_sent", ("stage1_meeting_held",), f"{_D} §3 Stage 1 'Within a further ten working days'"),
        _t("stage1_response_received", ("stage1_response_sent",), f"{_D} §3 Stage 2 'receipt of the Stage 1 letter'"),
        _t("stage2_requested", ("stage1_response_sent", "stage1_response_received"), f"{_D} §3 Stage 2"),
        _t("panel_held", ("stage2_requested",), f"{_D} §3 Stage 2 'The panel must be convened'"),
        _t("panel_letter_sent", ("panel_held",), f"{_D} §3 Stage 2 'conclusions are put in writing'"),
        _t(CLOSED, ("stage1_response_sent", "stage1_response_received", "panel_letter_sent"), f"{_D} §2, §5"),
    ),
    f"{_D} §3 (the default lifecycle: the pack declares none)",
)

_STEP_KEYS = ("event", "after", "source", "title", "times", "note")


def _text(errors: list[tuple[str, str]], raw: Mapping[str, Any], key: str, where: str) -> str | None:
    v = raw.get(key)
    if v is None:
        return None
    if not isinstance(v, str) or not v.strip():
        errors.append((f"{where}.{key}", "a non-empty string"))
        return None
    return v


def _transition(errors: list[tuple[str, str]], raw: Any, where: str, known: frozenset[str]) -> Transition | None:
    if not isinstance(raw, Mapping):
        errors.append((where, "a table with event, after and source"))
        return None
    before = len(errors)
    for key in raw:
        if key not in _STEP_KEYS:
            errors.append((f"{where}.{key}", f"no such key; step keys are {', '.join(_STEP_KEYS)}"))
    event = raw.get("event")
    if not isinstance(event, str) or event not in known:
        errors.append((f"{where}.event", f"a known event (canonical or declared in 'events'), not {event!r}"))
        event = None
    after = raw.get("after")
    if not isinstance(after, list) or not all(isinstance(a, str) for a in after):
        errors.append((f"{where}.after", "a list of the events this step may follow ([] for the first step)"))
        after = []
    source = _text(errors, raw, "source", where)
    if source is None and "source" not in raw:
        errors.append((f"{where}.source", "the citation (seed file and paragraph) for this step"))
    title = _text(errors, raw, "title", where)
    if title is None and event is not None and not is_listed(event):
        errors.append((f"{where}.title", f"a plain-English title for {event!r}, which has no default title"))
    times = raw.get("times", 1)
    if isinstance(times, bool) or not isinstance(times, int) or not 1 <= times <= 10:
        errors.append((f"{where}.times", "a whole number from 1 to 10 (times the event may be recorded)"))
        times = 1
    note = _text(errors, raw, "note", where)
    if len(errors) > before or event is None or source is None:
        return None
    return Transition(event, tuple(after), source, title or event_title(event), times, note)


def _check_graph(errors: list[tuple[str, str]], steps: tuple[Transition, ...]) -> None:
    events = {t.event for t in steps}
    for i, t in enumerate(steps):
        where = f"lifecycle.complaint.steps[{i}]"
        for a in t.after:
            if a == CLOSED:
                errors.append((f"{where}.after", "steps other than 'closed': nothing follows the outcome"))
            elif a not in events:
                errors.append((f"{where}.after", f"events that are steps of this lifecycle, not {a!r}"))
        if t.event == CLOSED and not t.after:
            errors.append((f"{where}.after", "the steps after which the seed allows an outcome"))
    if not any(not t.after for t in steps):
        errors.append(("lifecycle.complaint.steps", "a first step (after = [])"))
    if CLOSED not in events:
        errors.append(("lifecycle.complaint.steps", "a 'closed' step: the outcome, and when it is allowed"))
    followed = {a for t in steps for a in t.after}
    for event in sorted(events - followed - {CLOSED}):
        errors.append(("lifecycle.complaint.steps", f"a step after {event!r} (at least the outcome, 'closed')"))
    reached: set[str] = {t.event for t in steps if not t.after}
    grew = True
    while grew:
        new = {t.event for t in steps if t.event not in reached and any(a in reached for a in t.after)}
        reached |= new
        grew = bool(new)
    for event in sorted(events - reached):
        errors.append(("lifecycle.complaint.steps", f"{event!r} reachable from the first step"))


def parse_lifecycle(
    raw: Any, known: frozenset[str], parent: ComplaintLifecycle | None = None
) -> tuple[ComplaintLifecycle, list[tuple[str, str]]]:
    """Validate a pack's optional ``[lifecycle]`` table; errors are (key, what was expected) pairs.

    With no table the parent's lifecycle (``extends``) applies, or :data:`DEFAULT_LIFECYCLE`.
    """
    base = parent or DEFAULT_LIFECYCLE
    if raw is None:
        return base, []
    if not isinstance(raw, Mapping):
        return base, [("lifecycle", "a table [lifecycle.complaint]")]
    errors: list[tuple[str, str]] = []
    for key in raw:
        if key != "complaint":
            errors.append((f"lifecycle.{key}", "no such key; expected complaint"))
    table = raw.get("complaint")
    if table is None:
        return base, errors
    if not isinstance(table, Mapping):
        return base, [*errors, ("lifecycle.complaint", "a table with source and [[lifecycle.complaint.steps]]")]
    for key in table:
        if key not in ("source", "note", "offered", "steps"):
            errors.append((f"lifecycle.complaint.{key}", "no such key; expected source, note, offered, steps"))
    source = _text(errors, table, "source", "lifecycle.complaint")
    if source is None:
        errors.append(("lifecycle.complaint.source", "the citation of the seed's complaints process"))
    note = _text(errors, table, "note", "lifecycle.complaint")
    offered = table.get("offered", True)
    if not isinstance(offered, bool):
        errors.append(("lifecycle.complaint.offered", "true or false"))
        offered = True
    raw_steps = table.get("steps", [])
    if not isinstance(raw_steps, list):
        errors.append(("lifecycle.complaint.steps", "an array of tables [[lifecycle.complaint.steps]]"))
        raw_steps = []
    if not offered:
        if raw_steps:
            errors.append(("lifecycle.complaint.steps", "no steps when offered = false"))
        if note is None:
            errors.append(("lifecycle.complaint.note", "why the area has no complaints process (offered = false)"))
        return ComplaintLifecycle((), source or "", False, note), errors
    parsed = [_transition(errors, r, f"lifecycle.complaint.steps[{i}]", known) for i, r in enumerate(raw_steps)]
    steps = tuple(t for t in parsed if t is not None)
    if len(steps) == len(parsed):
        _check_graph(errors, steps)
    return ComplaintLifecycle(steps, source or "", True, note), errors
