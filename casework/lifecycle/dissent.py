"""The dissent lifecycle: a professional's formal dissent from a conference decision.

States and the actions between them (001_554f9f91afccd8e1.txt 5.7.4-5.7.7; 004_974a7b50b4cfbdbf.txt 8.13)::

    raised --record--> recorded --uphold--> upheld --reconvene--> reconvened
      |  \\                     \\--not_uphold--> not_upheld
      |   \\--decline (late only)--> declined
      |--withdraw--> withdrawn
      \\--amend--> raised

- A dissent is raised by the professional "within 72 hours of the conference meeting" (001 5.7.4).
- "All dissents will be recorded formally within the Chair's Summary and Plan" (001 5.7.7(2)); "their
  dissent will be recorded in the record of the conference" (004 8.13.1). So the chair may decline
  only a *late* dissent, with reasons: accepting one is the chair's discretion (001 5.7.4; the
  project's rule for every window, ARCHITECTURE: Domain vocabulary). 004 8.13 sets no time limit, so
  in London a dissent is never late and never declined.
- Until the chair records it, the dissent is the professional's own request "for your view to be
  formally recorded" (001 5.7.5-5.7.6): they may amend its reason or withdraw it. The seeds say nothing
  of withdrawing later; once recorded it is the reviewing manager's to decide.
- The Head of Safeguarding and Review decides "whether to uphold the dissent and reconvene" within 10
  working days of the conference (001 5.7.7(3)-(4)); "any reconvened Conference will be held within
  15 working days of the reviewing manager's decision" (001 5.7.7(4)).

Pure data and functions: the caller stores the state and audits the change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from casework.citations import cite, cite_text, own_only
from casework.lifecycle import StepNotValid

if TYPE_CHECKING:  # only for the annotation: casework.areas imports casework.lifecycle.spec
    from casework.areas import Area

STATES: tuple[str, ...] = ("raised", "recorded", "declined", "upheld", "not_upheld", "reconvened", "withdrawn")
ACTIONS: tuple[str, ...] = ("record", "decline", "uphold", "not_uphold", "reconvene", "withdraw", "amend")

_S1 = "001_554f9f91afccd8e1.txt"
_S4 = "004_974a7b50b4cfbdbf.txt"

#: (state, action) -> (new state, citation). The one action allowed only for a late dissent is in LATE_ONLY.
TRANSITIONS: Mapping[tuple[str, str], tuple[str, str]] = {
    ("raised", "record"): ("recorded", f"{_S1} 5.7.7(2); {_S4} 8.13.1"),
    ("raised", "decline"): ("declined", f"{_S1} 5.7.4"),
    ("raised", "withdraw"): ("withdrawn", f"{_S1} 5.7.5-5.7.6"),
    ("raised", "amend"): ("raised", f"{_S1} 5.7.5, 5.7.7(2)"),
    ("recorded", "uphold"): ("upheld", f"{_S1} 5.7.7(3)-(4)"),
    ("recorded", "not_uphold"): ("not_upheld", f"{_S1} 5.7.7(3)-(4)"),
    ("upheld", "reconvene"): ("reconvened", f"{_S1} 5.7.7(4)"),
}
LATE_ONLY: frozenset[tuple[str, str]] = frozenset({("raised", "decline")})

_DOING: Mapping[str, str] = {
    "record": "record it in the Chair's Summary and Plan",
    "decline": "decline it as late, with reasons",
    "uphold": "uphold it and reconvene the conference",
    "not_uphold": "decide not to uphold it",
    "reconvene": "record the reconvened conference",
    "withdraw": "withdraw it",
    "amend": "amend its reason",
}
_DONE: Mapping[str, str] = {
    "record": "recorded",
    "decline": "declined",
    "uphold": "upheld",
    "not_uphold": "decided (not upheld)",
    "reconvene": "reconvened",
    "withdraw": "withdrawn",
    "amend": "amended",
}
_WHY: Mapping[str, str] = {
    "record": f"the chair records a dissent that has been raised ({_S1} 5.7.7(2))",
    "decline": f"the chair may decline only a late dissent, before recording it ({_S1} 5.7.4)",
    "uphold": f"the reviewing manager decides on a dissent the chair has recorded ({_S1} 5.7.7(3))",
    "not_uphold": f"the reviewing manager decides on a dissent the chair has recorded ({_S1} 5.7.7(3))",
    "reconvene": f"a conference is reconvened once the dissent is upheld ({_S1} 5.7.7(4))",
    "withdraw": f"the professional may withdraw it until the chair records it ({_S1} 5.7.5, 5.7.7(2))",
    "amend": f"the professional may amend its reason until the chair records it ({_S1} 5.7.5, 5.7.7(2))",
}


_STATE_WORDS: Mapping[str, str] = {
    "raised": "raised, waiting for the chair to record it",
    "recorded": "recorded by the chair, waiting for the decision",
    "upheld": "upheld: the conference is to be reconvened",
    "not_upheld": "not upheld",
    "declined": "declined by the chair as late",
    "reconvened": "upheld, and the conference was reconvened",
    "withdrawn": "withdrawn by the professional",
}


def state_words(state: str) -> str:
    """What became of a dissent, for "your dissent was ...": "upheld: the conference is to be reconvened"."""
    return _STATE_WORDS.get(state, state.replace("_", " "))


def _state_words(state: str) -> str:
    """The state as a refusal names it ("a dissent that is declined by the chair as late ...")."""
    return {"declined": "declined by the chair as late", "reconvened": "upheld and reconvened"}.get(
        state, state.replace("_", " ")
    )


def dissent_actions(state: str, late: bool) -> tuple[str, ...]:
    """The actions valid for a dissent in ``state`` (in :data:`ACTIONS` order); ``late``: raised after
    its window closed (001 5.7.4). An unknown state has none."""
    return tuple(a for a in ACTIONS if (state, a) in TRANSITIONS and (late or (state, a) not in LATE_ONLY))


def _now_words(state: str, late: bool) -> str:
    actions = dissent_actions(state, late)
    if not actions:
        return f"nothing more can be done: the dissent is {_state_words(state)}"
    return "what can be done now: " + ", ".join(_DOING[a] for a in actions)


def _own_citation(source: str, area: Area | None) -> str:
    """A transition's citation as the area reads it: its own procedure's paragraph where the citation
    names it (a London case reads 8.13.1, not Pan-Sussex 5.7.7(2) as well), by the document's name."""
    if area is None:
        return source
    return "; ".join(c.text for c in own_only(cite(source, area), area.own_documents))


def dissent_transition(state: str, action: str, late: bool, area: Area | None = None) -> str:
    """The dissent's new state after ``action``, or :class:`StepNotValid` naming what can be done now.

    With the case's ``area`` the refusal cites procedures by their names (casework.citations), its own
    procedure where a citation names it; without one, by the seed files' names.
    """
    if state not in STATES:
        raise StepNotValid(f"unknown dissent state {state!r}; the states are {', '.join(STATES)}", action)
    allowed = dissent_actions(state, late)
    if action not in ACTIONS:
        raise StepNotValid(
            f"unknown dissent action {action!r}; the actions are {', '.join(ACTIONS)}; {_now_words(state, late)}",
            action,
            allowed,
        )
    if action in allowed:
        return TRANSITIONS[(state, action)][0]
    if (state, action) in LATE_ONLY:
        message = (
            "A dissent raised in time cannot be declined: every dissent is recorded in the Chair's Summary "
            f"and Plan ({_S1} 5.7.7(2)); declining is the chair's discretion only for a late one ({_S1} 5.7.4)"
        )
    elif state in {new for (_, a), (new, _) in TRANSITIONS.items() if a == action}:
        cited = next(src for (_, a), (new, src) in TRANSITIONS.items() if a == action and new == state)
        message = f"The dissent is already {_DONE[action]} ({_own_citation(cited, area)})"
    else:
        message = f"A dissent that is {_state_words(state)} cannot be {_DONE[action]}: {_WHY[action]}"
    message = f"{message}; {_now_words(state, late)}"
    raise StepNotValid(cite_text(message, area) if area is not None else message, action, allowed)


def is_open(state: str) -> bool:
    """Waiting for the chair (raised) or the reviewing manager (recorded) (001 5.7.7(2)-(3))."""
    return state in ("raised", "recorded")


def is_decided(state: str) -> bool:
    """A decision was made on it: declined by the chair as late (001 5.7.4), or upheld or not upheld by the
    reviewing manager (001 5.7.7(3)-(4)), upheld including a conference since reconvened."""
    return state in ("declined", "upheld", "not_upheld", "reconvened")


__all__ = [
    "ACTIONS",
    "LATE_ONLY",
    "STATES",
    "TRANSITIONS",
    "dissent_actions",
    "dissent_transition",
    "is_decided",
    "is_open",
]
