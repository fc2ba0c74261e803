"""Worked examples dated by hand from the seeds. Each comment shows the count.

Working days exclude weekends and England's bank holidays; the starting day is never counted.
England 2026-27: Christmas Fri 25 Dec 2026, Boxing Day Sat 26 -> substitute Mon 28 Dec,
New Year Fri 1 Jan 2027, Good Friday 26 Mar 2027, Easter Monday 29 Mar 2027, May Day Mon 3 May 2027,
Spring bank holiday Mon 31 May 2027. Clocks: BST ends Sun 25 Oct 2026, starts Sun 28 Mar 2027.
"""

from __future__ import annotations

from tests.unit.conftest import Run, due

# ---------------------------------------------------------------- Pan-Sussex (001)


def test_sussex_issue_example_christmas(run: Run) -> None:
    # 001 5.7.4: 72 hours from Thu 17 Dec 2026 14:00 GMT -> Sun 20 Dec 14:00 GMT.
    # 001 5.7.7(4): 10 working days from Thu 17 Dec: Fri 18 (1), Mon 21 (2), Tue 22 (3), Wed 23 (4),
    # Thu 24 (5), [Fri 25 Christmas, Mon 28 Boxing Day observed], Tue 29 (6), Wed 30 (7), Thu 31 (8),
    # [Fri 1 Jan], Mon 4 (9), Tue 5 Jan 2027 (10).
    tl = run("sussex", "dissent", conference_held="2026-12-17T14:00", dissent_raised="2026-12-18T09:00")
    assert due(tl, "dissent-window") == "2026-12-20T14:00:00+00:00"
    assert due(tl, "dissent-decision") == "2027-01-05T23:59:59+00:00"
    skipped = [s["date"] for s in tl.get("dissent-decision").as_dict()["skipped"]]
    assert skipped == ["2026-12-25", "2026-12-28", "2027-01-01"]


def test_sussex_window_runs_from_conference_end_when_recorded(run: Run) -> None:
    # Ended Thu 17 Dec 2026 15:45 GMT + 72 h = Sun 20 Dec 15:45 GMT.
    tl = run("sussex", "dissent", conference_held="2026-12-17T14:00", conference_ended="2026-12-17T15:45")
    assert due(tl, "dissent-window") == "2026-12-20T15:45:00+00:00"


def test_sussex_window_across_autumn_clock_change_is_elapsed_hours(run: Run) -> None:
    # Fri 23 Oct 2026 14:00 BST = 13:00 UTC; + 72 h = Mon 26 Oct 13:00 UTC = 13:00 GMT (not 14:00).
    tl = run("sussex", "dissent", conference_held="2026-10-23T14:00")
    assert due(tl, "dissent-window") == "2026-10-26T13:00:00+00:00"


def test_sussex_window_across_spring_clock_change_is_elapsed_hours(run: Run) -> None:
    # Fri 27 Mar 2026 10:00 GMT; + 72 h = Mon 30 Mar 10:00 UTC = 11:00 BST.
    tl = run("sussex", "dissent", conference_held="2026-03-27T10:00")
    assert due(tl, "dissent-window") == "2026-03-30T11:00:00+01:00"


def test_sussex_decision_and_reconvene_around_easter(run: Run) -> None:
    # Decision: 10 working days from Wed 24 Mar 2027: Thu 25 (1), [Fri 26 Good Friday, Mon 29 Easter
    # Monday], Tue 30 (2), Wed 31 (3), Thu 1 Apr (4), Fri 2 (5), Mon 5 (6), Tue 6 (7), Wed 7 (8),
    # Thu 8 (9), Fri 9 Apr (10) -> BST.
    # Reconvene: 15 working days from the upholding decision Fri 9 Apr: 12-16 (1-5), 19-23 (6-10),
    # 26-30 (11-15) -> Fri 30 Apr 2027.
    tl = run(
        "sussex",
        "dissent",
        conference_held="2027-03-24T10:00",
        dissent_raised="2027-03-24T16:00",
        dissent_upheld="2027-04-09T12:00",
    )
    assert due(tl, "dissent-decision") == "2027-04-09T23:59:59+01:00"
    assert tl.get("dissent-decision").status == "met"
    assert due(tl, "dissent-reconvene") == "2027-04-30T23:59:59+01:00"


def test_sussex_reconvened_conference_meets_the_duty_but_original_does_not(run: Run) -> None:
    tl = run(
        "sussex",
        "dissent",
        now="2027-05-10T09:00",
        conference_held=["2027-03-24T10:00", "2027-04-28T10:00"],
        dissent_raised="2027-03-24T16:00",
        dissent_upheld="2027-04-09T12:00",
    )
    d = tl.get("dissent-reconvene")
    assert d.status == "met"
    assert d.as_dict()["completed"] == "2027-04-28T10:00:00+01:00"
    # The window still runs from the first conference.
    assert due(tl, "dissent-window") == "2027-03-27T10:00:00+00:00"


def test_sussex_late_dissent_is_flagged_not_refused(run: Run) -> None:
    tl = run("sussex", "dissent", conference_held="2026-12-17T14:00", dissent_raised="2026-12-20T14:00:01")
    d = tl.get("dissent-window")
    assert d.status == "late"
    assert "chair's recorded discretion" in d.explanation


def test_sussex_dissent_typed_during_the_meeting_counts(run: Run) -> None:
    tl = run(
        "sussex",
        "dissent",
        conference_held="2026-12-17T14:00",
        dissent_raised="2026-12-17T15:00",
        conference_ended="2026-12-17T15:30",
    )
    assert tl.get("dissent-window").status == "met"


def test_sussex_stage3_two_limits_the_later_applies_to_a_right(run: Run) -> None:
    # Stage 2 letter received Mon 14 Dec 2026.
    # 28 days (5.7.21) -> Mon 11 Jan 2027.
    # 20 working days (5.7.23): Tue 15 (1) .. Thu 24 (8), [25, 28], Tue 29 (9), Wed 30 (10), Thu 31 (11),
    # [1 Jan], Mon 4 (12) .. Fri 8 (16), Mon 11 (17), Tue 12 (18), Wed 13 (19), Thu 14 Jan (20).
    # A window is the complainant's right: the later date, Thu 14 Jan 2027, applies; both are shown.
    tl = run("sussex", "complaint", stage2_letter_received="2026-12-14T10:00")
    d = tl.get("stage3-request-window")
    assert due(tl, "stage3-request-window") == "2027-01-14T23:59:59+00:00"
    assert "Thu 14 Jan 2027" in d.explanation and "Mon 11 Jan 2027" in d.explanation
    assert "later of the two dates" in d.explanation
    limits = d.as_dict()["limits"]
    assert [x["due"][:10] for x in limits] == ["2027-01-14", "2027-01-11"]
    assert [x["applies"] for x in limits] == [True, False]


def test_sussex_complaint_stages(run: Run) -> None:
    # Complaint Wed 23 Dec 2026; Stage 1 meeting 10 wd: Thu 24 (1), [25, 28], Tue 29 (2), Wed 30 (3),
    # Thu 31 (4), [1 Jan], Mon 4 (5), Tue 5 (6), Wed 6 (7), Thu 7 (8), Fri 8 (9), Mon 11 Jan (10).
    # Meeting held Mon 11 Jan; response "within a further 10 wd": Tue 12 (1) .. Fri 15 (4),
    # Mon 18 .. Fri 22 (5-9), Mon 25 Jan (10).
    # Stage 2 requested Tue 2 Feb 2027: meeting within 28 days -> Tue 2 Mar 2027.
    # Stage 3 requested Mon 1 Mar 2027: panel 20 wd: 2-5 Mar (1-4), 8-12 (5-9), 15-19 (10-14),
    # 22-26 (15-19), [Good Friday 26 Mar is Fri: so 22-25 are 15-18], ... recount below.
    tl = run(
        "sussex",
        "complaint",
        conference_held="2026-12-15T10:00",
        complaint_received="2026-12-23T11:00",
        stage1_meeting_held="2027-01-11T10:00",
        stage2_requested="2027-02-02T10:00",
    )
    assert due(tl, "stage1-meeting") == "2027-01-11T23:59:59+00:00"
    assert tl.get("stage1-meeting").status == "met"
    assert due(tl, "stage1-response") == "2027-01-25T23:59:59+00:00"
    assert due(tl, "stage2-meeting") == "2027-03-02T23:59:59+00:00"
    # Complaint window (5.7.13): 10 wd from the conference Tue 15 Dec 2026: Wed 16 (1), Thu 17 (2),
    # Fri 18 (3), Mon 21 (4), Tue 22 (5), Wed 23 (6), Thu 24 (7), [25, 28], Tue 29 (8), Wed 30 (9),
    # Thu 31 Dec (10).
    assert due(tl, "complaint-window") == "2026-12-31T23:59:59+00:00"


def test_sussex_panel_across_easter(run: Run) -> None:
    # Stage 3 requested Mon 1 Mar 2027; panel within 20 wd: Tue 2 .. Fri 5 (1-4), 8-12 (5-9),
    # 15-19 (10-14), Mon 22 .. Thu 25 (15-18), [Fri 26 Good Friday, Mon 29 Easter Monday],
    # Tue 30 (19), Wed 31 Mar (20) -> BST.
    # Panel held Wed 31 Mar; letter within 10 wd: Thu 1 Apr (1), Fri 2 (2), 5-9 (3-7), Mon 12 (8),
    # Tue 13 (9), Wed 14 Apr (10).
    tl = run("sussex", "complaint", stage3_requested="2027-03-01T10:00", panel_held="2027-03-31T10:00")
    assert due(tl, "panel-convened") == "2027-03-31T23:59:59+01:00"
    assert tl.get("panel-convened").status == "met"
    assert due(tl, "panel-letter") == "2027-04-14T23:59:59+01:00"


# ---------------------------------------------------------------- 4LSCB (000) and Hampshire


def test_hipps_panel_contradiction_twenty_eight_days_sooner_over_christmas(run: Run) -> None:
    # Stage 2 requested Mon 14 Dec 2026. "within a further twenty eight days" -> Mon 11 Jan 2027.
    # "within twenty working days" -> Thu 14 Jan 2027 (count as in the Sussex Stage 3 test).
    tl = run("hipps", "complaint", stage2_requested="2026-12-14T09:00")
    assert due(tl, "panel-convened") == "2027-01-11T23:59:59+00:00"


def test_hipps_panel_contradiction_working_days_sooner_from_a_saturday(run: Run) -> None:
    # Request received Sat 6 Jun 2026. 28 days -> Sat 4 Jul. 20 wd: Mon 8 .. Fri 12 (1-5), 15-19 (6-10),
    # 22-26 (11-15), Mon 29 Jun .. Fri 3 Jul (16-20) -> Fri 3 Jul 2026, the sooner.
    tl = run("hipps", "complaint", stage2_requested="2026-06-06T10:00")
    assert due(tl, "panel-convened") == "2026-07-03T23:59:59+01:00"


def test_hipps_complaint_window_and_stage1(run: Run) -> None:
    # Minutes received Tue 1 Dec 2026 + 28 days -> Tue 29 Dec 2026.
    # Complaint received Wed 23 Dec 2026; Stage 1 meeting 10 wd -> Mon 11 Jan 2027 (as Sussex above).
    # Stage 1 letter received Fri 15 Jan 2027 + 28 days -> Fri 12 Feb 2027.
    tl = run(
        "hipps",
        "complaint",
        conference_held="2026-11-20T10:00",
        minutes_received="2026-12-01T10:00",
        complaint_received="2026-12-23T10:00",
        stage1_response_sent="2027-01-14T10:00",
        stage1_response_received="2027-01-15T10:00",
    )
    assert due(tl, "complaint-window") == "2026-12-29T23:59:59+00:00"
    assert tl.get("complaint-window").status == "met"
    assert due(tl, "stage1-meeting") == "2027-01-11T23:59:59+00:00"
    assert due(tl, "stage2-request-window") == "2027-02-12T23:59:59+00:00"


def test_hipps_panel_letter(run: Run) -> None:
    # Panel Thu 17 Dec 2026; letter within 10 wd: Fri 18 (1), Mon 21 .. Thu 24 (2-5), [25, 28],
    # Tue 29 (6), Wed 30 (7), Thu 31 (8), [1 Jan], Mon 4 (9), Tue 5 Jan 2027 (10).
    tl = run("hipps", "complaint", panel_held="2026-12-17T10:00")
    assert due(tl, "panel-letter") == "2027-01-05T23:59:59+00:00"


def test_hampshire_minutes_variant(run: Run) -> None:
    # Conference Mon 30 Nov 2026; minutes must be requested within 10 days -> Thu 10 Dec 2026.
    # Minutes received Mon 14 Dec; complaint within 28 days -> Mon 11 Jan 2027.
    tl = run(
        "hampshire",
        "complaint",
        conference_held="2026-11-30T10:00",
        minutes_requested="2026-12-09T10:00",
        minutes_received="2026-12-14T10:00",
    )
    assert due(tl, "minutes-request-window") == "2026-12-10T23:59:59+00:00"
    assert tl.get("minutes-request-window").status == "met"
    assert due(tl, "complaint-window") == "2027-01-11T23:59:59+00:00"
    # Inherited from the 4LSCB general rule:
    assert "panel-convened" in [d.id for d in tl.deadlines]


def test_hampshire_late_minutes_request_flagged(run: Run) -> None:
    tl = run(
        "hampshire",
        "complaint",
        conference_held="2026-11-30T10:00",
        minutes_requested="2026-12-11T09:00",
    )
    assert tl.get("minutes-request-window").status == "late"


# ---------------------------------------------------------------- London (004)


def test_london_initial_conference_over_christmas(run: Run) -> None:
    # 8.1.7: 15 wd from strategy discussion Mon 14 Dec 2026: Tue 15 .. Fri 18 (1-4), Mon 21 .. Thu 24
    # (5-8), [25, 28], Tue 29 (9), Wed 30 (10), Thu 31 (11), [1 Jan], Mon 4 (12), Tue 5 (13),
    # Wed 6 (14), Thu 7 Jan 2027 (15).
    tl = run("london", "conference", strategy_discussion="2026-12-14T11:00")
    assert due(tl, "initial-conference") == "2027-01-07T23:59:59+00:00"


def test_london_after_initial_conference(run: Run) -> None:
    # Conference Thu 7 Jan 2027.
    # 8.16.14 decision letter: 1 wd -> Fri 8 Jan.
    # 8.9.7 core group: 10 wd: Fri 8 (1), 11-15 (2-6), Mon 18 (7), Tue 19 (8), Wed 20 (9), Thu 21 (10).
    # 8.16.5 record: 15 wd: Fri 8 (1), 11-15 (2-6), 18-22 (7-11), 25-28 (12-15) -> Thu 28 Jan.
    # 8.2.9 first review: 3 months -> Wed 7 Apr 2027 (BST).
    tl = run("london", "conference", strategy_discussion="2026-12-14T11:00", conference_held="2027-01-07T10:00")
    assert tl.get("initial-conference").status == "met"
    assert due(tl, "decision-letter") == "2027-01-08T23:59:59+00:00"
    assert due(tl, "core-group") == "2027-01-21T23:59:59+00:00"
    assert due(tl, "record-sent") == "2027-01-28T23:59:59+00:00"
    assert due(tl, "first-review") == "2027-04-07T23:59:59+01:00"


def test_london_months_clamp_to_month_end(run: Run) -> None:
    # First review 3 months after Mon 30 Nov 2026 -> 30 Feb does not exist -> Sun 28 Feb 2027.
    # Later review 6 months after the latest review Mon 31 Aug 2026 -> 31 Feb -> 28 Feb 2027.
    tl = run("london", "conference", conference_held="2026-11-30T10:00")
    assert due(tl, "first-review") == "2027-02-28T23:59:59+00:00"
    tl = run("london", "conference", review_held=["2026-02-27T10:00", "2026-08-31T10:00"])
    assert due(tl, "later-review") == "2027-02-28T23:59:59+00:00"
    assert tl.get("later-review").status == "pending"


def test_london_prebirth_conference_ten_weeks_before(run: Run) -> None:
    # 8.14.6: expected delivery Fri 19 Mar 2027 - 70 days -> Fri 8 Jan 2027.
    tl = run(
        "london",
        "conference",
        expected_delivery="2027-03-19T00:00",
        prebirth_conference_held="2027-01-06T10:00",
    )
    assert due(tl, "prebirth-conference") == "2027-01-08T23:59:59+00:00"
    assert tl.get("prebirth-conference").status == "met"


def test_london_prebirth_review_whichever_sooner_and_extension(run: Run) -> None:
    # 8.14.12: pre-birth conference Mon 11 Jan 2027 -> 3 months = Sun 11 Apr 2027.
    # Birth Thu 25 Feb 2027 -> 1 month = Thu 25 Mar 2027: sooner.
    tl = run("london", "conference", prebirth_conference_held="2027-01-11T10:00", birth="2027-02-25T03:00")
    assert due(tl, "prebirth-first-review") == "2027-03-25T23:59:59+00:00"
    # The initial-conference first review does not apply after a pre-birth conference.
    assert "first-review" not in [d.id for d in tl.deadlines]
    # 8.14.14: extended by a month -> 25 Apr, but never beyond the three months -> 11 Apr.
    tl = run(
        "london",
        "conference",
        prebirth_conference_held="2027-01-11T10:00",
        birth="2027-02-25T03:00",
        review_extension_authorised="2027-03-01T10:00",
    )
    assert due(tl, "prebirth-first-review") == "2027-04-11T23:59:59+01:00"
    # Before the birth only the three-month date is known.
    tl = run("london", "conference", prebirth_conference_held="2027-01-11T10:00")
    assert due(tl, "prebirth-first-review") == "2027-04-11T23:59:59+01:00"


def test_london_reports_before_conference_over_new_year(run: Run) -> None:
    # Conference scheduled Mon 4 Jan 2027.
    # 8.8.11 family, 2 wd before: Thu 31 Dec (1) [Fri 1 Jan skipped], Wed 30 Dec (2).
    # 8.8.13 chair, 1 wd before: Thu 31 Dec.
    # 8.6.3 exclusion, 3 wd before: Thu 31 (1), Wed 30 (2), Tue 29 Dec (3).
    tl = run("london", "conference", conference_scheduled="2027-01-04T10:00")
    assert due(tl, "report-to-family-initial") == "2026-12-30T23:59:59+00:00"
    assert due(tl, "report-to-chair-initial") == "2026-12-31T23:59:59+00:00"
    assert due(tl, "agency-reports-initial") == "2026-12-30T23:59:59+00:00"
    assert due(tl, "exclusion-representation") == "2026-12-29T23:59:59+00:00"


def test_london_review_reports_five_working_days(run: Run) -> None:
    # Review scheduled Wed 6 Jan 2027; 5 wd before: Tue 5 (1), Mon 4 (2), [Fri 1 Jan], Thu 31 (3),
    # Wed 30 (4), Tue 29 Dec 2026 (5).
    tl = run("london", "conference", review_scheduled="2027-01-06T10:00")
    assert due(tl, "report-to-family-review") == "2026-12-29T23:59:59+00:00"
    assert due(tl, "report-to-chair-review") == "2026-12-29T23:59:59+00:00"


def test_london_record_amendments_one_week(run: Run) -> None:
    # 8.16.5: record received Wed 23 Dec 2026 + 7 days -> Wed 30 Dec 2026.
    tl = run("london", "conference", record_received="2026-12-23T10:00")
    assert due(tl, "record-amendments") == "2026-12-30T23:59:59+00:00"


def test_london_dissent_has_no_number_of_days(run: Run) -> None:
    # 8.13: recorded in the record of the conference; no timescale.
    tl = run("london", "dissent", conference_held="2026-12-17T10:00", dissent_raised="2026-12-17T11:00")
    d = tl.get("dissent-recorded")
    assert d.due is None and d.status == "pending"
    assert "The procedure sets no number of days" in d.explanation


# ---------------------------------------------------------------- Oxfordshire (002), City and Hackney (003)


def test_oxfordshire_steps_and_criteria(run: Run, areas) -> None:
    tl = run("oxfordshire", "complaint", complaint_received="2026-12-01T10:00")
    assert tl.get("chair-response").status == "pending"
    assert tl.get("chair-response").due is None
    assert {c.id for c in areas["oxfordshire"].criteria} == {
        "no-consensus",
        "pr-absent-or-unheard",
        "material-inaccuracy",
    }


def test_city_hackney_working_week(run: Run) -> None:
    # Step 1: one working week (5 wd) from Wed 23 Dec 2026: Thu 24 (1), [25, 28], Tue 29 (2), Wed 30 (3),
    # Thu 31 (4), [1 Jan], Mon 4 Jan 2027 (5).
    tl = run("city-hackney", "dissent", conference_held="2026-12-22T10:00", dissent_raised="2026-12-23T10:00")
    assert due(tl, "step1-chair") == "2027-01-04T23:59:59+00:00"


def test_city_hackney_next_qa_subcommittee_from_configured_dates() -> None:
    from app.procedures import load_catalogue
    from casework.clock import parse_time
    from casework.events import Event
    from casework.timeline import evaluate

    cat = load_catalogue(meetings_json='{"city-hackney": {"qa_subcommittee": ["2027-01-20", "2027-03-17"]}}')
    area = cat.areas["city-hackney"]
    evs = [
        Event("dissent_raised", parse_time("2027-01-04T10:00")),
        Event("referred_to_qa_subcommittee", parse_time("2027-01-12T10:00")),
    ]
    tl = evaluate(area, "dissent", evs, parse_time("2027-01-13T10:00"))
    assert tl.get("step4-qa-subcommittee").as_dict()["due"] == "2027-01-20T23:59:59+00:00"
    # Referred on a meeting day: the next meeting after it.
    evs[1] = Event("referred_to_qa_subcommittee", parse_time("2027-01-20T10:00"))
    tl = evaluate(area, "dissent", evs, parse_time("2027-01-21T10:00"))
    assert tl.get("step4-qa-subcommittee").as_dict()["due"] == "2027-03-17T23:59:59+00:00"
    # No meeting configured after the referral: undated, and it says why.
    evs[1] = Event("referred_to_qa_subcommittee", parse_time("2027-04-01T10:00"))
    d = evaluate(area, "dissent", evs, parse_time("2027-04-02T10:00")).get("step4-qa-subcommittee")
    assert d.due is None and "no qa_subcommittee meeting is configured" in d.explanation


# ---------------------------------------------------------------- SI 2006/1738 (england-statutory)


def test_statutory_stage1_over_easter_with_extension(run: Run) -> None:
    # Complaint Mon 22 Mar 2027; 10 wd: Tue 23 (1), Wed 24 (2), Thu 25 (3), [Fri 26, Mon 29 Easter],
    # Tue 30 (4), Wed 31 (5), Thu 1 Apr (6), Fri 2 (7), Mon 5 (8), Tue 6 (9), Wed 7 Apr (10).
    # Extended to 20: Thu 8 (11), Fri 9 (12), 12-16 (13-17), Mon 19 (18), Tue 20 (19), Wed 21 Apr (20).
    tl = run("england-statutory", "complaint", complaint_received="2027-03-22T10:00")
    assert due(tl, "stage1-response") == "2027-04-07T23:59:59+01:00"
    tl = run(
        "england-statutory",
        "complaint",
        complaint_received="2027-03-22T10:00",
        stage1_extended="2027-03-30T10:00",
    )
    assert due(tl, "stage1-response") == "2027-04-21T23:59:59+01:00"
    explanation = tl.get("stage1-response").explanation
    assert (
        "(the extended period)" in explanation and "Stage 1 extension agreed recorded on Tue 30 Mar 2027" in explanation
    )
    assert "recorded before the original date, the end of Wed 7 Apr 2027" in explanation


def test_statutory_stage2_from_a_bank_holiday(run: Run) -> None:
    # Requested on Mon 3 May 2027 (May Day; the start day is not counted anyway).
    # 25 wd: Tue 4 .. Fri 7 (1-4), 10-14 (5-9), 17-21 (10-14), 24-28 (15-19), [Mon 31 May spring bank
    # holiday], Tue 1 Jun (20), Wed 2 (21), Thu 3 (22), Fri 4 (23), Mon 7 (24), Tue 8 Jun (25).
    tl = run("england-statutory", "complaint", stage2_requested="2027-05-03T10:00")
    assert due(tl, "stage2-investigation") == "2027-06-08T23:59:59+01:00"


def test_statutory_stage3_around_christmas_2027(run: Run) -> None:
    # Panel Fri 17 Dec 2027; report within 5 wd: Mon 20 (1) .. Fri 24 Dec (5).
    # Report sent Fri 24 Dec; response within 15 wd: [Mon 27 Christmas observed, Tue 28 Boxing Day
    # observed], Wed 29 (1), Thu 30 (2), Fri 31 (3), [Mon 3 Jan 2028 New Year observed], Tue 4 (4),
    # Wed 5 (5), Thu 6 (6), Fri 7 (7), 10-14 (8-12), Mon 17 (13), Tue 18 (14), Wed 19 Jan 2028 (15).
    tl = run(
        "england-statutory",
        "complaint",
        panel_held="2027-12-17T10:00",
        panel_letter_sent="2027-12-24T10:00",
    )
    assert due(tl, "panel-report") == "2027-12-24T23:59:59+00:00"
    assert due(tl, "authority-response") == "2028-01-19T23:59:59+00:00"


def test_statutory_stage3_request_and_panel(run: Run) -> None:
    # Stage 2 response received Mon 1 Feb 2027; request within 20 wd: Tue 2 .. Fri 5 (1-4),
    # 8-12 (5-9), 15-19 (10-14), 22-26 (15-19), Mon 1 Mar (20).
    # Requested Mon 1 Mar; panel within 30 wd: 2-5 Mar (1-4), 8-12 (5-9), 15-19 (10-14), 22-25 (15-18),
    # [26 Good Friday, 29 Easter Monday], Tue 30 (19), Wed 31 (20), Thu 1 Apr (21), Fri 2 (22),
    # 5-9 (23-27), Mon 12 (28), Tue 13 (29), Wed 14 Apr (30).
    tl = run(
        "england-statutory",
        "complaint",
        stage2_letter_sent="2027-01-29T10:00",
        stage2_letter_received="2027-02-01T10:00",
        stage3_requested="2027-03-01T10:00",
    )
    assert due(tl, "stage3-request-window") == "2027-03-01T23:59:59+00:00"
    assert tl.get("stage3-request-window").status == "met"
    assert due(tl, "review-panel") == "2027-04-14T23:59:59+01:00"
