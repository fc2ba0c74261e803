"""Who a Teams user is, on the real store (SQLite and PostgreSQL): casework.commands.identity.

Issue 11: an activity from another tenant whose roster email matched the chair's acted as the chair.
People are found by (tenant id, Entra object id); the roster email links a registered person to a
pair once, in the home tenant only, with an audit entry, and never to a second account.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.procedures import load_catalogue
from casework.commands.identity import ANY_TENANT, TeamsUser
from casework.records import Person
from casework.service import Casework
from store.sql import SqlStore

HOME = "home-tenant"
NOW = datetime(2026, 12, 17, 16, 0, tzinfo=UTC)
CHAIR = Person("local-chair", "chair@sussex.gov.uk", "Chair", "social_care")
NURSE = Person("oid-nurse", "nurse@nhs.net", "Nurse", "health")


def casework(store: SqlStore) -> Casework:
    cw = Casework(store, load_catalogue().areas, lambda: NOW)
    cw.register_person("cli", CHAIR)
    cw.register_person("cli", NURSE)
    return cw


def links(store: SqlStore) -> list[dict[str, object]]:
    return [e.detail for e in store.iter_audit() if e.action == "identity.linked"]


def test_registered_by_object_id_is_found_in_the_home_tenant_and_linked(store: SqlStore) -> None:
    cw = casework(store)
    assert cw.recognise(TeamsUser(HOME, "oid-nurse"), HOME) == NURSE
    assert store.identity_of("oid-nurse") == (HOME, "oid-nurse")
    assert links(store) == [{"person": "oid-nurse", "tenant": HOME, "object_id": "oid-nurse", "by": "object-id"}]
    # Found by the pair from now on, with no second entry.
    assert cw.recognise(TeamsUser(HOME, "oid-nurse"), HOME) == NURSE
    assert len(links(store)) == 1


def test_the_same_object_id_in_another_tenant_is_nobody(store: SqlStore) -> None:
    cw = casework(store)
    assert cw.recognise(TeamsUser("other-tenant", "oid-nurse"), HOME) is None
    assert cw.link_by_roster_email(TeamsUser("other-tenant", "oid-nurse"), NURSE.email, HOME) is None
    assert links(store) == []


def test_roster_email_links_once_in_the_home_tenant_with_an_audit_entry(store: SqlStore) -> None:
    cw = casework(store)
    chair = TeamsUser(HOME, "oid-chair")
    assert cw.recognise(chair, HOME) is None  # registered with a local id: not by the object id
    assert cw.link_by_roster_email(chair, "CHAIR@sussex.gov.uk", HOME) == CHAIR
    assert cw.recognise(chair, HOME) == CHAIR
    (entry,) = [e for e in store.iter_audit() if e.action == "identity.linked"]
    assert (entry.actor, entry.reference) == ("local-chair", "-")
    assert entry.detail == {"person": "local-chair", "tenant": HOME, "object_id": "oid-chair", "by": "roster-email"}
    assert "chair@" not in str(entry.detail)  # the email is never in the audit log


def test_another_tenant_claiming_the_chairs_email_is_refused(store: SqlStore) -> None:
    """The hole itself: a valid token from another (allowed) tenant, the chair's email on its roster."""
    cw = casework(store)
    intruder = TeamsUser("other-tenant", "oid-intruder")
    assert cw.link_by_roster_email(intruder, CHAIR.email, HOME) is None
    assert store.identity_of("local-chair") is None
    assert links(store) == []


def test_a_linked_person_is_never_linked_to_a_second_account(store: SqlStore) -> None:
    cw = casework(store)
    assert cw.link_by_roster_email(TeamsUser(HOME, "oid-chair"), CHAIR.email, HOME) == CHAIR
    assert cw.link_by_roster_email(TeamsUser(HOME, "oid-chair-2"), CHAIR.email, HOME) is None
    assert cw.recognise(TeamsUser(HOME, "oid-chair-2"), HOME) is None
    assert store.identity_of("local-chair") == (HOME, "oid-chair")
    assert len(links(store)) == 1


def test_no_home_tenant_configured_links_nothing(store: SqlStore) -> None:
    """Authenticated with CPC_ALLOWED_TENANTS but no CPC_APP_TENANT_ID: no tenant is home."""
    cw = casework(store)
    assert cw.recognise(TeamsUser(HOME, "oid-nurse"), None) is None
    assert cw.link_by_roster_email(TeamsUser(HOME, "oid-chair"), CHAIR.email, None) is None
    assert links(store) == []


def test_loopback_development_treats_every_tenant_as_home(store: SqlStore) -> None:
    cw = casework(store)
    assert cw.recognise(TeamsUser("", "oid-nurse"), ANY_TENANT) == NURSE
    assert cw.link_by_roster_email(TeamsUser("playground", "oid-chair"), CHAIR.email, ANY_TENANT) == CHAIR


def test_tenant_ids_compare_without_case(store: SqlStore) -> None:
    cw = casework(store)
    assert cw.recognise(TeamsUser(HOME.upper(), "oid-nurse"), HOME) == NURSE
    assert cw.recognise(TeamsUser(HOME, "oid-nurse"), HOME.upper()) == NURSE


def test_two_accounts_racing_for_one_person_link_one(store: SqlStore) -> None:
    """Two first turns at once, each naming the chair's email from its own account: one link stands."""
    import threading

    cw = casework(store)
    barrier = threading.Barrier(8)
    found: list[Person | None] = [None] * 8

    def turn(i: int) -> None:
        barrier.wait()
        found[i] = cw.link_by_roster_email(TeamsUser(HOME, f"oid-{i % 2}"), CHAIR.email, HOME)

    threads = [threading.Thread(target=turn, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    linked = store.identity_of("local-chair")
    assert linked is not None
    winner = int(linked[1].removeprefix("oid-"))
    assert len(links(store)) == 1
    # Every turn from the winning account found the chair; every turn from the other, nobody.
    assert all((p == CHAIR) == (i % 2 == winner) for i, p in enumerate(found)), found
