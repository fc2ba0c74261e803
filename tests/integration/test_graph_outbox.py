"""Without a tenant: invitations as RFC 5545 .ics, emails as RFC 5322 .eml, slots from the bot's own bookings."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest

from casework.booking import transaction_id
from casework.clock import LONDON
from casework.ports_graph import EventDraft, Invitee
from graph.outbox import LOCAL_LIMITATION, FileOutbox, LocalCalendar, uid_for
from tests.integration.graph_world import ORGANISER, REFERENCE, ROOM, booker, sussex_world, utc

TID = transaction_id(REFERENCE, "panel", 1)


def draft(start: datetime, sequence: int = 0) -> EventDraft:
    return EventDraft(
        transaction_id=TID,
        reference=REFERENCE,
        purpose="panel",
        title="Inter-agency complaint panel",
        start=start,
        end=start + timedelta(minutes=90),
        invitees=(
            Invitee("sm-police@council.example", "required", "sm-police"),
            Invitee("sm-health@council.example", "required", "sm-health"),
            Invitee(ROOM, "resource"),
        ),
        papers=("A formal request to convene", "Notes & <remarks>"),
        papers_source="Pan-Sussex Child Protection and Safeguarding Procedures, 5.7.26",
        chair_id="sm-health",
        sequence=sequence,
    )


def parse(path: Path) -> Any:
    return icalendar.Calendar.from_ical(path.read_bytes())


@pytest.mark.parametrize(
    ("start", "offset"),
    [
        (utc(2027, 1, 12, 10), timedelta(0)),  # GMT: 10:00 UTC is 10:00 in London
        (utc(2027, 3, 30, 8), timedelta(hours=1)),  # the Tuesday after the spring change: 09:00 BST
        (utc(2027, 11, 1, 9), timedelta(0)),  # the Monday after the autumn change: 09:00 GMT
    ],
)
def test_the_invitation_is_a_request_with_a_stable_uid_in_london_time(
    tmp_path: Path, start: datetime, offset: timedelta
) -> None:
    path = FileOutbox(tmp_path).write_invitation(draft(start), ORGANISER)
    cal = parse(path)
    assert str(cal["METHOD"]) == "REQUEST" and str(cal["VERSION"]) == "2.0"
    (ev,) = cal.walk("VEVENT")
    assert str(ev["UID"]) == uid_for(TID) == f"{TID}@conference-challenge-bot"
    dtstart = ev.decoded("DTSTART")
    assert dtstart == start and dtstart.utcoffset() == offset
    assert ev["DTSTART"].params["TZID"] == "Europe/London"
    assert ev.decoded("DTEND") - dtstart == timedelta(minutes=90)
    assert str(ev["ORGANIZER"]) == f"mailto:{ORGANISER}"
    attendees = {str(a): a.params for a in ev["ATTENDEE"]}
    assert set(attendees) == {"mailto:sm-police@council.example", "mailto:sm-health@council.example", f"mailto:{ROOM}"}
    assert attendees[f"mailto:{ROOM}"]["CUTYPE"] == "ROOM"
    assert attendees["mailto:sm-police@council.example"]["ROLE"] == "REQ-PARTICIPANT"
    assert attendees["mailto:sm-police@council.example"]["PARTSTAT"] == "NEEDS-ACTION"
    assert str(ev["SUMMARY"]) == f"{REFERENCE}: Inter-agency complaint panel"
    assert "Notes & <remarks>" in str(ev["DESCRIPTION"]) and "5.7.26" in str(ev["DESCRIPTION"])
    (tz,) = cal.walk("VTIMEZONE")
    assert str(tz["TZID"]) == "Europe/London"
    zone = tz.to_tz()
    assert zone.utcoffset(datetime(2027, 7, 1, 12)) == timedelta(hours=1)
    assert zone.utcoffset(datetime(2027, 12, 1, 12)) == timedelta(0)
    assert zone.utcoffset(datetime(2027, 3, 29, 9)) == timedelta(hours=1)  # Easter Monday 2027, after the change


def test_updates_share_the_uid_with_a_higher_sequence_and_cancel_is_method_cancel(tmp_path: Path) -> None:
    box = FileOutbox(tmp_path)
    first = box.write_invitation(draft(utc(2027, 1, 12, 10)), ORGANISER)
    assert box.write_invitation(draft(utc(2027, 1, 12, 10)), ORGANISER) == first  # idempotent
    moved = box.write_invitation(draft(utc(2027, 1, 13, 14), sequence=1), ORGANISER)
    cancelled = box.write_invitation(draft(utc(2027, 1, 13, 14), sequence=2), ORGANISER, "CANCEL", "Panel withdrawn.")
    events = [parse(p).walk("VEVENT")[0] for p in (first, moved, cancelled)]
    assert len({str(e["UID"]) for e in events}) == 1
    assert [int(e["SEQUENCE"]) for e in events] == [0, 1, 2]
    assert str(parse(cancelled)["METHOD"]) == "CANCEL" and str(events[2]["STATUS"]) == "CANCELLED"
    assert str(events[2]["DESCRIPTION"]).startswith("Panel withdrawn.")
    assert sorted(p.name for p in tmp_path.glob("*.ics")) == sorted(p.name for p in (first, moved, cancelled))


def test_without_a_tenant_slots_come_from_the_bots_own_bookings_and_say_so(tmp_path: Path) -> None:
    with sussex_world() as (store, bookings, clock):
        outbox = FileOutbox(tmp_path / "outbox")
        cal = LocalCalendar(bookings, outbox, ORGANISER)
        b = booker(store, bookings, clock, cal)
        members = ["sm-police", "sm-health", "sm-education"]

        async def run() -> None:
            offer = await b.find_slots("cm", REFERENCE, "panel", members, ROOM, timedelta(minutes=90))
            # Now Tue 5 Jan 2027 08:00: the first slot is that day at 09:00 GMT.
            assert offer.search.slots[0].start == datetime(2027, 1, 5, 9, tzinfo=LONDON)
            assert offer.limitation == LOCAL_LIMITATION and LOCAL_LIMITATION in offer.text()
            booked = await b.book(
                "cm", REFERENCE, "panel", members, ROOM, offer.search.slots[0].start, timedelta(minutes=90)
            )
            assert booked.event_id == f"local:{booked.transaction_id}" and booked.join_url is None
            assert any("no Microsoft Graph tenant" in w for w in booked.warnings)
            # The bot now knows those four are busy 09:00-10:30; the next offer starts when the booking ends.
            again = await b.find_slots("cm", "CPC-42", "panel", members, ROOM, timedelta(minutes=90))
            assert again.search.slots[0].start == datetime(2027, 1, 5, 10, 30, tzinfo=LONDON)
            assert (await cal.get_schedules([ROOM], utc(2027, 1, 5), utc(2027, 1, 6)))[0].busy
            await b.cancel("cm", REFERENCE, "panel", "Withdrawn by the complainant.")

        asyncio.run(run())
        files = sorted(p.name for p in (tmp_path / "outbox").glob("*.ics"))
        assert files == [f"{TID}-000-request.ics", f"{TID}-001-cancel.ics"]
        assert date(2027, 1, 5) == parse(tmp_path / "outbox" / files[0]).walk("VEVENT")[0].decoded("DTSTART").date()


def test_the_file_mailer_writes_multipart_eml(tmp_path: Path) -> None:
    import email
    from email import policy

    from casework.ports_graph import OutgoingEmail
    from graph.outbox import FileMailer

    out = OutgoingEmail(("a@council.example", "b@council.example"), "CPC-1: digest", "text body", "<p>html</p>", "k/1")
    where = asyncio.run(FileMailer(FileOutbox(tmp_path)).send(out))
    msg = email.message_from_bytes(Path(where).read_bytes(), policy=policy.default)
    assert msg["To"] == "a@council.example, b@council.example" and msg["Subject"] == "CPC-1: digest"
    assert msg["X-Idempotency-Key"] == "k/1" and Path(where).name == "k_1.eml"
    assert msg.get_body(("html",)) is not None and datetime.now(UTC).year >= 2026
