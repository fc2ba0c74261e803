"""No seed file name, and no "seed", reaches a user: every card and every email the bot produces, for a
case in every area, and the refusals casework gives in Teams, cite procedures by their names.

The packs cite seed files (``001_554f9f91afccd8e1.txt 5.7.4``) in their machine-readable ``source``;
what people read is "Pan-Sussex Child Protection and Safeguarding Procedures, 5.7.4". The kinds
rendered are listed (``CARD_KINDS``, ``EMAIL_KINDS``) and every card and email template must be among
those drawn, so a kind left out shows as a failure, not as a pass.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

import cards.render
import graph.templates
from bot import complaint_views, panel_views, views
from bot.cases_view import cases_card
from bot.notices import draw_notice
from bot.setup_turns import conference_form_card
from casework.audit_words import audit_lines
from casework.booking_window import booking_window, refuse_late_end
from casework.clock import parse_time
from casework.commands.corrections import Correctable
from casework.duties import purpose
from casework.errors import CaseworkError
from casework.events import Event
from casework.invitation_responses import DeclinePrompt
from casework.invitations import event_draft
from casework.lifecycle.complaint import check_complaint_step, check_complaint_withdrawal, complaint_steps
from casework.lifecycle.dissent import ACTIONS, STATES, dissent_transition
from casework.lifecycle.spec import CLOSED
from casework.overview import CaseLine, Overview
from casework.packs import Area
from casework.panel import Involvement, PanelMember, check_panel
from casework.ports_graph import BookedInvitee, Booking
from casework.records import (
    Attendee,
    AuditEntry,
    CaseEvent,
    CaseFile,
    Complaint,
    Conference,
    Dissent,
    Notice,
    Person,
)
from casework.service import CaseView, Due
from casework.slots import Slot
from casework.timeline import evaluate
from graph.templates import Fact, Notification, decline_email, event_body_html, event_body_text, notification_email
from scheduler.digest import build_digest, render_digest

SEED_FILE = re.compile(r"\d{3}_[0-9a-f]{16}\.txt")
SEED_STEM = re.compile(r"\d{3}_[0-9a-f]{8}")
SEED_WORD = re.compile(r"\bseeds?\b", re.IGNORECASE)

ROOT = Path(__file__).resolve().parents[2]
NOW = parse_time("2027-01-13T10:00")
HELD = NOW - timedelta(days=20)
REF = "CPC-9"

CARD_KINDS = {
    "help", "result", "dissent_form", "dissent_confirmation", "dissent_confirmation_late", "chair_prompt",
    "chair_prompt_late", "decision", "complaint_form", "complaint_form_refused", "step_form_stage2",
    "step_form_panel", "step_form_refused", "correction_form", "correction_form_empty", "outcome_form",
    "timeline", "deadlines", "deadlines_empty", "audit", "notice", "panel_decline", "panel_decline_lost",
    "panel_slots", "panel_slots_none", "reminder", "reminder_met", "notice_card", "cases", "name_check",
    "conference_form",
}  # fmt: skip
EMAIL_KINDS = {
    "reminder_email", "notice_email", "digest_html", "digest_text", "decline_email_html", "decline_email_text",
    "notification_html", "notification_text", "invitation_html", "invitation_text",
}  # fmt: skip
REFUSAL_KINDS = {"complaint_step", "complaint_withdrawal", "dissent", "panel", "booking_window"}


def leaks(text: str) -> list[str]:
    """Seed file names, their stems and the word "seed" in ``text`` (Markdown and JSON escapes removed
    first: a card shows ``001\\_554f...`` as ``001_554f...``)."""
    plain = text.replace("\\", "")
    return [m.group(0) for p in (SEED_FILE, SEED_STEM, SEED_WORD) for m in p.finditer(plain)]


def start_events(area: Area) -> list[CaseEvent]:
    """The conference, then every event that starts one of the area's clocks an hour later: so that
    nearly every deadline runs, is missed or is met, and shows its citation and note."""
    names = dict.fromkeys(n for r in area.rules for n in r.start_events() if n != "conference_held")
    events = [CaseEvent(REF, "conference_held", HELD)]
    events += [CaseEvent(REF, n, HELD + timedelta(hours=1)) for n in names if n in area.events]
    return events


def view_of(area: Area, events: list[CaseEvent]) -> CaseView:
    tls = tuple(evaluate(area, p, [Event(e.name, e.at) for e in events], NOW) for p in area.processes)
    conf = Conference(REF, area.id, "initial", held_at=HELD, chair_id="chair", attendees=(Attendee("pc", "police"),))
    complaint = Complaint(1, REF, area.id, HELD + timedelta(hours=1), "parent", "decision")
    return CaseView(conf, area, tls, tuple(events), (DISSENT,), (complaint,), "v1")


DISSENT = Dissent(7, REF, "pc", "police", "The threshold was not met", HELD + timedelta(hours=1))
LATE = replace(DISSENT, id=8, late=True)
PROMPT = DeclinePrompt(REF, "panel", "tx-1", "pc@example.org", "pc", "required", NOW, ("cm",))


def offer(slots: list[Slot]) -> SimpleNamespace:
    return SimpleNamespace(reference=REF, purpose="panel", search=SimpleNamespace(slots=slots), text=lambda: "Panel")


class FakeCasework:
    """What :func:`bot.notices.draw_notice` reads of the casework service."""

    def __init__(self, view: CaseView, dissents: dict[int, Dissent]) -> None:
        self.view = replace(view, dissents=tuple(dissents.values()))

    def system_view(self, reference: str) -> CaseView:
        return self.view

    def window_due(self, conference: Conference, events: object = None) -> datetime | None:
        return NOW + timedelta(hours=5)

    def decision_reasons(self, reference: str, dissent_id: int) -> str | None:
        return "The threshold was applied correctly"


class FakeStore:
    """The parts of the case store the digest reads: one complaint case per area."""

    def __init__(self, case: CaseFile) -> None:
        self.case = case

    def complaint_cases(self, area_id: str, closed_since: datetime, received_since: datetime) -> list[str]:
        return [self.case.conference.reference]

    def load_cases(self, references: Sequence[str]) -> list[CaseFile]:
        return [self.case]

    def role_holders(self, area_id: str) -> dict[str, list[Person]]:
        return {"complaints_manager": [Person("cm", "cm@example.org", "Complaints Manager")]}

    def people_by_ids(self, person_ids: Iterable[str]) -> dict[str, Person]:
        return {pid: Person(pid, f"{pid}@example.org", pid.capitalize()) for pid in person_ids}


def cards_for(area: Area) -> Iterator[tuple[str, Any]]:
    events = start_events(area)
    view = view_of(area, events)
    conf = view.conference
    recorded = [e.name for e in events]
    steps = complaint_steps(area, ["complaint_received"])
    yield "help", views.help_card()
    yield "result", views.result_card("Done", "It worked", facts=[("Conference", REF)])
    yield "dissent_form", views.dissent_form([(conf, NOW), (conf, None)])
    yield "dissent_confirmation", views.dissent_confirmation(DISSENT, NOW, view)
    yield "dissent_confirmation_late", views.dissent_confirmation(LATE, None, view)
    yield "chair_prompt", views.chair_prompt(DISSENT, view, NOW)
    yield "chair_prompt_late", views.chair_prompt(LATE, view, None)
    yield "decision", views.decision_card(DISSENT, view)
    yield "complaint_form", complaint_views.complaint_form(REF, date(2027, 1, 13))
    yield "complaint_form_refused", complaint_views.complaint_form(REF, date(2027, 1, 13), {"summary": "x"}, "refused")
    yield "step_form_stage2", complaint_views.step_form(view, "stage2", NOW.date(), NOW, steps)
    yield "step_form_panel", complaint_views.step_form(view, "panel", NOW.date(), NOW, complaint_steps(area, recorded))
    try:
        check_complaint_step(area, ["complaint_received"], "panel_letter_sent")
        error = ""
    except CaseworkError as exc:
        error = str(exc)
    yield "step_form_refused", complaint_views.step_form(view, "stage2", NOW.date(), NOW, steps, {"event": "x"}, error)
    yield "correction_form", complaint_views.correction_form(Correctable(conf, (events[0],), "v1"))
    yield "correction_form_empty", complaint_views.correction_form(Correctable(conf, (), "v1"))
    yield "outcome_form", complaint_views.outcome_form(view)
    yield "timeline", views.timeline_card(view, NOW)
    due = [Due(REF, d, purpose=purpose(area, d.rule)) for t in view.timelines for d in t.deadlines]
    rights = [Due(REF, d, "right", "Pat") for t in view.timelines for d in t.deadlines if d.rule.kind == "window"]
    yield "deadlines", views.deadlines_card([*due, *rights], NOW)
    yield "deadlines_empty", views.deadlines_card([], NOW)
    yield "name_check", views.name_check_card(REF, "Jane Smith was not seen alone")
    yield "conference_form", conference_form_card([("sussex", area.name)], [area.reference_pattern], NOW.date(), True)
    line = CaseLine(REF, area.name, due[0].deadline, (due[0],))
    yield "cases", cases_card(Overview((line,), (replace(line, mine=()),), (replace(line, next=None),)), NOW)
    yield "audit", views.audit_card(REF, audit_lines([AuditEntry(1, NOW, "pc", "dissent.raised", REF)], {}))
    yield "notice_card", views.notice_card("Conference ended", "You may dissent", source="Type: dissent CPC-9")
    yield "panel_decline", panel_views.panel_decline_card(PROMPT)
    yield "panel_decline_lost", panel_views.panel_decline_card(replace(PROMPT, reason="lost", person_id=None))
    yield (
        "panel_slots",
        panel_views.panel_slots_card(offer([Slot(NOW + timedelta(days=3), NOW + timedelta(days=4))]), "t"),
    )
    yield "panel_slots_none", panel_views.panel_slots_card(offer([]), "t")
    for rule in area.rules:
        for kind in ("opened", "before-2", "due", "overdue-1"):
            for audience in ("responsible", "line_manager"):
                card, subject, text = views.reminder_card(REF, rule, kind, NOW, audience, area, purpose(area, rule))
                yield "reminder", card
                yield "reminder_email", f"{subject}\n{text}"
        yield "reminder_met", views.reminder_met_card(REF, rule, NOW, area)


def notices_for(area: Area) -> Iterator[tuple[str, Any]]:
    view = view_of(area, start_events(area))
    decided = {
        i: replace(DISSENT, id=i, state=s) for i, s in enumerate(("raised", "declined", "upheld", "not_upheld"), 10)
    }
    cw = cast(Any, FakeCasework(view, decided))
    kinds = ["chair_prompt", "decision_request", "dissent_withdrawn", "line_manager_notice", "complaint_logged"]
    drawn = [Notice(k, "p", REF, 10) for k in kinds] + [Notice("window_open", "p", REF)]
    drawn += [Notice("decision_made", "p", REF, i) for i in decided]
    for notice in drawn:
        card, subject, text = draw_notice(cw, notice)
        yield "notice", card
        yield "notice_email", f"{subject}\n{text}"


def emails_for(area: Area) -> Iterator[tuple[str, Any]]:
    # The digest: a complaint received long ago (its first duties overdue) and a step just taken.
    events = [CaseEvent(REF, "conference_held", HELD), CaseEvent(REF, "complaint_received", HELD + timedelta(hours=1))]
    events.append(CaseEvent(REF, "minutes_received", NOW - timedelta(days=1)))
    complaint = Complaint(1, REF, area.id, events[1].at, "parent", "decision")
    case = CaseFile(view_of(area, events).conference, tuple(events), (), (complaint,))
    digest = build_digest(cast(Any, FakeStore(case)), area, NOW, NOW - timedelta(days=1))
    complaint_rules = area.rules_for("complaint") if "complaint" in area.processes else ()
    if any(r.kind == "duty" and r.candidates and "complaint_received" in r.starts for r in complaint_rules):
        assert digest.overdue or digest.due_soon, area.id  # a dated duty is listed, so its citation is in it
    html, text = render_digest(digest)
    yield "digest_html", html
    yield "digest_text", text
    decline = decline_email(PROMPT, ("cm@example.org",))
    yield "decline_email_html", decline.html
    yield "decline_email_text", decline.text
    note = notification_email(Notification(("a@example.org",), "Subject", "Title", "Message", "k", (Fact("a", "b"),)))
    yield "notification_html", note.html
    yield "notification_text", note.text
    invitees = (BookedInvitee("m@example.org", "required", "m"),)
    booking = Booking(REF, "panel", 1, "tx", "booked", "o@example.org", NOW, NOW + timedelta(hours=1), invitees, "cm")
    draft = event_draft(booking, area)
    yield "invitation_html", event_body_html(draft)
    yield "invitation_text", event_body_text(draft)


def refusals_for(area: Area) -> Iterator[tuple[str, str]]:
    """Every refusal casework shows in Teams that cites a paragraph."""
    lc = area.complaint_lifecycle
    universe = [*lc.events, "stage1_meeting_held", "panel_held", CLOSED]
    prefixes: list[list[str]] = [[]]
    for t in lc.transitions:  # every order of one step after another the lifecycle declares
        prefixes += [[*p, t.event] for p in prefixes[-8:] if len(p) < 10]
    for prefix in prefixes:
        for event in universe:
            try:
                check_complaint_step(area, prefix, event)
            except CaseworkError as exc:
                yield "complaint_step", str(exc)
        for event in prefix:
            try:
                check_complaint_withdrawal(area, prefix, event)
            except CaseworkError as exc:
                yield "complaint_withdrawal", str(exc)
    for state in STATES:
        for action in ACTIONS:
            for late in (False, True):
                try:
                    dissent_transition(state, action, late, area)
                except CaseworkError as exc:
                    yield "dissent", str(exc)
    if area.panel is not None:
        inv = Involvement({"police": 3}, {"lm": "line manager of the chair"})
        members = [PanelMember("lm", "police"), PanelMember("lm2", "police")]
        with pytest.raises(CaseworkError) as info:
            check_panel(area.panel, members, inv, where=area)
        yield "panel", str(info.value)
        ok = [PanelMember(f"m{i}", a) for i, a in enumerate(area.panel.required_agencies or ("police",) * 3)]
        ok += [PanelMember(f"x{i}", "voluntary") for i in range(area.panel.minimum_members)]
        check = check_panel(area.panel, ok, Involvement({"voluntary": 5}, {}), chair_id="x0", where=area)
        yield "panel", "; ".join(check.warnings)
    case_events = [Event(e.name, e.at) for e in start_events(area)]
    for purpose_id in ("panel", "stage2-meeting"):
        window = booking_window(area, case_events, NOW, purpose_id)
        yield "booking_window", window.explanation
        if window.latest_end is not None:
            with pytest.raises(CaseworkError) as info:
                refuse_late_end(window, window.latest_end + timedelta(days=1), None)
            yield "booking_window", str(info.value)


@pytest.fixture()
def drawn_templates(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The card and email templates drawn while the test runs."""
    names: set[str] = set()
    load, render = cards.render._load, graph.templates.render

    def recording_load(name: str) -> Callable[..., Any]:
        names.add(f"cards/{name}")
        return load(name)

    def recording_render(name: str, values: Any) -> str:
        names.add(f"graph/{name}")
        return render(name, values)

    monkeypatch.setattr(cards.render, "_load", recording_load)
    monkeypatch.setattr(graph.templates, "render", recording_render)
    return names


def everything(area: Area) -> Iterator[tuple[str, str, str]]:
    """(group, kind, serialised text) of every card, email and refusal for a case in ``area``."""
    for items in (cards_for(area), notices_for(area), emails_for(area)):
        for kind, payload in items:
            text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
            yield ("card" if isinstance(payload, dict) else "email"), kind, text
    for kind, text in refusals_for(area):
        yield "refusal", kind, text


def test_no_seed_file_name_in_any_card_email_or_refusal(areas: dict[str, Area], drawn_templates: set[str]) -> None:
    rendered: dict[str, set[str]] = {"card": set(), "email": set(), "refusal": set()}
    found: list[str] = []
    for area in areas.values():
        shown: list[str] = []
        for group, kind, text in everything(area):
            rendered[group].add(kind)
            found += [f"{area.id} {group} {kind}: {leak}" for leak in leaks(text)]
            shown.append(text.replace("\\", ""))
        assert area.document is not None and area.document.title in "".join(shown), area.id  # cited by name
    assert found == []
    # Every kind was drawn: a new card or email must be added here to be checked.
    assert rendered == {"card": CARD_KINDS, "email": EMAIL_KINDS, "refusal": REFUSAL_KINDS}
    card_templates = {f"cards/{p.stem}" for p in (ROOT / "cards" / "templates").glob("*.json")}
    email_templates = {f"graph/{p.name}" for p in (ROOT / "graph" / "templates").glob("*.j2")}
    assert drawn_templates == card_templates | email_templates
    assert {p.name for p in (ROOT / "scheduler" / "templates").iterdir()} == {"digest.html", "digest.txt"}


def test_the_check_can_fail(areas: dict[str, Area]) -> None:
    # The packs do cite seed files, so a card showing a raw source would be caught.
    for area in areas.values():
        if area.id != "england-statutory":  # it cites the regulations
            assert all(SEED_FILE.match(r.source) for r in area.rules), area.id
    raw = views.notice_card("Rule", "x", source=areas["sussex"].rules[0].source)
    assert leaks(json.dumps(raw)) == ["001_554f9f91afccd8e1.txt", "001_554f9f91"]
    assert leaks("The seed gives two limits") == ["seed"]
    # ... and the same rule, as the reminder card shows it, names the procedure and links it.
    card, _, text = views.reminder_card(REF, areas["sussex"].rules[0], "due", NOW, "responsible", areas["sussex"])
    assert "[Pan-Sussex Child Protection and Safeguarding Procedures, 5.7.4](http://sussexchildprotection" in (
        json.dumps(card)
    )
    assert "Rule: Pan-Sussex Child Protection and Safeguarding Procedures, 5.7.4 <http://" in text


def test_the_outcome_card_cites_only_the_cases_own_procedure(areas: dict[str, Area]) -> None:
    for area in areas.values():
        if not area.complaint_lifecycle.offered:
            continue
        card = json.dumps(complaint_views.outcome_form(view_of(area, start_events(area))))
        others = {d.title for k, d in area.documents.items() if k not in area.own_documents}
        assert area.document is not None and area.document.title.split(" (")[0] in card, area.id
        assert [t for t in others if t in card] == [], area.id
    card = json.dumps(complaint_views.outcome_form(view_of(areas["sussex"], [])))
    assert "Pan-Sussex Child Protection and Safeguarding Procedures, 5.7.10" in card
