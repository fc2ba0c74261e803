"""Issue 10, the statutory second pass: worked examples dated by hand from the seeds.

Each comment shows the count. Working days exclude weekends and England's bank holidays and never
count the starting day. England 2026-28: Christmas Fri 25 Dec 2026, Boxing Day substitute Mon 28 Dec,
New Year Fri 1 Jan 2027, Good Friday 26 Mar 2027, Easter Monday 29 Mar 2027, Late Summer Bank Holiday
Mon 30 Aug 2027. 2028 is a leap year.
"""

from __future__ import annotations

import re

from tests.unit.conftest import Run, due

# ---------------------------------------------------------------- 1. review conferences (London 004)

REVIEWS = {
    "conference_held": "2026-12-01T10:00",
    "review_held": ["2027-03-01T10:00", "2027-09-01T10:00"],
    "decision_letter_sent": ["2026-12-02T09:00", "2027-03-03T09:00"],
}


def test_each_review_gets_its_own_decision_letter(run: Run) -> None:
    # 8.16.14, 8.11.1: one working day after each conference, initial or review.
    # Initial Tue 1 Dec 2026 -> Wed 2 Dec (1); letter Wed 2 Dec 09:00: met.
    # Review Mon 1 Mar 2027 -> Tue 2 Mar (1); letter Wed 3 Mar 09:00: late.
    # Review Wed 1 Sep 2027 -> Thu 2 Sep (1); no letter by Fri 3 Sep: missed.
    tl = run("london", "conference", now="2027-09-03T12:00", **REVIEWS)
    assert due(tl, "decision-letter") == "2026-12-02T23:59:59+00:00"
    assert tl.get("decision-letter").status == "met"
    first, second = tl.get("decision-letter-review#1"), tl.get("decision-letter-review#2")
    assert due(tl, "decision-letter-review#1") == "2027-03-02T23:59:59+00:00"
    assert (first.status, first.completed_at and first.completed_at.day) == ("late", 3)
    assert due(tl, "decision-letter-review#2") == "2027-09-02T23:59:59+01:00"
    assert second.status == "missed"
    assert first.label == "review conference of Mon 1 Mar 2027"
    assert "(review conference of Wed 1 Sep 2027)" in second.title
    assert second.explanation.startswith("For the review conference of Wed 1 Sep 2027.")
    assert second.as_dict()["id"] == "decision-letter-review#2" and second.as_dict()["rule"] == "decision-letter-review"


def test_each_review_gets_its_own_record(run: Run) -> None:
    # 8.16.5, 8.16.3: the record within 15 working days of each review.
    # Mon 1 Mar 2027: Tue 2 (1) .. Fri 5 (4), Mon 8 .. Fri 12 (5-9), Mon 15 .. Fri 19 (10-14), Mon 22 Mar (15).
    # Wed 1 Sep 2027: Thu 2 (1), Fri 3 (2), 6-10 (3-7), 13-17 (8-12), Mon 20 (13), Tue 21 (14), Wed 22 Sep (15).
    tl = run("london", "conference", now="2027-09-03T12:00", **REVIEWS, record_sent="2027-03-10T10:00")
    assert due(tl, "record-sent-review#1") == "2027-03-22T23:59:59+00:00"
    assert due(tl, "record-sent-review#2") == "2027-09-22T23:59:59+01:00"
    assert tl.get("record-sent-review#1").status == "met"
    # The record sent on 10 Mar 2027 went to the first review: the second's is still to send.
    assert tl.get("record-sent-review#2").status == "pending"


def test_exclusion_representation_before_each_review(run: Run) -> None:
    # 8.6.3 and 8.6.13: at least 3 working days before each conference.
    # Review set for Mon 1 Mar 2027: Fri 26 Feb (1), Thu 25 (2), Wed 24 Feb (3).
    # Review set for Wed 1 Sep 2027: Tue 31 Aug (1), [Mon 30 Aug bank holiday], Fri 27 (2), Thu 26 Aug (3).
    tl = run(
        "london",
        "conference",
        now="2027-09-03T12:00",
        conference_held="2026-12-01T10:00",
        review_scheduled=["2027-03-01T10:00", "2027-09-01T10:00"],
        exclusion_representation_made="2027-02-20T10:00",
    )
    assert due(tl, "exclusion-representation-review#1") == "2027-02-24T23:59:59+00:00"
    assert due(tl, "exclusion-representation-review#2") == "2027-08-26T23:59:59+01:00"
    assert tl.get("exclusion-representation-review#1").status == "met"
    second = tl.get("exclusion-representation-review#2")
    assert second.status == "missed"
    assert "Mon 30 Aug 2027 (Late Summer Bank Holiday)" in second.explanation


def test_the_initial_report_does_not_meet_the_reviews(run: Run) -> None:
    # 8.8.11: report to the family 5 working days before the review set for Mon 1 Mar 2027:
    # Fri 26 Feb (1), Thu 25 (2), Wed 24 (3), Tue 23 (4), Mon 22 Feb (5).
    # The report shared on Thu 26 Nov 2026, before the initial conference, is that conference's.
    events = {
        "conference_scheduled": "2026-12-01T10:00",
        "conference_held": "2026-12-01T10:00",
        "review_scheduled": "2027-03-01T10:00",
        "report_shared_with_family": "2026-11-26T10:00",
    }
    tl = run("london", "conference", now="2027-02-23T12:00", **events)
    assert due(tl, "report-to-family-review#1") == "2027-02-22T23:59:59+00:00"
    assert tl.get("report-to-family-review#1").status == "missed"
    assert tl.get("report-to-family-initial").status == "met"
    tl = run(
        "london",
        "conference",
        now="2027-02-23T12:00",
        **{**events, "report_shared_with_family": ["2026-11-26T10:00", "2027-02-19T10:00"]},
    )
    assert tl.get("report-to-family-review#1").status == "met"


def test_a_repeating_rule_waits_under_its_own_id_before_any_review(run: Run) -> None:
    tl = run("london", "conference", conference_held="2026-12-01T10:00")
    d = tl.get("decision-letter-review")
    assert d.id == "decision-letter-review" and d.status == "waiting"


# ---------------------------------------------------------------- 2. Hampshire minutes (000 §3)


def test_hampshire_minutes_received_without_a_request(run: Run) -> None:
    # Conference Tue 1 Dec 2026; minutes received Sun 20 Dec 2026 with no request recorded.
    # General 4LSCB rule: 28 days from receipt: 20 Dec + 28 = Sun 17 Jan 2027 (11 days left in December,
    # 17 in January). A complaint on Sun 10 Jan 2027 is in time.
    tl = run(
        "hampshire",
        "complaint",
        now="2027-01-12T10:00",
        conference_held="2026-12-01T10:00",
        minutes_received="2026-12-20T10:00",
        complaint_received="2027-01-10T10:00",
    )
    window = tl.get("complaint-window")
    assert due(tl, "complaint-window") == "2027-01-17T23:59:59+00:00"
    assert window.status == "met" and window.applicable
    assert "no request for the minutes is recorded, so the general 4LSCB rule applies" in window.explanation
    request = tl.get("minutes-request-window")
    assert request.status == "met" and request.satisfied
    assert "Not needed: receipt of the minutes" in request.explanation


def test_hampshire_minutes_requested_in_time(run: Run) -> None:
    # Requested Thu 3 Dec 2026, within 10 days of Tue 1 Dec (by Fri 11 Dec); received Mon 14 Dec:
    # 14 Dec + 28 = Mon 11 Jan 2027.
    tl = run(
        "hampshire",
        "complaint",
        now="2027-01-12T10:00",
        conference_held="2026-12-01T10:00",
        minutes_requested="2026-12-03T10:00",
        minutes_received="2026-12-14T10:00",
    )
    assert due(tl, "minutes-request-window") == "2026-12-11T23:59:59+00:00"
    request = tl.get("minutes-request-window")
    assert request.status == "met" and not request.satisfied
    window = tl.get("complaint-window")
    assert due(tl, "complaint-window") == "2027-01-11T23:59:59+00:00"
    assert window.status == "missed" and "general 4LSCB rule" not in window.explanation


# ---------------------------------------------------------------- 3. extensions recorded late


def test_statutory_stage1_extension_recorded_after_the_date(run: Run) -> None:
    # SI 2006/1738 reg 14. Complaint Mon 22 Mar 2027; 10 wd: Tue 23 (1), Wed 24 (2), Thu 25 (3),
    # [Fri 26 Good Friday, Mon 29 Easter Monday], Tue 30 (4), Wed 31 (5), Thu 1 Apr (6), Fri 2 (7),
    # Mon 5 (8), Tue 6 (9), Wed 7 Apr (10). Extended to 20: Thu 8 (11), Fri 9 (12), Mon 12-Fri 16
    # (13-17), Mon 19 (18), Tue 20 (19), Wed 21 Apr (20). Extension recorded Fri 9 Apr: after 7 Apr.
    tl = run(
        "england-statutory",
        "complaint",
        now="2027-04-12T10:00",
        complaint_received="2027-03-22T10:00",
        stage1_extended="2027-04-09T10:00",
    )
    d = tl.get("stage1-response")
    assert due(tl, "stage1-response") == "2027-04-21T23:59:59+01:00"
    ext = d.as_dict()["extension"]
    assert ext == {
        "recorded": "2027-04-09T10:00:00+01:00",
        "original_due": "2027-04-07T23:59:59+01:00",
        "original_status": "missed",
        "late": True,
    }
    assert "The original date, the end of Wed 7 Apr 2027, had passed unmet before then: it stays missed." in (
        d.explanation
    )
    assert "so it came late" in d.explanation


def test_statutory_stage2_extension_in_time(run: Run) -> None:
    # reg 17: 25 wd from Stage 2 request Mon 4 Jan 2027: 5-8 Jan (1-4), 11-15 (5-9), 18-22 (10-14),
    # 25-29 (15-19), 1-5 Feb (20-24), Mon 8 Feb (25). Extension agreed Mon 1 Feb, before then.
    tl = run(
        "england-statutory",
        "complaint",
        now="2027-02-10T10:00",
        complaint_received="2026-12-01T10:00",
        stage2_requested="2027-01-04T10:00",
        stage2_extended="2027-02-01T10:00",
    )
    ext = tl.get("stage2-investigation").as_dict()["extension"]
    assert ext["original_due"] == "2027-02-08T23:59:59+00:00"
    assert ext["original_status"] is None and ext["late"] is False
    assert "recorded before the original date, the end of Mon 8 Feb 2027" in tl.get("stage2-investigation").explanation


def test_london_review_extension_authorised_after_the_birth_month(run: Run) -> None:
    # 8.14.12: pre-birth conference Thu 10 Dec 2026 -> 3 months: Wed 10 Mar 2027; birth Fri 15 Jan 2027
    # -> 1 month: Mon 15 Feb 2027; the sooner, 15 Feb, applies (a duty).
    # 8.14.14: extension authorised Wed 17 Feb 2027, after 15 Feb: birth + 2 months = Mon 15 Mar 2027,
    # but never beyond the three months: the sooner of 15 Mar and 10 Mar is Wed 10 Mar 2027.
    tl = run(
        "london",
        "conference",
        now="2027-02-20T10:00",
        prebirth_conference_held="2026-12-10T10:00",
        birth="2027-01-15T03:00",
        review_extension_authorised="2027-02-17T10:00",
    )
    d = tl.get("prebirth-first-review")
    assert due(tl, "prebirth-first-review") == "2027-03-10T23:59:59+00:00"
    assert d.status == "pending" and d.limits == "sooner"
    assert d.extension is not None and d.extension.original_status == "missed" and d.extension.late


# ---------------------------------------------------------------- 4. rights versus duties


def test_sussex_stage3_request_on_day_28_is_in_time(run: Run) -> None:
    # Stage 2 letter received Sat 6 Feb 2027.
    # 20 wd (5.7.23): Mon 8-Fri 12 (1-5), 15-19 (6-10), 22-26 (11-15), Mon 1-Fri 5 Mar (16-20): Fri 5 Mar.
    # 28 days (5.7.21): 6 Feb + 28 = Sat 6 Mar 2027 (22 days left in February, 6 in March).
    # The complainant's right lasts to the later, Sat 6 Mar: a request that day is in time.
    tl = run(
        "sussex",
        "complaint",
        now="2027-03-08T10:00",
        stage2_letter_received="2027-02-06T10:00",
        stage3_requested="2027-03-06T11:00",
    )
    d = tl.get("stage3-request-window")
    assert due(tl, "stage3-request-window") == "2027-03-06T23:59:59+00:00"
    assert d.status == "met"
    assert "Fri 5 Mar 2027" in d.explanation and "later of the two dates" in d.explanation
    assert "Sat 6 Mar 2027 is not a working day (weekend)" in d.explanation


def test_sussex_stage3_gives_no_discretion(run: Run) -> None:
    tl = run(
        "sussex",
        "complaint",
        now="2027-03-08T10:00",
        stage2_letter_received="2027-02-06T10:00",
        stage3_requested="2027-03-07T11:00",
    )
    d = tl.get("stage3-request-window")
    assert d.status == "late"
    assert "gives no one discretion" in d.explanation and "chair's" not in d.explanation


def test_sussex_complaint_window_names_the_chairs_discretion(run: Run) -> None:
    # 5.7.13: 10 wd from the conference Tue 1 Dec 2026: Wed 2 (1) .. Fri 4 (3), 7-11 (4-8), Mon 14 (9),
    # Tue 15 Dec (10). A complaint on Wed 16 Dec is late; the chair may accept it.
    tl = run(
        "sussex",
        "complaint",
        now="2026-12-17T10:00",
        conference_held="2026-12-01T10:00",
        complaint_received="2026-12-16T10:00",
    )
    d = tl.get("complaint-window")
    assert due(tl, "complaint-window") == "2026-12-15T23:59:59+00:00" and d.status == "late"
    assert "needs the chair's recorded discretion" in d.explanation


# ---------------------------------------------------------------- 5. assumptions said out loud


def test_sussex_assumed_starting_points(run: Run) -> None:
    tl = run("sussex", "complaint", conference_held="2026-12-01T10:00", stage2_requested="2027-01-04T10:00")
    assert "Assumed: 5.7.13 sets 10 working days without naming their start" in tl.get("complaint-window").explanation
    # 5.7.19: 28 days from the request: Mon 4 Jan 2027 + 28 = Mon 1 Feb 2027.
    assert due(tl, "stage2-meeting") == "2027-02-01T23:59:59+00:00"
    assert "Assumed: 5.7.19 gives 28 days without naming their start" in tl.get("stage2-meeting").explanation


def test_sending_date_counted_when_no_receipt_is_recorded(run: Run) -> None:
    sent = run("sussex", "complaint", stage2_letter_sent="2027-02-06T10:00").get("stage3-request-window")
    assert "Assumed: no receipt of the Stage 2 letter is recorded, so the date it was sent is counted." in (
        sent.explanation
    )
    received = run(
        "sussex", "complaint", stage2_letter_sent="2027-02-05T10:00", stage2_letter_received="2027-02-06T10:00"
    ).get("stage3-request-window")
    assert "Assumed" not in received.explanation and received.chosen
    assert received.chosen.start_event == "stage2_letter_received"


def test_london_initial_conference_from_the_s47_strategy_discussion(run: Run) -> None:
    # 8.1.7: 15 wd from the strategy discussion at which s47 enquiries started, Fri 4 Dec 2026:
    # Mon 7-Fri 11 (1-5), 14-18 (6-10), Mon 21 (11) .. Thu 24 (14), [25, 28], Tue 29 Dec (15).
    tl = run(
        "london",
        "conference",
        strategy_discussion="2026-12-01T10:00",
        s47_strategy_discussion="2026-12-04T10:00",
    )
    d = tl.get("initial-conference")
    assert due(tl, "initial-conference") == "2026-12-29T23:59:59+00:00"
    assert "Assumed" not in d.explanation
    # Unmarked: the first strategy discussion, Tue 1 Dec 2026: Wed 2 (1), Thu 3 (2), Fri 4 (3),
    # 7-11 (4-8), 14-18 (9-13), Mon 21 (14), Tue 22 Dec (15); and the explanation says so.
    tl = run("london", "conference", strategy_discussion=["2026-12-01T10:00", "2026-12-04T10:00"])
    d = tl.get("initial-conference")
    assert due(tl, "initial-conference") == "2026-12-22T23:59:59+00:00"
    assert "first strategy discussion recorded is counted" in d.explanation


def test_calendar_day_deadline_on_a_weekend_keeps_its_date(run: Run) -> None:
    # London 8.16.5: amendments within one week of receipt of the record, Sat 5 Dec 2026 + 7 = Sat 12 Dec.
    tl = run("london", "conference", conference_held="2026-12-01T10:00", record_received="2026-12-05T10:00")
    assert due(tl, "record-amendments#1") == "2026-12-12T23:59:59+00:00"
    explanation = tl.get("record-amendments#1").explanation
    assert "Sat 12 Dec 2026 is not a working day (weekend); the procedure counts calendar days, so the date stands" in (
        explanation
    )


# ---------------------------------------------------------------- 6. City and Hackney Step 1 (003)


def test_city_and_hackney_step1_starts_from_the_concern(run: Run) -> None:
    # Step 1: one working week (5 wd) from the concern, Wed 2 Dec 2026: Thu 3 (1), Fri 4 (2),
    # Mon 7 (3), Tue 8 (4), Wed 9 Dec (5).
    tl = run("city-hackney", "dissent", conference_held="2026-12-01T10:00", concern_raised="2026-12-02T10:00")
    assert due(tl, "step1-chair") == "2026-12-09T23:59:59+00:00"
    assert "the concern being raised (Wed 2 Dec 2026 10:00 GMT)" in tl.get("step1-chair").explanation


# ---------------------------------------------------------------- 8. explanations read aloud


def test_month_end_clamp_is_spelt_out(run: Run) -> None:
    # 8.2.9: 3 months from Tue 30 Nov 2027: there is no 30 Feb 2028, so Tue 29 Feb 2028 (leap year).
    tl = run("london", "conference", conference_held="2027-11-30T10:00")
    assert due(tl, "first-review") == "2028-02-29T23:59:59+00:00"
    assert "30 Nov + 3 months: there is no 30 Feb, so the last day of February, Tue 29 Feb 2028" in (
        tl.get("first-review").explanation
    )


def test_no_broken_phrases_and_no_event_ids_in_any_explanation() -> None:
    from casework.timeline import evaluate
    from tests.snapshots.generate import builtin_areas, scenarios, with_meetings

    areas = builtin_areas()
    names = sorted({n for a in areas.values() for n in a.events if "_" in n}, key=len, reverse=True)
    event_id = re.compile(r"\b(" + "|".join(names) + r")\b")
    broken = ("Before 2", "no number of days is set: no number", "By  of", " of .", "  ", "seed")
    seed_file = re.compile(r"\d{3}_[0-9a-f]{16}")
    seen = 0
    for area in areas.values():
        dated, _ = with_meetings(area)
        for process in area.processes:
            for sc in scenarios(dated, process):
                for d in evaluate(dated, process, sc.events, sc.now).deadlines:
                    seen += 1
                    text = d.explanation
                    assert not event_id.search(text), (area.id, d.id, event_id.findall(text), text)
                    assert not any(b in text for b in broken), (area.id, d.id, text)
                    assert not seed_file.search(text), (area.id, d.id, text)
    assert seen > 200


def test_every_shipped_event_has_words(areas) -> None:
    from casework.event_titles import event_phrase, event_title, is_listed

    missing = sorted({e for a in areas.values() for e in a.events if not is_listed(e)})
    assert missing == []
    assert event_title("stage2_letter_received") == "Stage 2 letter received"
    assert event_phrase("stage2_letter_received") == "receipt of the Stage 2 letter"
    assert not is_listed("a_pack_of_its_own") and event_title("a_pack_of_its_own") == "A pack of its own"
