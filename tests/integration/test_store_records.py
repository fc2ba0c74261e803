"""Every ``CaseStore`` method round-trips its records through SQLite and PostgreSQL."""

from __future__ import annotations

import inspect
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from casework.ports import CaseStore
from casework.records import Attendee, CaseEvent, Complaint, Conference, Dissent, Person, RoleGrant
from store.errors import AlreadyExists, InvalidRecord, NaiveDatetimeError, NotFound
from store.models import AttendeeRow, DissentRow, UTCDateTime
from store.sql import SqlStore

LONDON = ZoneInfo("Europe/London")


def conference(reference: str = "CPC-100", **changes: object) -> Conference:
    base = Conference(
        reference=reference,
        area="sussex",
        type="initial",
        scheduled_at=datetime(2026, 6, 15, 10, 0, tzinfo=LONDON),
        chair_id="chair-1",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def as_port(store: SqlStore) -> CaseStore:
    """Never called: mypy checks here that SqlStore satisfies the protocol structurally."""
    return store


def test_sql_store_has_every_method_of_the_port_with_the_same_parameters() -> None:
    port_methods = [n for n, v in vars(CaseStore).items() if callable(v) and not n.startswith("_")]
    # Every method of the port and its parts (the sweep's queue, the unit of work): a new one must be
    # added to both.
    port_methods = sorted(
        {
            n
            for cls in CaseStore.__mro__
            if cls.__module__ == "casework.ports"
            for n, v in vars(cls).items()
            if callable(v) and not n.startswith("_")
        }
    )
    assert (
        len(port_methods) == 67
    )  # 56, three identity calls (0010), eight open-case reads (0011), one read gone, closed cases, removing an
    # attendee and the case read with the viewer's roles (issue 14); less the two lease releases and the
    # contacts read, now part of each claim (0012); every case of some areas, for changed rules
    for name in port_methods:
        port = list(inspect.signature(getattr(CaseStore, name)).parameters)
        ours = list(inspect.signature(getattr(SqlStore, name)).parameters)
        assert ours == port, name


# -- people and roles ------------------------------------------------------------------------------


def test_person_round_trips_and_upsert_updates(store: SqlStore) -> None:
    ann = Person(id="aad-1", email="ann@sussex.gov.uk", display_name="Ann", agency="police")
    assert store.upsert_person(ann) == ann
    assert store.get_person("aad-1") == ann
    moved = replace(ann, agency="health", line_manager_id="aad-9", display_name="Ann B")
    assert store.upsert_person(moved) == moved
    assert store.get_person("aad-1") == moved
    assert store.get_person("nobody") is None


def test_email_is_stored_lowercased_and_found_in_any_case(store: SqlStore) -> None:
    stored = store.upsert_person(Person(id="aad-2", email="  Chair.One@Sussex.GOV.uk "))
    assert stored.email == "chair.one@sussex.gov.uk"
    for asked in ("chair.one@sussex.gov.uk", "CHAIR.ONE@SUSSEX.GOV.UK", "Chair.One@sussex.gov.UK "):
        found = store.find_person_by_email(asked)
        assert found is not None and found.id == "aad-2"
    assert store.find_person_by_email("chair.two@sussex.gov.uk") is None


def test_an_email_belongs_to_one_person_whatever_its_case(store: SqlStore) -> None:
    store.upsert_person(Person(id="aad-3", email="dup@example.org"))
    with pytest.raises(AlreadyExists, match=re.escape("dup@example.org")):
        store.upsert_person(Person(id="aad-4", email="DUP@Example.org"))
    assert store.get_person("aad-4") is None


def test_roles_are_per_area_plus_those_granted_for_every_area(store: SqlStore) -> None:
    for pid in ("p-chair", "p-hos", "p-admin"):
        store.upsert_person(Person(id=pid, email=f"{pid}@example.org", display_name=pid))
    store.grant_role(RoleGrant("p-chair", "chair", "sussex"))
    store.grant_role(RoleGrant("p-chair", "chair", "sussex"))  # again: a no-op
    store.grant_role(RoleGrant("p-chair", "professional", "london"))
    store.grant_role(RoleGrant("p-hos", "head_of_safeguarding", "sussex"))
    store.grant_role(RoleGrant("p-admin", "admin", "*"))
    store.grant_role(RoleGrant("p-admin", "chair", "*"))

    assert store.roles_of("p-chair", "sussex") == {"chair"}
    assert store.roles_of("p-chair", "london") == {"professional"}
    assert store.roles_of("p-chair", "hipps") == set()
    assert store.roles_of("p-admin", "hipps") == {"admin", "chair"}
    assert store.roles_of("nobody", "sussex") == set()

    assert [p.id for p in store.people_with_role("chair", "sussex")] == ["p-admin", "p-chair"]
    assert [p.id for p in store.people_with_role("chair", "london")] == ["p-admin"]
    assert [p.id for p in store.people_with_role("head_of_safeguarding", "sussex")] == ["p-hos"]
    assert store.people_with_role("head_of_safeguarding", "london") == []


def test_unknown_roles_are_refused(store: SqlStore) -> None:
    with pytest.raises(InvalidRecord, match="superuser"):
        store.grant_role(RoleGrant("p-1", "superuser", "sussex"))
    assert store.roles_of("p-1", "sussex") == set()


# -- conferences -----------------------------------------------------------------------------------


def test_conference_round_trips_with_attendees_in_order(store: SqlStore) -> None:
    conf = conference(
        held_at=datetime(2026, 6, 15, 10, 5, tzinfo=UTC),
        ended_at=datetime(2026, 6, 15, 11, 45, 30, 123456, tzinfo=UTC),
        attendees=(Attendee("p-2", "health"), Attendee("p-1", "police")),
        meeting_chat_id="19:meeting_abc@thread.v2",
    )
    assert store.add_conference(conf) == conf
    assert store.get_conference("CPC-100") == conf
    assert store.get_conference("CPC-404") is None


def test_a_conference_reference_and_chat_are_added_once(store: SqlStore) -> None:
    store.add_conference(conference(meeting_chat_id="chat-1"))
    with pytest.raises(AlreadyExists, match="CPC-100"):
        store.add_conference(conference(area="london"))
    with pytest.raises(AlreadyExists, match="chat-1"):
        store.add_conference(conference("CPC-101", meeting_chat_id="chat-1"))
    assert store.get_conference("CPC-101") is None
    stored = store.get_conference("CPC-100")
    assert stored is not None and stored.area == "sussex"


def test_unknown_conference_types_are_refused(store: SqlStore) -> None:
    with pytest.raises(InvalidRecord, match="conference type"):
        store.add_conference(conference(type="informal"))


def test_update_conference_replaces_details_and_never_drops_attendees(store: SqlStore) -> None:
    store.add_conference(conference(attendees=(Attendee("p-1", "police"),)))
    store.add_attendee("CPC-100", Attendee("p-2", "health"))
    stale = conference(attendees=(Attendee("p-1", "police"), Attendee("p-3", "school")))
    held = replace(stale, held_at=datetime(2026, 6, 15, 9, 0, tzinfo=UTC), meeting_chat_id="chat-9")
    updated = store.update_conference(held)
    assert updated.held_at == datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
    assert updated.meeting_chat_id == "chat-9"
    assert [a.person_id for a in updated.attendees] == ["p-1", "p-2", "p-3"]
    assert store.get_conference("CPC-100") == updated
    with pytest.raises(NotFound, match="CPC-404"):
        store.update_conference(conference("CPC-404"))


def test_update_conference_cannot_take_another_conferences_chat(store: SqlStore) -> None:
    store.add_conference(conference("CPC-1", meeting_chat_id="chat-1"))
    store.add_conference(conference("CPC-2", meeting_chat_id="chat-2"))
    with pytest.raises(AlreadyExists, match="chat-1"):
        store.update_conference(conference("CPC-2", meeting_chat_id="chat-1"))
    assert store.conference_for_chat("chat-2") == store.get_conference("CPC-2")


def test_add_attendee_is_idempotent_and_needs_the_conference(store: SqlStore) -> None:
    store.add_conference(conference())
    store.add_attendee("CPC-100", Attendee("p-1", "police"))
    store.add_attendee("CPC-100", Attendee("p-1", "health"))
    stored = store.get_conference("CPC-100")
    assert stored is not None and stored.attendees == (Attendee("p-1", "police"),)
    with Session(store.engine) as s:
        assert s.scalar(select(func.count()).select_from(AttendeeRow)) == 1
    with pytest.raises(NotFound, match="CPC-404"):
        store.add_attendee("CPC-404", Attendee("p-1", "police"))


def test_remove_attendee_takes_off_one_person_only(store: SqlStore) -> None:
    store.add_conference(conference(attendees=(Attendee("p-1", "police"), Attendee("p-2", "health"))))
    assert store.remove_attendee("CPC-100", "p-1") is True
    assert store.remove_attendee("CPC-100", "p-1") is False
    stored = store.get_conference("CPC-100")
    assert stored is not None and stored.attendees == (Attendee("p-2", "health"),)
    assert [c.reference for c in store.conferences_attended_by("p-1")] == []
    with pytest.raises(NotFound, match="CPC-404"):
        store.remove_attendee("CPC-404", "p-2")


def test_the_case_with_the_viewers_roles_comes_in_one_read(store: SqlStore) -> None:
    store.add_conference(conference(attendees=(Attendee("p-1", "police"),)))
    store.grant_role(RoleGrant("p-1", "head_of_safeguarding", "sussex"))
    store.grant_role(RoleGrant("p-1", "admin", "*"))
    store.grant_role(RoleGrant("p-1", "chair", "london"))
    loaded = store.load_case_for("CPC-100", "p-1")
    assert loaded is not None
    case, roles = loaded
    assert case == store.load_case("CPC-100") and roles == {"head_of_safeguarding", "admin"}
    assert store.load_case_for("CPC-404", "p-1") is None
    other = store.load_case_for("CPC-100", "p-2")
    assert other is not None and other[1] == set()


def test_conference_for_chat(store: SqlStore) -> None:
    store.add_conference(conference("CPC-1", meeting_chat_id="19:one@thread.v2"))
    store.add_conference(conference("CPC-2", meeting_chat_id="19:two@thread.v2"))
    store.add_conference(conference("CPC-3"))
    found = store.conference_for_chat("19:two@thread.v2")
    assert found is not None and found.reference == "CPC-2"
    assert store.conference_for_chat("19:three@thread.v2") is None


def test_conferences_attended_by(store: SqlStore) -> None:
    store.add_conference(conference("CPC-3", attendees=(Attendee("p-1", "police"),)))
    store.add_conference(conference("CPC-1", attendees=(Attendee("p-2", "health"),)))
    store.add_conference(conference("CPC-2"))
    store.add_attendee("CPC-2", Attendee("p-1", "police"))
    store.add_attendee("CPC-2", Attendee("p-2", "health"))
    assert [c.reference for c in store.conferences_attended_by("p-1")] == ["CPC-2", "CPC-3"]
    assert [c.reference for c in store.conferences_attended_by("p-2")] == ["CPC-1", "CPC-2"]
    assert store.conferences_attended_by("chair-1") == []  # chairing is not attending
    attended = store.conferences_attended_by("p-1")[0]
    assert attended.attendees == (Attendee("p-1", "police"), Attendee("p-2", "health"))


# -- dissents and complaints -----------------------------------------------------------------------


def test_dissents_round_trip_in_time_order_and_change_state(store: SqlStore) -> None:
    later = Dissent(None, "CPC-1", "p-2", "health", "plan too weak", datetime(2026, 6, 17, 9, 0, tzinfo=UTC))
    earlier = Dissent(
        None, "CPC-1", "p-1", "police", "category wrong", datetime(2026, 6, 16, 9, 0, tzinfo=UTC), late=True
    )
    other = Dissent(None, "CPC-2", "p-1", "police", "x", datetime(2026, 6, 16, tzinfo=UTC))
    stored_later = store.add_dissent(later)
    stored_earlier = store.add_dissent(earlier)
    store.add_dissent(other)
    assert stored_later.id is not None and stored_earlier.id is not None
    assert stored_later.id != stored_earlier.id
    assert stored_later == replace(later, id=stored_later.id)
    assert store.dissents_for("CPC-1") == [stored_earlier, stored_later]
    assert store.dissents_for("CPC-9") == []

    store.set_dissent_state(stored_earlier.id, "upheld")
    assert [d.state for d in store.dissents_for("CPC-1")] == ["upheld", "raised"]
    with pytest.raises(NotFound):
        store.set_dissent_state(999_999, "upheld")
    with pytest.raises(AlreadyExists):
        store.add_dissent(stored_later)


def test_complaints_round_trip_and_move_stage(store: SqlStore) -> None:
    complaint = Complaint(
        None, "CPC-1", "sussex", datetime(2026, 7, 1, 12, 0, tzinfo=UTC), "parent", "process", "summary"
    )
    stored = store.add_complaint(complaint)
    assert stored.id is not None and stored == replace(complaint, id=stored.id)
    assert store.complaints_for("CPC-1") == [stored]
    store.set_complaint_stage(stored.id, "stage2")
    assert [c.stage for c in store.complaints_for("CPC-1")] == ["stage2"]
    with pytest.raises(NotFound):
        store.set_complaint_stage(999_999, "stage2")


def test_a_complainant_is_recorded_by_role_never_by_name(store: SqlStore) -> None:
    named = Complaint(None, "CPC-1", "sussex", datetime(2026, 7, 1, tzinfo=UTC), "Mrs Example", "grounds")
    with pytest.raises(InvalidRecord, match="complainant role"):
        store.add_complaint(named)
    assert store.complaints_for("CPC-1") == []


# -- events ----------------------------------------------------------------------------------------


def test_events_round_trip_in_time_order(store: SqlStore) -> None:
    held = CaseEvent("CPC-1", "conference_held", datetime(2026, 6, 15, 10, tzinfo=UTC), "chair-1")
    scheduled = CaseEvent("CPC-1", "conference_scheduled", datetime(2026, 6, 1, 9, tzinfo=UTC))
    assert store.record_event(held) == held
    assert store.record_event(scheduled) == scheduled
    store.record_event(CaseEvent("CPC-2", "birth", datetime(2026, 5, 1, tzinfo=UTC)))
    assert store.events_for("CPC-1") == [scheduled, held]
    assert store.events_for("CPC-3") == []


# -- time ------------------------------------------------------------------------------------------


def test_timestamps_come_back_as_equal_aware_utc(store: SqlStore) -> None:
    summer = datetime(2026, 7, 1, 14, 30, 15, 654321, tzinfo=LONDON)  # BST, UTC+1
    winter = datetime(2026, 12, 17, 14, 0, tzinfo=LONDON)  # GMT
    odd = datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5, minutes=-30)))
    store.add_conference(conference(scheduled_at=summer, held_at=winter, ended_at=odd))
    store.record_event(CaseEvent("CPC-100", "conference_held", summer))
    stored = store.get_conference("CPC-100")
    assert stored is not None
    event_at = store.events_for("CPC-100")[0].at
    for sent, got in (
        (summer, stored.scheduled_at),
        (winter, stored.held_at),
        (odd, stored.ended_at),
        (summer, event_at),
    ):
        assert got is not None
        assert got == sent
        assert got.tzinfo is UTC
        assert got.replace(tzinfo=None) == sent.astimezone(UTC).replace(tzinfo=None)
    assert stored.scheduled_at == datetime(2026, 7, 1, 13, 30, 15, 654321, tzinfo=UTC)


def test_naive_datetimes_are_refused_with_the_field_named(store: SqlStore) -> None:
    naive = datetime(2026, 6, 15, 10, 0)
    with pytest.raises(NaiveDatetimeError, match="held_at"):
        store.add_conference(conference(held_at=naive))
    assert store.get_conference("CPC-100") is None
    store.add_conference(conference())
    with pytest.raises(NaiveDatetimeError, match="scheduled_at"):
        store.update_conference(conference(scheduled_at=naive))
    with pytest.raises(NaiveDatetimeError, match="raised_at"):
        store.add_dissent(Dissent(None, "CPC-100", "p-1", "police", "r", naive))
    with pytest.raises(NaiveDatetimeError, match="received_at"):
        store.add_complaint(Complaint(None, "CPC-100", "sussex", naive, "parent", "g"))
    with pytest.raises(NaiveDatetimeError):
        store.record_event(CaseEvent("CPC-100", "conference_held", naive))
    with pytest.raises(NaiveDatetimeError):
        store.append_audit("p-1", "x", "CPC-100", {}, at=naive)
    stored = store.get_conference("CPC-100")
    assert stored is not None and stored.scheduled_at == conference().scheduled_at
    assert store.dissents_for("CPC-100") == []
    assert store.complaints_for("CPC-100") == []
    assert store.events_for("CPC-100") == []
    assert store.audit_entries() == []


def test_the_column_type_itself_refuses_naive_datetimes(store: SqlStore) -> None:
    """Code that bypasses SqlStore and writes rows directly still cannot store a naive time."""
    with Session(store.engine) as s:
        s.add(DissentRow(reference="CPC-1", person_id="p", agency="a", reason="r", raised_at=datetime(2026, 1, 1)))
        with pytest.raises(StatementError) as caught:
            s.flush()
        assert isinstance(caught.value.orig, NaiveDatetimeError)
        s.rollback()
    column_type = UTCDateTime()
    with pytest.raises(NaiveDatetimeError):
        column_type.process_bind_param(datetime(2026, 1, 1), store.engine.dialect)


def test_dissent_transition_is_compare_and_set(store: SqlStore) -> None:
    from casework.records import Dissent

    d = store.add_dissent(
        Dissent(None, "CPC-7", "oid-1", "police", "threshold not met", datetime(2026, 12, 17, 15, tzinfo=UTC))
    )
    assert d.id is not None
    assert store.transition_dissent(d.id, ("raised",), "recorded") is True
    assert store.transition_dissent(d.id, ("raised",), "recorded") is False  # a second click changes nothing
    got = store.get_dissent(d.id)
    assert got is not None and got.state == "recorded"
    assert store.get_dissent(d.id + 1000) is None


def test_conversation_refs_round_trip_and_replace(store: SqlStore) -> None:
    assert store.conversation_ref("oid-1") is None
    store.save_conversation_ref("oid-1", '{"conversation": {"id": "a"}}')
    store.save_conversation_ref("oid-1", '{"conversation": {"id": "b"}}')
    assert store.conversation_ref("oid-1") == '{"conversation": {"id": "b"}}'


def test_list_conferences_by_area(store: SqlStore) -> None:
    from casework.records import Conference

    store.add_conference(Conference("CPC-1", "sussex", "initial"))
    store.add_conference(Conference("CPC-2", "london", "initial"))
    assert [c.reference for c in store.list_conferences()] == ["CPC-1", "CPC-2"]
    assert [c.reference for c in store.list_conferences("london")] == ["CPC-2"]


def test_load_case_is_the_same_as_the_separate_reads(store: SqlStore) -> None:
    from casework.records import Attendee, CaseEvent, Complaint, Conference, Dissent

    at = datetime(2026, 12, 17, 14, tzinfo=UTC)
    store.add_conference(
        Conference(
            "CPC-5",
            "sussex",
            "initial",
            held_at=at,
            chair_id="c",
            attendees=(Attendee("p1", "police"), Attendee("p2", "health")),
        )
    )
    store.record_event(CaseEvent("CPC-5", "conference_held", at, "t"))
    store.add_dissent(Dissent(None, "CPC-5", "p1", "police", "reason text", at + timedelta(hours=1), True))
    store.add_complaint(Complaint(None, "CPC-5", "sussex", at + timedelta(days=2), "parent", "decision", "s"))
    case = store.load_case("CPC-5")
    assert case is not None
    assert case.conference == store.get_conference("CPC-5")
    assert list(case.events) == store.events_for("CPC-5")
    assert list(case.dissents) == store.dissents_for("CPC-5")
    assert list(case.complaints) == store.complaints_for("CPC-5")
    assert store.load_case("CPC-404") is None
