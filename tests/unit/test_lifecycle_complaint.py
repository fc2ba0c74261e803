"""The complaint lifecycle of every area, against orders worked out by reading the seeds.

The tables below were written from the seed paragraphs, not from the packs: 001 5.7.12-5.7.39
(Pan-Sussex), 000 §3 and §5 (4LSCB; Hampshire inherits), 002 1a-1d (Oxfordshire), 004 8.17 (London)
and SI 2006/1738 regs 14-21 (england-statutory). City and Hackney's 003 has no family complaints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from casework.citations import cite_text
from casework.errors import CaseworkError
from casework.lifecycle import StepNotValid
from casework.lifecycle.complaint import check_complaint_step, check_complaint_withdrawal, complaint_steps
from casework.lifecycle.spec import DEFAULT_LIFECYCLE
from casework.packs import Area, build_area, resolve_packs

S1 = "001_554f9f91afccd8e1.txt"
PAN_SUSSEX = "Pan-Sussex Child Protection and Safeguarding Procedures"

RECEIVED, S1M = "complaint_received", "stage1_meeting_held"
S1S, S1R = "stage1_response_sent", "stage1_response_received"
S2Q, S2M, S2S, S2R = "stage2_requested", "stage2_meeting_held", "stage2_letter_sent", "stage2_letter_received"
S3Q, PANEL, LETTER, CLOSED = "stage3_requested", "panel_held", "panel_letter_sent", "closed"
REPORT, AUTHORITY = "panel_report_received", "authority_response_sent"
UNIVERSE = (RECEIVED, S1M, S1S, S1R, S2Q, S2M, S2S, S2R, S3Q, PANEL, LETTER, CLOSED, REPORT, AUTHORITY)

# After the last step recorded (None: nothing yet), which steps the seed allows next (first round);
# nothing after "closed".
SUSSEX: Mapping[str | None, set[str]] = {
    None: {RECEIVED},
    RECEIVED: {S1M},  # 5.7.14 the chair meets the complainant
    S1M: {S1S},  # 5.7.16 within a further 10 working days, a written response
    S1S: {S2Q, CLOSED},  # 5.7.16 how to pursue concerns further; 5.7.19 Stage 2 meeting
    S2Q: {S2M},  # 5.7.19
    S2M: {S2S},  # 5.7.21 following the meeting, a letter
    S2S: {S2R, S3Q, CLOSED},  # 5.7.21 right to Stage 3; 5.7.23 receipt of the Stage 2 letter
    S2R: {S3Q, CLOSED},
    S3Q: {PANEL},  # 5.7.23, 5.7.28
    PANEL: {LETTER},  # 5.7.30
    LETTER: {PANEL, CLOSED},  # 5.7.39 the same panel re-convened; 5.7.37 no further process
}
HIPPS: Mapping[str | None, set[str]] = {
    None: {RECEIVED},
    RECEIVED: {S1M},  # §3 Stage 1 meet and / or speak with the complainant
    S1M: {S1S},  # within a further ten working days
    S1S: {S1R, S2Q, CLOSED},  # §3 Stage 2 within 28 days of receipt of the Stage 1 letter
    S1R: {S2Q, CLOSED},
    S2Q: {PANEL},  # Stage 2 is the panel
    PANEL: {LETTER},  # within ten working days of its meeting
    LETTER: {PANEL, CLOSED},  # §5 the same panel may re-convene
}
OXFORDSHIRE: Mapping[str | None, set[str]] = {
    None: {RECEIVED},
    RECEIVED: {S1S},  # 1a/1b to the chair in the first instance (no meeting named)
    S1S: {S2Q, CLOSED},  # passed to the Service Manager for Quality Assurance if dissatisfied
    S2Q: {S2S, S3Q},  # SMQA resolves / adjudicates, or requests the panel (1b)
    S2S: {S3Q, CLOSED},
    S3Q: {PANEL},  # the County Council Complaints Team convenes it
    PANEL: {LETTER, CLOSED},  # the seed names no letter: 1d the end result
    LETTER: {CLOSED},
}
LONDON: Mapping[str | None, set[str]] = {
    None: {RECEIVED},
    RECEIVED: {S1S},  # 8.17.2 addressed to the chair
    S1S: {S2Q, CLOSED},  # 8.17.4 status quo with an explanation, or the panel (8.17.7)
    S2Q: {PANEL},
    PANEL: {LETTER},
    LETTER: {PANEL, CLOSED},  # 8.17.10 remaining concerns reviewed
}
ENGLAND: Mapping[str | None, set[str]] = {
    None: {RECEIVED},
    RECEIVED: {S1S, S2Q},  # reg 14 local resolution, or Stage 2 without it
    S1S: {S2Q, CLOSED},
    S2Q: {S2S},  # reg 17
    S2S: {S2R, S3Q, CLOSED},  # reg 18: 20 working days to ask for a panel
    S2R: {S3Q, CLOSED},
    S3Q: {PANEL},  # reg 19
    PANEL: {LETTER},  # reg 20
    LETTER: {REPORT, AUTHORITY},  # reg 21: the authority must respond; no outcome before that
    REPORT: {AUTHORITY},
    AUTHORITY: {CLOSED},
}
TABLES = {"sussex": SUSSEX, "hipps": HIPPS, "hampshire": HIPPS, "oxfordshire": OXFORDSHIRE, "london": LONDON}
TABLES["england-statutory"] = ENGLAND

# Whole orders each seed allows, first round only (the re-convened panel is tested below).
PATHS: Mapping[str, tuple[tuple[str, ...], ...]] = {
    "sussex": (
        (RECEIVED, S1M, S1S, CLOSED),
        (RECEIVED, S1M, S1S, S2Q, S2M, S2S, CLOSED),
        (RECEIVED, S1M, S1S, S2Q, S2M, S2S, S2R, CLOSED),
        (RECEIVED, S1M, S1S, S2Q, S2M, S2S, S2R, S3Q, PANEL, LETTER, CLOSED),
        (RECEIVED, S1M, S1S, S2Q, S2M, S2S, S3Q, PANEL, LETTER, CLOSED),
    ),
    "hipps": (
        (RECEIVED, S1M, S1S, CLOSED),
        (RECEIVED, S1M, S1S, S1R, CLOSED),
        (RECEIVED, S1M, S1S, S1R, S2Q, PANEL, LETTER, CLOSED),
        (RECEIVED, S1M, S1S, S2Q, PANEL, LETTER, CLOSED),
    ),
    "oxfordshire": (
        (RECEIVED, S1S, CLOSED),
        (RECEIVED, S1S, S2Q, S2S, CLOSED),
        (RECEIVED, S1S, S2Q, S3Q, PANEL, CLOSED),
        (RECEIVED, S1S, S2Q, S2S, S3Q, PANEL, LETTER, CLOSED),
    ),
    "london": ((RECEIVED, S1S, CLOSED), (RECEIVED, S1S, S2Q, PANEL, LETTER, CLOSED)),
    "england-statutory": (
        (RECEIVED, S1S, CLOSED),
        (RECEIVED, S2Q, S2S, CLOSED),
        (RECEIVED, S1S, S2Q, S2S, S2R, S3Q, PANEL, LETTER, REPORT, AUTHORITY, CLOSED),
        (RECEIVED, S1S, S2Q, S2S, S3Q, PANEL, LETTER, AUTHORITY, CLOSED),
    ),
}
PATHS = {**PATHS, "hampshire": PATHS["hipps"]}


def expected_after(area_id: str, prefix: Sequence[str]) -> set[str]:
    last = prefix[-1] if prefix else None
    return set() if last == CLOSED else TABLES[area_id][last]


def allowed(area: Area, recorded: Sequence[str]) -> set[str]:
    return {s.event for s in complaint_steps(area, recorded)}


def refusal(area: Area, recorded: Sequence[str], event: str, check: Any = check_complaint_step) -> StepNotValid:
    with pytest.raises(StepNotValid) as info:
        check(area, recorded, event)
    return info.value


@pytest.mark.parametrize("area_id", sorted(PATHS))
def test_every_seed_order_is_accepted_step_by_step(areas: dict[str, Area], area_id: str) -> None:
    area = areas[area_id]
    seed = "SI 2006/1738" if area_id == "england-statutory" else area.seed
    for path in PATHS[area_id]:
        for i, event in enumerate(path):
            prefix = path[:i]
            assert allowed(area, prefix) == expected_after(area_id, prefix), (area_id, prefix)
            check_complaint_step(area, prefix, event)
            for s in complaint_steps(area, prefix):  # plain-English titles, each citing the seed
                assert s.title[0].isupper() and "_" not in s.title and seed in s.source
        assert allowed(area, path) == set()


@pytest.mark.parametrize("area_id", sorted(PATHS))
def test_every_other_step_is_refused_naming_the_next(areas: dict[str, Area], area_id: str) -> None:
    area = areas[area_id]
    for path in PATHS[area_id]:
        for i in range(len(path) + 1):
            prefix = path[:i]
            expected = expected_after(area_id, prefix)
            steps = complaint_steps(area, prefix)
            for event in set(UNIVERSE) - expected:
                err = refusal(area, prefix, event)
                assert isinstance(err, CaseworkError)
                assert set(err.allowed) == expected
                for s in steps:  # each next step cited by its procedure's name, never its seed file
                    assert f"{s.title} ({cite_text(s.source, area)})" in str(err), (area_id, prefix, event)
                    assert ".txt" not in str(err), (area_id, prefix, event)
                if not expected:
                    assert "closed" in str(err)


def test_the_brief_example_message(areas: dict[str, Area]) -> None:
    err = refusal(areas["sussex"], [RECEIVED], S2R)
    assert str(err) == (
        f"Stage 2 letter received cannot be recorded yet: the next step is Stage 1 meeting held ({PAN_SUSSEX}, 5.7.14)"
    )
    assert err.step == S2R and err.allowed == (S1M,)


def test_several_next_steps_are_all_named(areas: dict[str, Area]) -> None:
    err = refusal(areas["sussex"], [RECEIVED, S1M, S1S], PANEL)
    assert str(err) == (
        "Panel held cannot be recorded yet: the next step is one of: "
        f"Stage 2 requested ({PAN_SUSSEX}, 5.7.16, 5.7.19); "
        f"Complaint closed with its outcome ({PAN_SUSSEX}, 5.7.10, 5.7.16, 5.7.21, 5.7.32, 5.7.37)"
    )


def test_a_step_twice_is_refused(areas: dict[str, Area]) -> None:
    err = refusal(areas["sussex"], [RECEIVED, S1M], S1M)
    assert str(err) == (
        f"Stage 1 meeting held is already recorded; the next step is Stage 1 response sent ({PAN_SUSSEX}, 5.7.16)"
    )
    for area_id in ("hipps", "oxfordshire", "london", "england-statutory"):
        assert "already recorded" in str(refusal(areas[area_id], [RECEIVED], RECEIVED))


def test_nothing_after_closed(areas: dict[str, Area]) -> None:
    for area_id, paths in PATHS.items():
        done = paths[0]
        assert done[-1] == CLOSED
        assert complaint_steps(areas[area_id], done) == ()
        for event in UNIVERSE:
            msg = str(refusal(areas[area_id], done, event))
            assert "closed" in msg and ("nothing follows" in msg or "nothing more" in msg)


def test_a_step_the_area_does_not_offer(areas: dict[str, Area]) -> None:
    # Pan-Sussex names no receipt of the Stage 1 letter; Oxfordshire and London no Stage 1 meeting.
    err = refusal(areas["sussex"], [RECEIVED, S1M, S1S], S1R)
    assert str(err).startswith("Stage 1 response received is not a step of the complaints procedure in Pan-Sussex")
    assert "Stage 2 requested" in str(err)
    for area_id in ("oxfordshire", "london", "england-statutory"):
        assert "is not a step" in str(refusal(areas[area_id], [RECEIVED], S1M))
    assert "is not a step" in str(refusal(areas["hipps"], [RECEIVED, S1M, S1S], S2M))


def test_skips_only_where_the_pack_allows(areas: dict[str, Area]) -> None:
    # Stage 2 without Stage 1: only the statutory procedure, with its own citation.
    for area_id in ("sussex", "hipps", "hampshire", "oxfordshire", "london"):
        assert "cannot be recorded yet" in str(refusal(areas[area_id], [RECEIVED], S2Q))
    skip = next(s for s in complaint_steps(areas["england-statutory"], [RECEIVED]) if s.event == S2Q)
    assert "without local resolution" in skip.source
    # ... and then local resolution is past: "now", not "yet".
    err = refusal(areas["england-statutory"], [RECEIVED, S2Q], S1S)
    assert "Stage 1 (local resolution) response sent cannot be recorded now" in str(err)
    # A panel requested without a Stage 2 letter: only Oxfordshire's SMQA (002 1b).
    assert "cannot be recorded yet" in str(refusal(areas["sussex"], [RECEIVED, S1M, S1S, S2Q], S3Q))
    assert "cannot be recorded yet" in str(refusal(areas["england-statutory"], [RECEIVED, S2Q], S3Q))
    check_complaint_step(areas["oxfordshire"], [RECEIVED, S1S, S2Q], S3Q)
    # Straight to a panel from receipt: nowhere.
    for area_id in PATHS:
        refusal(areas[area_id], [RECEIVED], PANEL)


def test_an_outcome_only_when_the_process_allows_one(areas: dict[str, Area]) -> None:
    for area_id in PATHS:
        refusal(areas[area_id], [], CLOSED)
        refusal(areas[area_id], [RECEIVED], CLOSED)  # no outcome before a written response
    refusal(areas["sussex"], [RECEIVED, S1M], CLOSED)
    refusal(areas["sussex"], [RECEIVED, S1M, S1S, S2Q, S2M, S2S, S3Q, PANEL], CLOSED)
    # Statutory Stage 3: the panel's report is not the outcome; the authority's response is (reg 21).
    err = refusal(areas["england-statutory"], [RECEIVED, S1S, S2Q, S2S, S3Q, PANEL, LETTER], CLOSED)
    assert (
        "Authority's response to the panel's recommendations sent "
        "(The Children Act 1989 Representations Procedure (England) Regulations 2006, reg 21)"
    ) in str(err)


def test_the_same_panel_may_reconvene_once(areas: dict[str, Area]) -> None:
    cites = {"sussex": "5.7.39", "hipps": "§5", "hampshire": "§5", "london": "8.17.10"}
    for area_id in cites:
        area, first = areas[area_id], PATHS[area_id][-1][:-1]
        assert first[-2:] == (PANEL, LETTER)
        again = next(s for s in complaint_steps(area, first) if s.event == PANEL)
        assert cites[area_id] in again.source
        second = (*first, PANEL)
        assert allowed(area, second) == {LETTER}
        assert allowed(area, (*second, LETTER)) == {CLOSED}
        assert "already recorded" in str(refusal(area, (*second, LETTER), PANEL))
        check_complaint_step(area, (*second, LETTER), CLOSED)
    for area_id in ("oxfordshire", "england-statutory"):  # no re-convened panel in 002 or the regulations
        path = PATHS[area_id][-1][:-1]
        assert PANEL not in allowed(areas[area_id], path)


def test_other_events_of_the_case_are_ignored(areas: dict[str, Area]) -> None:
    area = areas["england-statutory"]
    noisy = ["conference_held", "minutes_received", RECEIVED, "stage1_extended", "dissent_raised"]
    assert allowed(area, noisy) == ENGLAND[RECEIVED]
    check_complaint_step(area, noisy, S1S)


def test_city_and_hackney_has_none_and_hampshire_inherits(areas: dict[str, Area]) -> None:
    area = areas["city-hackney"]
    assert complaint_steps(area, []) == ()
    err = refusal(area, [], RECEIVED)
    assert "City and Hackney has no complaints process for children and families" in str(err)
    assert "City and Hackney Safeguarding Children Board: Child Protection Conference Complaints" in str(err)
    assert "003_0821576c46541519" not in str(err) and "004" not in str(err)  # by name; the note names London's
    assert areas["hampshire"].complaint_lifecycle == areas["hipps"].complaint_lifecycle  # inherited (extends)


# ------------------------------------------------------------------------------------ withdrawal


def withdrawal(area: Area, recorded: Sequence[str], event: str) -> StepNotValid:
    return refusal(area, recorded, event, check_complaint_withdrawal)


def test_withdrawal_refused_while_a_later_step_depends_on_it(areas: dict[str, Area]) -> None:
    area = areas["sussex"]
    err = withdrawal(area, [RECEIVED, S1M, S1S], S1M)
    assert str(err) == (
        "Stage 1 meeting held cannot be withdrawn: Stage 1 response sent, recorded after it, depends on it "
        f"({PAN_SUSSEX}, 5.7.16); withdraw Stage 1 response sent first"
    )
    assert err.depends == S1S
    assert withdrawal(area, [RECEIVED, S1M, S1S], RECEIVED).depends == S1M
    check_complaint_withdrawal(area, [RECEIVED, S1M, S1S], S1S)


def test_withdrawing_latest_first_always_works(areas: dict[str, Area]) -> None:
    for area_id, paths in PATHS.items():
        for path in paths:
            recorded = list(path)
            while recorded:
                check_complaint_withdrawal(areas[area_id], recorded, recorded[-1])
                recorded.pop()


def test_an_optional_step_may_be_withdrawn_from_the_middle(areas: dict[str, Area]) -> None:
    # The Stage 2 request follows the Stage 1 letter whether or not its receipt was recorded (000 §3).
    check_complaint_withdrawal(areas["hipps"], [RECEIVED, S1M, S1S, S1R, S2Q], S1R)
    check_complaint_withdrawal(areas["sussex"], [RECEIVED, S1M, S1S, S2Q, S2M, S2S, S2R, S3Q], S2R)
    # The statutory Stage 2 may follow receipt directly, so local resolution may be withdrawn under it.
    check_complaint_withdrawal(areas["england-statutory"], [RECEIVED, S1S, S2Q], S1S)
    assert withdrawal(areas["oxfordshire"], [RECEIVED, S1S, S2Q], S1S).depends == S2Q


def test_withdrawal_of_a_repeated_step_takes_the_latest_and_of_nothing_is_refused(areas: dict[str, Area]) -> None:
    area = areas["hipps"]
    twice = [RECEIVED, S1M, S1S, S2Q, PANEL, LETTER, PANEL, LETTER]
    assert withdrawal(area, twice, PANEL).depends == LETTER
    check_complaint_withdrawal(area, twice, LETTER)
    err = withdrawal(areas["sussex"], [RECEIVED], S1M)
    assert str(err) == "Stage 1 meeting held is not recorded for this complaint, so there is nothing to withdraw"


# ------------------------------------------------------------------------------------ pack format


RULE = {"id": "r1", "process": "complaint", "kind": "duty", "title": "t", "within": "10 working days"}
RULE |= {"of": RECEIVED, "completed_by": S1M, "responsible": "chair", "source": f"{S1} 5.7.14"}


def pack(lifecycle: Any = None, events: Sequence[str] = ()) -> dict[str, Any]:
    head = {"id": "x", "name": "X", "nation": "ENG", "seed": "001", "events": list(events)}
    return {"area": head, "rules": [RULE]} | ({"lifecycle": lifecycle} if lifecycle is not None else {})


def step(event: str, after: Sequence[str], **more: Any) -> dict[str, Any]:
    return {"event": event, "after": list(after), "source": f"{S1} 5.7.x", **more}


def errors_of(raw: dict[str, Any]) -> list[str]:
    _, errs = build_area(raw, "x.toml")
    return [str(e) for e in errs]


def test_a_pack_that_says_nothing_gets_the_default() -> None:
    area, errs = build_area(pack(), "x.toml")
    assert errs == [] and area is not None
    assert area.complaint_lifecycle is DEFAULT_LIFECYCLE
    assert allowed(area, []) == {RECEIVED}
    assert allowed(area, [RECEIVED]) == {S1M}
    assert allowed(area, [RECEIVED, S1M, S1S]) == {S1R, S2Q, CLOSED}
    assert allowed(area, [RECEIVED, S1M, S1S, S2Q]) == {PANEL}


def test_the_default_lifecycle_is_itself_a_valid_pack_table() -> None:
    steps = [{"event": t.event, "after": list(t.after), "source": t.source} for t in DEFAULT_LIFECYCLE.transitions]
    assert errors_of(pack({"complaint": {"source": DEFAULT_LIFECYCLE.source, "steps": steps}})) == []


def test_a_child_pack_inherits_or_replaces_its_parents_lifecycle() -> None:
    own = {"complaint": {"source": f"{S1} 5.7", "steps": [step(RECEIVED, []), step(CLOSED, [RECEIVED])]}}
    parent = pack(own)
    child = {"area": {"id": "y", "name": "Y", "seed": "001", "extends": "x"}}
    areas, errs = resolve_packs({"x": (parent, "x.toml"), "y": (child, "y.toml")})
    assert errs == [] and allowed(areas["x"], [RECEIVED]) == {CLOSED}
    assert areas["y"].complaint_lifecycle == areas["x"].complaint_lifecycle
    other = {"complaint": {"source": "s", "steps": [step(RECEIVED, []), step(S1M, [RECEIVED]), step(CLOSED, [S1M])]}}
    areas, errs = resolve_packs({"x": (parent, "x.toml"), "y": ({**child, "lifecycle": other}, "y.toml")})
    assert errs == [] and allowed(areas["y"], [RECEIVED]) == {S1M}


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([step("nonsense", []), step(CLOSED, ["nonsense"])], "steps[0].event: expected a known event"),
        ([{"event": RECEIVED, "source": "s"}, step(CLOSED, [RECEIVED])], "steps[0].after: expected a list"),
        ([{"event": RECEIVED, "after": []}, step(CLOSED, [RECEIVED])], "steps[0].source: expected the citation"),
        ([step(RECEIVED, []), step(CLOSED, [RECEIVED]), step(S1M, [CLOSED])], "nothing follows the outcome"),
        ([step(RECEIVED, []), step(S1M, [RECEIVED])], "a 'closed' step"),
        ([step(RECEIVED, [S1M]), step(S1M, [RECEIVED]), step(CLOSED, [S1M])], "a first step (after = [])"),
        ([step(RECEIVED, []), step(CLOSED, [RECEIVED]), step(S1M, [S2Q])], "not 'stage2_requested'"),
        ([step(RECEIVED, []), step(CLOSED, [RECEIVED]), step(S1M, [S1S]), step(S1S, [S1M])], "reachable"),
        ([step(RECEIVED, []), step(CLOSED, [])], "the steps after which the seed allows an outcome"),
        ([step(RECEIVED, [], times=0), step(CLOSED, [RECEIVED])], "steps[0].times"),
        ([step(RECEIVED, [], colour="red"), step(CLOSED, [RECEIVED])], "steps[0].colour: expected no such key"),
        ([step(RECEIVED, []), step("own_step", [RECEIVED]), step(CLOSED, ["own_step"])], "plain-English title"),
    ],
)
def test_malformed_lifecycles_are_named(steps: list[dict[str, Any]], expected: str) -> None:
    errs = errors_of(pack({"complaint": {"source": "s", "steps": steps}}, events=["own_step"]))
    assert any(expected in e for e in errs), errs
    assert all(e.startswith("x.toml: lifecycle") for e in errs), errs


def test_malformed_tables_are_named() -> None:
    assert any("lifecycle.dissent: expected no such key" in e for e in errors_of(pack({"dissent": {}})))
    assert any("lifecycle.complaint.source" in e for e in errors_of(pack({"complaint": {"steps": []}})))
    no = {"complaint": {"offered": False, "source": "s", "steps": [step(RECEIVED, [])]}}
    errs = errors_of(pack(no))
    assert any("no steps when offered = false" in e for e in errs)
    assert any("lifecycle.complaint.note" in e for e in errs)
    area, pack_errors = build_area(pack({"complaint": {"offered": False, "source": "s", "note": "n"}}), "x.toml")
    assert pack_errors == [] and area is not None and complaint_steps(area, []) == ()
