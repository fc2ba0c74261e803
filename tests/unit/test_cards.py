"""Every card the bot can send validates against the official Adaptive Card 1.5 schema, and the
renderer escapes every value it is given."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft6Validator

from bot import complaint_views, panel_views, views
from bot.cases_view import cases_card
from bot.commands import Command, ParseError, parse
from bot.notices import decision_notice
from bot.setup_turns import conference_form_card
from cards.render import TemplateError, escape_markdown, render
from casework.audit_words import audit_lines
from casework.booking import DeclinePrompt
from casework.clock import parse_time
from casework.commands.corrections import Correctable
from casework.duties import purpose
from casework.events import Event
from casework.lifecycle.complaint import complaint_steps
from casework.overview import CaseLine, Overview
from casework.packs import Area
from casework.records import AuditEntry, CaseEvent, Complaint, Conference, Dissent, Person
from casework.references import DEFAULT_PATTERN
from casework.rules import Rule
from casework.service import CaseView, Due
from casework.slots import Slot
from casework.timeline import evaluate
from tests.card_nodes import card_nodes

SCHEMAS = Path(os.environ.get("CPC_SCHEMAS_DIR", Path(__file__).resolve().parents[2].parent / "shared" / "schemas"))
NOW = parse_time("2026-12-18T10:00")


@pytest.fixture(scope="module")
def validator() -> Draft6Validator:
    path = SCHEMAS / "adaptive-card-1.5.json"
    if not path.exists():
        pytest.fail(f"Adaptive Card schema not found at {path} (set CPC_SCHEMAS_DIR)")
    schema = json.loads(path.read_text(encoding="utf-8"))
    return Draft6Validator(schema)


def problems(validator: Draft6Validator, card: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(card)]


def a_view(areas: dict[str, Area]) -> CaseView:
    area = areas["sussex"]
    events = [
        CaseEvent("CPC-1", "conference_held", parse_time("2026-12-17T14:00")),
        CaseEvent("CPC-1", "dissent_raised", parse_time("2026-12-18T09:00")),
        CaseEvent("CPC-1", "complaint_received", parse_time("2026-12-18T09:30")),
    ]
    tls = tuple(evaluate(area, p, [Event(e.name, e.at) for e in events], NOW) for p in area.processes)
    conf = Conference("CPC-1", "sussex", "initial", held_at=events[0].at, chair_id="chair")
    complaint = Complaint(1, "CPC-1", "sussex", events[2].at, "parent", "decision")
    return CaseView(conf, area, tls, tuple(events), (DISSENT,), (complaint,), "abc123")


DISSENT = Dissent(
    7, "CPC-1", "pc", "police", "Threshold [not](http://x) **met** _here_", parse_time("2026-12-18T09:00")
)


def _rule(area: Area, rule_id: str) -> Rule:
    rule = area.rule(rule_id)
    assert rule is not None, rule_id
    return rule


PROMPT = DeclinePrompt("CPC-1", "panel", "tx-1", "pc@example.org", "pc", "required", NOW, ("cm",), name="Pat Hughes")


def offer(slots: list[Slot]) -> SimpleNamespace:
    """The parts of a SlotOffer the card reads."""
    return SimpleNamespace(
        reference="CPC-1", purpose="panel", search=SimpleNamespace(slots=slots), text=lambda: "Panel for CPC-1 [x](y)"
    )


def every_card(areas: dict[str, Area]) -> dict[str, dict[str, Any]]:
    view = a_view(areas)
    due = [Due("CPC-1", d) for t in view.timelines for d in t.deadlines]
    conf = view.conference
    return {
        "help": views.help_card(),
        "help-unregistered": views.help_card("You are not registered"),
        "result": views.result_card("Done", "It worked", facts=[("Conference", "CPC-1")]),
        "result-nofacts": views.result_card("Not done", "Refused", "Attention"),
        "dissent_form": views.dissent_form([(conf, parse_time("2026-12-20T14:00")), (conf, None)]),
        "dissent_confirmation": views.dissent_confirmation(DISSENT, parse_time("2026-12-20T14:00"), view),
        "dissent_confirmation_late": views.dissent_confirmation(
            Dissent(8, "CPC-1", "pc", "police", "reason text here", NOW, late=True), None, view
        ),
        "chair_prompt": views.chair_prompt(DISSENT, view, parse_time("2026-12-20T14:00")),
        "dissent_confirmation_group": views.dissent_confirmation(
            DISSENT, parse_time("2026-12-20T14:00"), replace(view, names={"chair": "Sam <Okafor>"}), "aad-chair"
        ),
        "decision": views.decision_card(DISSENT, view),
        "complaint_form": complaint_views.complaint_form("CPC-1", date(2026, 12, 18)),
        "complaint_form_refused": complaint_views.complaint_form(
            "CPC-1",
            date(2026, 12, 18),
            typed={"received": "2026-12-17", "complainant": "parent", "grounds": "outcome", "summary": "typed"},
            error="a complaint ... is already recorded; to record a second complaint, tick the box",
        ),
        "step_form_stage2": complaint_views.step_form(
            view, "stage2", date(2026, 12, 18), NOW, complaint_steps(view.area, ["complaint_received"])
        ),
        "step_form_panel_none_valid": complaint_views.step_form(
            view, "panel", date(2026, 12, 18), NOW, complaint_steps(view.area, ["complaint_received"])
        ),
        "step_form_refused": complaint_views.step_form(
            view,
            "stage2",
            date(2026, 12, 18),
            NOW,
            complaint_steps(view.area, ["complaint_received"]),
            typed={"date": "2026-12-17", "time": "10:30", "event": "stage1_meeting_held"},
            error="the date cannot be in the future",
        ),
        "chair_prompt_late": views.chair_prompt(
            Dissent(8, "CPC-1", "pc", "police", "reason text here", NOW, late=True), view, NOW
        ),
        "correction_form": complaint_views.correction_form(
            Correctable(conf, (CaseEvent("CPC-1", "complaint_received", NOW, "cm", 4),), "v1")
        ),
        "correction_form_empty": complaint_views.correction_form(Correctable(conf, (), "v1")),
        "outcome_form": complaint_views.outcome_form(view),
        "timeline": views.timeline_card(view, NOW),
        "timeline_with_buttons": views.timeline_card(
            view,
            NOW,
            {d.id: p for t in view.timelines for d, p in zip(t.deadlines, ("decide", "step", "done"), strict=False)},
        ),
        "deadlines": views.deadlines_card(due, NOW),
        "deadlines_empty": views.deadlines_card([], NOW),
        "audit": views.audit_card(
            "CPC-1",
            audit_lines(
                [
                    AuditEntry(11, datetime(2026, 12, 18, tzinfo=UTC), "pc", "dissent.raised", "CPC-1"),
                    AuditEntry(4, datetime(2026, 12, 17, tzinfo=UTC), "cli", "conference.added", "CPC-1"),
                ],
                {"pc": Person("pc", "pc@example.org", "Alex Wilber", "police")},
            ),
        ),
        "panel_decline": panel_views.panel_decline_card(PROMPT),
        "panel_decline_lost": panel_views.panel_decline_card(replace(PROMPT, reason="lost", person_id=None)),
        "panel_slots": panel_views.panel_slots_card(
            offer([Slot(NOW + timedelta(days=3), NOW + timedelta(days=3, hours=1))]), "tx"
        ),
        "panel_slots_none": panel_views.panel_slots_card(offer([]), "tx"),
        "notice": views.notice_card("Conference ended", "You may dissent", source="Type: dissent CPC-1 <reason>"),
        **{
            f"reminder_{rule}_{kind}_{audience}": views.reminder_card(
                "CPC-1",
                _rule(view.area, rule),
                kind,
                parse_time("2027-01-05T23:59:59"),
                audience,
                view.area,
                purpose(view.area, _rule(view.area, rule)),  # as the sweep draws it (app/drawings.py)
            )[0]
            for rule, kind, audience in [
                ("dissent-decision", "before-5", "responsible"),
                ("dissent-decision", "due", "responsible"),
                ("dissent-decision", "overdue-1", "line_manager"),
                ("dissent-window", "opened", "responsible"),
                ("stage3-request-window", "before-1", "responsible"),
                ("stage1-meeting", "before-1", "responsible"),
            ]
        },
        "reminder_met": views.reminder_met_card("CPC-1", _rule(view.area, "dissent-decision"), None, view.area),
        "cases": cases_card(_overview(view), NOW),
        "name_check": views.name_check_card("CPC-1", "Jane [Smith](x) was not seen alone"),
        "complaint_form_name": complaint_views.complaint_form("CPC-1", date(2026, 12, 18), error="x", offer_name=True),
        "cases_empty": cases_card(Overview((), (), ()), NOW),
        "conference_form": conference_form_card(
            [("sussex", "Pan-Sussex"), ("london", "London")],
            [DEFAULT_PATTERN, r"^LBH/\d{4}$"],
            date(2026, 12, 18),
            True,
        ),
        "conference_form_refused": conference_form_card(
            [("sussex", "Pan-Sussex")], [DEFAULT_PATTERN], date(2026, 12, 18), False, {"reference": "x"}, "bad [x](y)"
        ),
        **{
            f"decision_notice_{state}": decision_notice(
                replace(DISSENT, state=state), view, "Reasons [given](x) 1. here"
            )
            for state in ("upheld", "not_upheld", "declined")
        },
    }


def _overview(view: CaseView) -> Overview:
    """Every group of the overview, with enough cases in one to be cut short ("And 2 more")."""
    duties = [d for t in view.timelines for d in t.deadlines if d.rule.kind == "duty" and d.status == "pending"]
    mine = CaseLine("CPC-1", view.area.name, duties[0], tuple(Due("CPC-1", d) for d in duties[:2]))
    waiting = tuple(CaseLine(f"CPC-{n}", view.area.name, duties[-1]) for n in range(2, 14))
    return Overview((mine,), waiting, (CaseLine("CPC-99", view.area.name, None),))


#: Where Teams renders Markdown (a backslash before punctuation is an escape there) and where it
#: shows text as it is (a backslash is a visible backslash).
_MARKDOWN_KEYS = {"text", "title_fact", "value_fact"}
_VISIBLE_ESCAPE = re.compile(r"\\(?![\\`*_\[\]()~.\-+])")


def _shown_strings(node: Any, in_facts: bool = False) -> Iterator[tuple[str, str]]:
    """(kind, text) for each string Teams shows: "markdown" or "plain"."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str):
                if (key == "text" and node.get("type") == "TextBlock") or (in_facts and key in ("title", "value")):
                    yield "markdown", value
                elif key in ("title", "label", "placeholder", "errorMessage") or (key == "value" and "title" in node):
                    yield "plain", value
            else:
                yield from _shown_strings(value, in_facts=key == "facts")
    elif isinstance(node, list):
        for item in node:
            yield from _shown_strings(item, in_facts)


def test_no_markdown_escape_shows_in_any_card(areas: dict[str, Area]) -> None:
    """Issue 14 item 6: in Markdown, a backslash escapes only punctuation ("1\\." is "1."); before
    anything else it shows, as "\\1." did in the audit card. In plain text any backslash shows."""
    for name, card in every_card(areas).items():
        for kind, text in _shown_strings(card):
            if kind == "markdown":
                assert not _VISIBLE_ESCAPE.search(text), (name, text)
            else:
                assert "\\" not in text, (name, text)


def test_the_escape_check_can_fail() -> None:
    shown = dict(_shown_strings({"type": "TextBlock", "text": "\\1. Tue"}))
    assert _VISIBLE_ESCAPE.search(shown["markdown"])
    assert [
        k for k, _ in _shown_strings({"type": "Input.ChoiceSet", "choices": [{"title": "a \\(b\\)", "value": "v"}]})
    ] == [
        "plain",
        "plain",
    ]


def test_every_card_validates_against_adaptive_card_1_5(validator: Draft6Validator, areas: dict[str, Area]) -> None:
    """Each card validates once Teams' own extension (``msteams``, which the schema does not list) is
    set aside; that extension is checked for the mention form Teams documents."""
    for name, card in every_card(areas).items():
        assert card["version"] == "1.5", name
        teams = card.get("msteams")
        assert problems(validator, {k: v for k, v in card.items() if k != "msteams"}) == [], name
        if teams is not None:
            assert set(teams) == {"entities"}, name
            shown = json.dumps(card["body"])
            for entity in teams["entities"]:
                assert entity["type"] == "mention" and set(entity["mentioned"]) == {"id", "name"}, name
                assert entity["text"] == f"<at>{entity['mentioned']['name']}</at>" and entity["text"] in shown, name


def test_a_group_chat_confirmation_mentions_the_chair(areas: dict[str, Area]) -> None:
    card = every_card(areas)["dissent_confirmation_group"]
    assert card["msteams"]["entities"] == [
        {"type": "mention", "text": "<at>Sam Okafor</at>", "mentioned": {"id": "aad-chair", "name": "Sam Okafor"}}
    ]
    assert "<at>Sam Okafor</at>, as chair" in json.dumps(card["body"])


def test_the_schema_check_can_fail(validator: Draft6Validator) -> None:
    bad = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "x", "color": "Purple"}]}
    assert problems(validator, bad)


def test_user_text_is_escaped_not_interpreted(areas: dict[str, Area]) -> None:
    card = views.chair_prompt(DISSENT, a_view(areas), None)
    text = json.dumps(card)
    assert "\\\\[not\\\\]\\\\(http://x\\\\)" in text  # the link is shown, not made
    assert "\\\\*\\\\*met\\\\*\\\\*" in text


def test_actions_carry_state_and_ids_raw(areas: dict[str, Area]) -> None:
    card = views.chair_prompt(DISSENT, a_view(areas), None)
    action = card["actions"][0]
    assert action["type"] == "Action.Execute" and action["verb"] == "dissent.record"
    assert action["data"] == {"verb": "dissent.record", "dissent": 7, "state": "raised"}
    assert action["fallback"]["type"] == "Action.Submit"
    assert action["fallback"]["data"] == action["data"]


def _strings_under(node: Any, key: str) -> list[str]:
    """Every string value of ``key`` anywhere in a card."""
    if isinstance(node, dict):
        own = [node[key]] if isinstance(node.get(key), str) else []
        return own + [s for v in node.values() for s in _strings_under(v, key)]
    if isinstance(node, list):
        return [s for v in node for s in _strings_under(v, key)]
    return []


def test_choice_titles_and_input_values_are_plain_text_not_escaped() -> None:
    """Issue 14: the dissent form's choices read "CPC-123 \\(held Tue 1 Dec 2026...\\)". Teams renders
    no Markdown in choice titles, action titles or input values, so a backslash there shows; only
    TextBlock text and facts are Markdown, and there user text is still escaped."""
    conference = Conference("CPC-123", "sussex", "initial", held_at=parse_time("2026-12-01T19:30"))
    card = views.dissent_form([(conference, parse_time("2026-12-04T19:30"))])
    (choices,) = [n["choices"] for n in card["body"] if n.get("type") == "Input.ChoiceSet"]
    assert [c["title"] for c in choices] == [
        "CPC-123 (held Tue 1 Dec 2026, 19:30; window closes Fri 4 Dec 2026, 19:30)"
    ]
    assert not any("\\" in t for t in _strings_under(card, "title"))
    # Markdown places keep escaping user text.
    card = views.result_card("[x](http://y)", "*bold*", facts=[("a_b", "c(d)")])
    assert card["body"][0]["text"] == "\\[x\\]\\(http://y\\)"
    assert card["body"][2]["facts"] == [{"title": "a\\_b", "value": "c\\(d\\)"}]


def test_missing_value_is_a_template_error() -> None:
    with pytest.raises(TemplateError):
        render("result", title="x")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_keeps_the_card_valid(text: str) -> None:
    card = views.result_card(text, text, facts=[(text, text)])
    assert card["body"][0]["text"] == escape_markdown(text)
    json.dumps(card)


def test_rendering_never_changes_the_template() -> None:
    first = render("result", title="A", message="B", colour="Good", facts=[{"label": "x", "value": "y"}])
    first["body"][0]["text"] = "changed"
    first["body"].append({"type": "TextBlock", "text": "added"})
    second = render("result", title="A", message="B", colour="Good", facts=[])
    assert second["body"][0]["text"] == "A" and len(second["body"]) == 2


def test_help_offers_one_tap_commands_that_parse() -> None:
    """The welcome and help card's buttons send a command as if typed (Teams imBack); each must be one
    the bot understands, or the first tap a new user makes gets "I don't know"."""

    sent = [a["data"]["msteams"]["value"] for a in views.help_card()["actions"]]
    assert sent == ["cases", "deadlines", "dissent"]
    assert not any(isinstance(parse(text), ParseError) for text in sent)


def test_the_outcome_form_has_the_field_a_confirmed_decision_needs(areas: dict[str, Area]) -> None:
    """Issue 14: "Decision confirmed, with an explanation" had no field for the explanation."""
    form = every_card(areas)["outcome_form"]
    (box,) = [b for b in form["body"] if b.get("id") == "explanation"]
    assert box["type"] == "Input.Text" and "confirmed" in box["label"]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("<at>Bot</at> attendee add <at>Megan Bowen</at> health", Command("attendee add", None, "health")),
        ("attendee add CPC-12 <at>Megan</at> social care", Command("attendee add", "CPC-12", "social care")),
        ("Attendee Remove <at>Megan</at>", Command("attendee remove", None, "")),
        ("attendee remove CPC-12 <at>Megan</at>", Command("attendee remove", "CPC-12", "")),
        ("conference new", Command("conference new")),
        ("attendee add <at>Megan</at>", ParseError("Type: attendee add @person police")),
        ("attendee remove <at>Megan</at> health", ParseError("Type: attendee remove @person")),
        ("attendee", ParseError("Type: attendee add @person police")),
        ("conference new CPC-1", ParseError("Type: conference new")),
        ("atendee add", ParseError("Did you mean attendee? Type: attendee add @person police")),
        ("step CPC-12", ParseError("Did you mean stage2? Type: stage2 CPC-123")),
        ("timeline CPC-12", ParseError("Did you mean status? Type: status CPC-123")),
    ],
)
def test_setting_up_from_teams_parses_or_shows_the_right_form(typed: str, expected: Command | ParseError) -> None:
    # The person is the mention (read from the activity's entities by the handler), not the text.
    assert parse(typed) == expected


def _inputs_in_columns(node: Any, in_column: bool = False) -> Iterator[str]:
    if isinstance(node, dict):
        if in_column and str(node.get("type", "")).startswith("Input."):
            yield str(node.get("id"))
        inside = in_column or node.get("type") == "Column"
        for value in node.values():
            yield from _inputs_in_columns(value, inside)
    elif isinstance(node, list):
        for value in node:
            yield from _inputs_in_columns(value, in_column)


def test_no_input_shares_a_row_so_a_phone_gives_each_the_full_width(areas: dict[str, Area]) -> None:
    """Side by side in columns, a date field on a phone was cut to "December 1,": every input has a row."""
    assert list(_inputs_in_columns({"type": "Column", "items": [{"type": "Input.Date", "id": "d"}]})) == ["d"]
    crowded = {kind: ids for kind, card in every_card(areas).items() if (ids := list(_inputs_in_columns(card)))}
    assert crowded == {}


def _choice_set(card: dict[str, Any], input_id: str) -> dict[str, Any]:
    found = [n for n in card_nodes(card) if n.get("type") == "Input.ChoiceSet" and n.get("id") == input_id]
    assert len(found) == 1
    return found[0]


def test_a_step_form_with_one_possible_step_has_it_chosen(areas: dict[str, Area]) -> None:
    view = a_view(areas)
    one = complaint_steps(view.area, ["complaint_received"])  # only the Stage 1 meeting can follow
    assert [s.event for s in one] == ["stage1_meeting_held"]
    card = complaint_views.step_form(view, "stage2", date(2026, 12, 18), NOW, one)
    assert _choice_set(card, "event")["value"] == "stage1_meeting_held"
    later = complaint_steps(view.area, ["complaint_received", "stage1_meeting_held", "stage1_response_sent"])
    card = complaint_views.step_form(view, "stage2", date(2026, 12, 18), NOW, [*one, *later])
    choices = _choice_set(card, "event")
    assert len(choices["choices"]) > 1 and choices["value"] == ""  # more than one: the person chooses


def test_a_reminder_carries_the_button_that_does_the_work(areas: dict[str, Area]) -> None:
    """Issue 14 item 3: the reminder's button is the deadline's own ("Decide now", "Record: ...")."""
    cards = every_card(areas)

    def buttons(kind: str) -> list[str]:
        return [str(n["title"]) for n in card_nodes(cards[kind]) if n.get("type") == "Action.Execute"]

    assert buttons("reminder_dissent-decision_due_responsible") == ["Decide now"]
    assert buttons("reminder_stage1-meeting_before-1_responsible") == ["Record: Stage 1 meeting held"]
