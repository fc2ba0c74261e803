"""The dissent lifecycle against a table written from 001 5.7.4-5.7.7 and 004 8.13."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from casework.errors import CaseworkError
from casework.lifecycle import StepNotValid
from casework.lifecycle.dissent import ACTIONS, STATES, dissent_actions, dissent_transition, is_decided, is_open

ALL_STATES = ("raised", "recorded", "declined", "upheld", "not_upheld", "reconvened", "withdrawn")
ALL_ACTIONS = ("record", "decline", "uphold", "not_uphold", "reconvene", "withdraw", "amend")

# (state, late) -> {action: new state}, from the seeds:
#   5.7.7(2) every dissent is recorded by the chair; a late one (5.7.4) the chair may decline instead;
#   until recorded it is the professional's to amend or withdraw (5.7.5);
#   5.7.7(3)-(4) the reviewing manager upholds (and reconvenes) or does not uphold a recorded dissent.
EXPECTED: Mapping[tuple[str, bool], Mapping[str, str]] = {
    ("raised", False): {"record": "recorded", "withdraw": "withdrawn", "amend": "raised"},
    ("raised", True): {"record": "recorded", "decline": "declined", "withdraw": "withdrawn", "amend": "raised"},
    ("recorded", False): {"uphold": "upheld", "not_uphold": "not_upheld"},
    ("recorded", True): {"uphold": "upheld", "not_uphold": "not_upheld"},
    ("upheld", False): {"reconvene": "reconvened"},
    ("upheld", True): {"reconvene": "reconvened"},
    **{(s, late): {} for s in ("declined", "not_upheld", "reconvened", "withdrawn") for late in (False, True)},
}


def refused(state: str, action: str, late: bool = False) -> StepNotValid:
    with pytest.raises(StepNotValid) as info:
        dissent_transition(state, action, late)
    return info.value


def test_states_and_actions() -> None:
    assert set(STATES) == set(ALL_STATES) and set(ACTIONS) == set(ALL_ACTIONS)


@pytest.mark.parametrize("late", [False, True])
@pytest.mark.parametrize("state", ALL_STATES)
def test_every_transition(state: str, late: bool) -> None:
    expected = EXPECTED[(state, late)]
    assert set(dissent_actions(state, late)) == set(expected)
    for action in ALL_ACTIONS:
        if action in expected:
            assert dissent_transition(state, action, late) == expected[action]
            continue
        err = refused(state, action, late)
        assert isinstance(err, CaseworkError)
        assert err.step == action and set(err.allowed) == set(expected)
        msg = str(err)
        assert ("what can be done now" in msg) if expected else ("nothing more can be done" in msg)
        assert "001_554f9f91afccd8e1.txt 5.7." in msg or not expected


def test_a_dissent_in_time_cannot_be_declined() -> None:
    err = refused("raised", "decline", late=False)
    assert str(err) == (
        "A dissent raised in time cannot be declined: every dissent is recorded in the Chair's Summary and Plan "
        "(001_554f9f91afccd8e1.txt 5.7.7(2)); declining is the chair's discretion only for a late one "
        "(001_554f9f91afccd8e1.txt 5.7.4); what can be done now: record it in the Chair's Summary and Plan, "
        "withdraw it, amend its reason"
    )
    assert dissent_transition("raised", "decline", late=True) == "declined"


def test_the_decision_waits_for_the_record() -> None:
    msg = str(refused("raised", "uphold"))
    assert msg.startswith("A dissent that is raised cannot be upheld: the reviewing manager decides on a dissent")
    assert "5.7.7(3)" in msg and "record it in the Chair's Summary and Plan" in msg
    assert "reconvened once the dissent is upheld" in str(refused("recorded", "reconvene"))
    assert "reconvened once the dissent is upheld" in str(refused("not_upheld", "reconvene"))


def test_once_recorded_it_is_no_longer_the_professionals_to_change() -> None:
    for action in ("withdraw", "amend"):
        msg = str(refused("recorded", action))
        assert "until the chair records it" in msg
        assert "what can be done now: uphold it and reconvene the conference, decide not to uphold it" in msg


def test_already_done() -> None:
    assert str(refused("recorded", "record")).startswith("The dissent is already recorded")
    assert str(refused("upheld", "uphold")).startswith("The dissent is already upheld")
    assert str(refused("withdrawn", "withdraw")).startswith("The dissent is already withdrawn")
    assert "nothing more can be done: the dissent is declined by the chair as late" in str(
        refused("declined", "record", late=True)
    )


def test_unknown_state_or_action() -> None:
    assert "unknown dissent action 'approve'" in str(refused("raised", "approve"))
    assert "what can be done now: record it" in str(refused("raised", "approve"))
    assert "unknown dissent state 'lost'" in str(refused("lost", "record"))
    assert dissent_actions("lost", True) == ()


def test_a_whole_life() -> None:
    state = "raised"
    for action in ("amend", "amend", "record", "uphold", "reconvene"):
        state = dissent_transition(state, action, late=False)
    assert state == "reconvened"
    state = dissent_transition(dissent_transition("raised", "record", True), "not_uphold", True)
    assert state == "not_upheld"


def test_open_and_decided() -> None:
    opened = {s for s in ALL_STATES if is_open(s)}
    decided = {s for s in ALL_STATES if is_decided(s)}
    assert opened == {"raised", "recorded"}
    assert decided == {"declined", "upheld", "not_upheld", "reconvened"}
    assert not is_open("withdrawn") and not is_decided("withdrawn")
