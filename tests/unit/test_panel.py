"""Panel composition against the packs' [panel] rules, each refusal citing its source."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from casework.errors import InvalidInput, PanelCompositionError
from casework.packs import Area
from casework.panel import Involvement, PanelMember, check_panel, involvement, panel_rules, replace_member
from casework.records import Attendee, CaseFile, Conference, Dissent, Person

HELD = datetime(2027, 1, 4, 10, tzinfo=UTC)


@pytest.fixture()
def case() -> tuple[CaseFile, dict[str, Person]]:
    conf = Conference(
        reference="CPC-42",
        area="sussex",
        type="initial",
        held_at=HELD,
        chair_id="chair-1",
        attendees=(
            Attendee("sw-1", "social_care"),
            Attendee("sw-2", "social_care"),
            Attendee("pc-1", "police"),
            Attendee("hv-1", "health"),
        ),
    )
    dissent = Dissent(1, "CPC-42", "pc-1", "police", "reason given at length", HELD)
    people = {
        "chair-1": Person("chair-1", "chair@example.org", agency="local_authority", line_manager_id="ho-1"),
        "sw-1": Person("sw-1", "sw1@example.org", agency="social_care", line_manager_id="tm-1"),
        "sw-2": Person("sw-2", "sw2@example.org", agency="social_care", line_manager_id="tm-1"),
        "pc-1": Person("pc-1", "pc1@example.org", agency="police", line_manager_id="sgt-1"),
        "hv-1": Person("hv-1", "hv1@example.org", agency="health"),
    }
    return CaseFile(conf, (), (dissent,), ()), people


def test_involvement_counts_agencies_and_finds_line_managers(case: tuple[CaseFile, dict[str, Person]]) -> None:
    cf, people = case
    inv = involvement(cf, people, declared_line_managers=["old-tm"])
    # social care: two attendees; police: an attendee and a dissent; health: one; local authority: the chair.
    assert dict(inv.agencies) == {"local_authority": 1, "social_care": 2, "police": 2, "health": 1}
    assert inv.line_managers["tm-1"] == "line manager of an attendee (social_care)"
    assert inv.line_managers["ho-1"] == "line manager of the conference chair"
    assert inv.line_managers["sgt-1"] == "line manager of an attendee (police)"
    assert "old-tm" in inv.line_managers
    assert inv.participants == {"chair-1", "sw-1", "sw-2", "pc-1", "hv-1"}


def test_a_good_panel_gets_the_least_involved_agency_as_chair(
    areas: dict[str, Area], case: tuple[CaseFile, dict[str, Person]]
) -> None:
    cf, people = case
    inv = involvement(cf, people)
    members = [
        PanelMember("sm-police", "police"),
        PanelMember("sm-health", "health"),
        PanelMember("sm-education", "education"),
    ]
    res = check_panel(panel_rules(areas["sussex"]), members, inv)
    # education was not involved at all (0) < health (1) < police (2): education chairs (001 5.7.24).
    assert res.chair.person_id == "sm-education" and res.chair_suggested and res.least_involved == "education"
    assert res.warnings == ()


def test_every_broken_rule_is_refused_with_its_citation(
    areas: dict[str, Area], case: tuple[CaseFile, dict[str, Person]]
) -> None:
    cf, people = case
    inv = involvement(cf, people)
    members = [PanelMember("tm-1", "social_care"), PanelMember("x-1", "voluntary")]
    with pytest.raises(PanelCompositionError) as err:
        check_panel(panel_rules(areas["sussex"]), members, inv)
    problems = err.value.problems
    assert len(problems) == 3
    assert problems[0] == "a panel needs at least 3 members; 2 proposed [001_554f9f91afccd8e1.txt 5.7.23]"
    assert (
        "at least 2 members must come from different agencies among police, social care, education, health"
        in (problems[1])
    )
    assert problems[1].endswith("proposed: social care [001_554f9f91afccd8e1.txt 5.7.25]")
    assert problems[2].startswith("tm-1 has line-management responsibility for the case (line manager of an attendee")
    assert problems[2].endswith("[001_554f9f91afccd8e1.txt 5.7.25]")
    assert "5.7.23" in str(err.value) and "the proposed panel breaks the area's rules" in str(err.value)


def test_two_members_of_one_required_agency_count_once(areas: dict[str, Area]) -> None:
    inv = Involvement({}, {})
    members = [PanelMember("a", "health"), PanelMember("b", "health"), PanelMember("c", "voluntary")]
    with pytest.raises(PanelCompositionError, match="different agencies"):
        check_panel(panel_rules(areas["hipps"]), members, inv)
    ok = check_panel(panel_rules(areas["hipps"]), [*members[:2], PanelMember("c", "police")], inv)
    assert ok.chair.person_id == "a"  # nothing involved: the first proposed chairs


def test_oxfordshire_needs_all_three_named_agencies(areas: dict[str, Area]) -> None:
    inv = Involvement({}, {})
    rules = panel_rules(areas["oxfordshire"])
    with pytest.raises(PanelCompositionError, match=r"002_9e481681acd141e8.txt 1b"):
        check_panel(rules, [PanelMember("a", "police"), PanelMember("b", "health"), PanelMember("c", "education")], inv)
    check_panel(rules, [PanelMember("a", "police"), PanelMember("b", "health"), PanelMember("c", "social_care")], inv)


def test_a_chair_from_a_more_involved_agency_is_a_warning_not_a_refusal(
    areas: dict[str, Area], case: tuple[CaseFile, dict[str, Person]]
) -> None:
    cf, people = case
    inv = involvement(cf, people)
    members = [PanelMember("sm-police", "police"), PanelMember("sm-health", "health"), PanelMember("e", "education")]
    res = check_panel(panel_rules(areas["sussex"]), members, inv, chair_id="sm-police")
    assert res.chair.person_id == "sm-police" and not res.chair_suggested
    (warning,) = res.warnings
    assert "should normally chair it [001_554f9f91afccd8e1.txt 5.7.24]" in warning


def test_duplicates_unknown_agencies_and_a_chair_off_the_panel_are_refused(areas: dict[str, Area]) -> None:
    inv = Involvement({}, {})
    members = [
        PanelMember("a", "police"),
        PanelMember("a", "police"),
        PanelMember("b", "nasa"),
        PanelMember("c", "health"),
    ]
    with pytest.raises(PanelCompositionError) as err:
        check_panel(panel_rules(areas["sussex"]), members, inv, chair_id="zz")
    text = str(err.value)
    assert "a is proposed twice" in text and "'nasa' is not one of" in text and "chair zz is not one of" in text


def test_a_member_who_took_part_is_warned_about(
    areas: dict[str, Area], case: tuple[CaseFile, dict[str, Person]]
) -> None:
    cf, people = case
    inv = involvement(cf, people)
    members = [PanelMember("hv-1", "health"), PanelMember("p", "police"), PanelMember("e", "education")]
    res = check_panel(panel_rules(areas["sussex"]), members, inv)
    assert any("hv-1 took part in the case" in w for w in res.warnings)


def test_replacing_a_member_rechecks_and_keeps_the_chair(areas: dict[str, Area]) -> None:
    inv = Involvement({"police": 1}, {"tm-9": "line manager of an attendee (police)"})
    rules = panel_rules(areas["sussex"])
    current = check_panel(
        rules, [PanelMember("p", "police"), PanelMember("h", "health"), PanelMember("e", "education")], inv
    )
    assert current.chair.person_id == "h"
    swapped = replace_member(rules, current.members, "e", PanelMember("v", "voluntary"), inv, current.chair.person_id)
    assert [m.person_id for m in swapped.members] == ["p", "h", "v"] and swapped.chair.person_id == "h"
    with pytest.raises(PanelCompositionError, match="tm-9 has line-management"):
        replace_member(rules, current.members, "e", PanelMember("tm-9", "police"), inv)
    new_chair = replace_member(rules, current.members, "h", PanelMember("h2", "health"), inv, "h")
    assert new_chair.chair.person_id == "h2"
    with pytest.raises(InvalidInput):
        replace_member(rules, current.members, "nobody", PanelMember("x", "health"), inv)


def test_an_area_without_a_panel_says_so(areas: dict[str, Area]) -> None:
    with pytest.raises(InvalidInput, match="sets no inter-agency panel"):
        panel_rules(areas["london"])
