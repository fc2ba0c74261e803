"""Reminder rows in the store, on SQLite and PostgreSQL: plans replaced, claims atomic with a lease,
expired leases reclaimed, and concurrent claimers on separate connections never taking a row twice."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect, text, update

from casework.records import Person
from casework.reminders import PENDING, SKIPPED, Reminder, reminder_key
from store.migrate import upgrade
from store.rows import REMINDERS
from store.sql import SqlStore, open_store

T0 = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


def reminder(
    n: int, at: datetime = T0, rule: str = "dissent-decision", state: str = PENDING, ref: str = "CPC-1"
) -> Reminder:
    person = f"p-{n}"
    return Reminder(
        reminder_key(ref, rule, person, at, "before-1"),
        ref,
        "sussex",
        "dissent",
        rule,
        "before-1",
        person,
        "responsible",
        at,
        at + timedelta(days=1),
        state,
    )


def test_replacing_a_plan_adds_cancels_restores_and_never_resends(store: SqlStore) -> None:
    a, b, c = reminder(1), reminder(2), reminder(3, state=SKIPPED)
    change = store.replace_reminders("CPC-1", [a, b, c], frozenset(), T0)
    assert change.inserted == 3
    assert store.replace_reminders("CPC-1", [a, b, c], frozenset(), T0).inserted == 0  # idempotent
    states = {r.key: (r.state, r.next_attempt_at) for r in store.reminders_for("CPC-1")}
    assert states[a.key] == ("pending", T0) and states[c.key] == ("skipped", None)
    # b is no longer planned (its deadline moved): cancelled; planned again later: restored.
    assert store.replace_reminders("CPC-1", [a, c], frozenset(), T0).cancelled == 1
    assert {r.key: r.state for r in store.reminders_for("CPC-1")}[b.key] == "cancelled"
    assert store.replace_reminders("CPC-1", [a, b, c], frozenset(), T0).restored == 1
    # a is sent; a plan without it (the deadline met) does not cancel it, and marks its card for an update.
    claimed = store.claim_reminders(T0, "me", 10, T0 + timedelta(minutes=2)).rows
    assert {r.key for r in claimed} == {a.key, b.key}
    assert store.mark_reminder_sent(claimed[0].id, "me", T0, "activity-1", '{"conversation": {"id": "c"}}')
    sent_key = claimed[0].key
    change = store.replace_reminders("CPC-1", [], frozenset({"dissent-decision"}), T0 + timedelta(hours=1))
    assert change.refresh == 1
    by_key = {r.key: r for r in store.reminders_for("CPC-1")}
    assert by_key[sent_key].state == "met_due" and by_key[sent_key].activity_id == "activity-1"
    assert by_key[sent_key].next_attempt_at == T0 + timedelta(hours=1)


def test_a_claim_takes_due_rows_once_until_the_lease_expires(store: SqlStore) -> None:
    due = [reminder(n) for n in range(5)]
    later = reminder(9, at=T0 + timedelta(hours=1))
    store.replace_reminders("CPC-1", [*due, later], frozenset(), T0)
    lease = T0 + timedelta(minutes=2)
    first = store.claim_reminders(T0, "a", 3, lease).rows
    second = store.claim_reminders(T0, "b", 10, lease).rows
    assert len(first) == 3 and len(second) == 2
    assert {r.id for r in first}.isdisjoint({r.id for r in second})
    assert all(r.lease_owner == "a" and r.lease_until == lease for r in first)
    assert store.claim_reminders(T0 + timedelta(minutes=1), "c", 10, lease).rows == []  # all held, none due later
    # a crashes; after its lease expires its rows are reclaimed (the later row is not yet due).
    assert store.mark_reminder_sent(second[0].id, "b", T0, "x", "{}")
    after = T0 + timedelta(minutes=3)
    reclaimed = store.claim_reminders(after, "c", 10, after + timedelta(minutes=2))
    assert {r.id for r in reclaimed.rows} == {r.id for r in first} | {second[1].id}
    assert reclaimed.reclaimed == 4  # each taken over from a holder whose lease ran out, and counted
    assert all(r.lease_owner == "c" for r in reclaimed.rows)
    # a's late "sent" no longer counts: it lost the lease.
    assert not store.mark_reminder_sent(first[0].id, "a", after, "y", "{}")
    assert store.mark_reminder_sent(first[0].id, "c", after, "y", "{}")


def test_failures_retry_later_or_give_up_and_email_is_recorded(store: SqlStore) -> None:
    r1, r2, r3 = reminder(1), reminder(2), reminder(3)
    store.replace_reminders("CPC-1", [r1, r2, r3], frozenset(), T0)
    rows = {r.key: r for r in store.claim_reminders(T0, "me", 10, T0 + timedelta(minutes=2)).rows}
    retry = T0 + timedelta(seconds=30)
    assert store.mark_reminder_failed(rows[r1.key].id, "me", 2, retry, "HTTP 502")
    assert store.mark_reminder_emailed(rows[r2.key].id, "me", T0, 1, "blocked in Teams (HTTP 403)")
    assert store.mark_reminder_failed(rows[r3.key].id, "me", 1, None, "undeliverable")
    assert store.claim_reminders(T0 + timedelta(seconds=29), "me", 10, T0 + timedelta(minutes=5)).rows == []
    again = store.claim_reminders(retry, "me", 10, retry + timedelta(minutes=2)).rows
    assert [(r.key, r.attempts) for r in again] == [(r1.key, 2)]
    by_key = {r.key: r for r in store.reminders_for("CPC-1")}
    assert (by_key[r2.key].state, by_key[r2.key].channel) == ("emailed", "email")
    assert by_key[r3.key].state == "failed" and by_key[r3.key].next_attempt_at is None


def test_a_claim_brings_each_person_s_email_and_conversation(store: SqlStore) -> None:
    store.upsert_person(Person("p-1", "One@Example.org"))
    store.upsert_person(Person("p-2", "two@example.org"))
    store.save_conversation_ref("p-2", '{"conversation": {"id": "a:2"}}')
    planned = [reminder(1), reminder(2), reminder(3), reminder(1, rule="dissent-window")]
    store.replace_reminders("CPC-1", planned, frozenset(), T0)
    got = store.claim_reminders(T0, "me", 10, T0 + timedelta(minutes=2))
    assert len(got.rows) == 4 and got.reclaimed == 0
    contacts = got.contacts
    assert set(contacts) == {"p-1", "p-2", "p-3"}
    assert (contacts["p-1"].email, contacts["p-1"].conversation) == ("one@example.org", None)
    assert (contacts["p-2"].email, contacts["p-2"].conversation) == (
        "two@example.org",
        '{"conversation": {"id": "a:2"}}',
    )
    assert (contacts["p-3"].email, contacts["p-3"].conversation) == (None, None)


def test_concurrent_claimers_on_their_own_connections_never_take_a_row_twice(store_url: str, store: SqlStore) -> None:
    n = 600
    store.replace_reminders("CPC-1", [reminder(i) for i in range(n)], frozenset(), T0)
    claimed: dict[str, list[int]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def claimer(name: str) -> None:
        own = SqlStore(store_url)  # its own engine and connections, as another instance has
        mine: list[int] = []
        try:
            start.wait()
            while rows := own.claim_reminders(T0, name, 25, T0 + timedelta(minutes=5)).rows:
                for r in rows:
                    mine.append(r.id)
                    own.mark_reminder_sent(r.id, name, T0, f"act-{r.id}", "{}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            own.close()
            claimed[name] = mine

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    every = [i for ids in claimed.values() for i in ids]
    assert len(every) == n and len(set(every)) == n  # each row once, none lost
    assert all(r.state == "sent" for r in store.reminders_for("CPC-1"))


def test_contacts_keep_a_conversation_of_an_id_not_registered(store: SqlStore) -> None:
    store.save_conversation_ref("p-9", '{"conversation": {"id": "a:9"}}')
    store.replace_reminders("CPC-1", [reminder(9)], frozenset(), T0)
    contacts = store.claim_reminders(T0, "me", 10, T0 + timedelta(minutes=2)).contacts
    assert (contacts["p-9"].email, contacts["p-9"].conversation) == (None, '{"conversation": {"id": "a:9"}}')


def test_a_claim_sets_no_indexed_column_so_it_rewrites_no_index(store: SqlStore) -> None:
    """Migration 0012: the lease columns a claim sets are in no index of either queue, and PostgreSQL
    keeps room on each page, so a claim is a heap-only (HOT) update that rewrites no index entry (issue
    12: with ``lease_until`` indexed, each claim rewrote all five indexes of every row it took)."""
    inspector = inspect(store.engine)
    for table in ("reminders", "notices"):
        indexed = {c for ix in inspector.get_indexes(table) for c in ix["column_names"] if c}
        indexed |= {c for u in inspector.get_unique_constraints(table) for c in u["column_names"]}
        indexed |= set(inspector.get_pk_constraint(table)["constrained_columns"])
        assert indexed and not indexed & {"lease_owner", "lease_until"}, (table, indexed)
    if store.engine.dialect.name != "postgresql":
        return
    store.replace_reminders("CPC-1", [reminder(n) for n in range(10)], frozenset(), T0)
    with store.engine.connect() as conn:
        options = conn.execute(text("SELECT reloptions FROM pg_class WHERE oid = 'reminders'::regclass")).scalar()
    assert options == ["fillfactor=90"]
    assert len(store.claim_reminders(T0, "me", 10, T0 + timedelta(minutes=2)).rows) == 10
    store.engine.dispose()  # a backend reports its table statistics when it ends
    counts = (0, 0)
    for _ in range(200):
        with store.engine.connect() as conn:
            counts = conn.execute(
                text("SELECT n_tup_hot_upd, n_tup_upd FROM pg_stat_user_tables WHERE relid = 'reminders'::regclass")
            ).one()
        if counts[1] >= 10:
            break
        time.sleep(0.05)
    hot, updated = counts
    assert updated == 10 and hot == updated  # every row the claim leased stayed on its page


def test_rows_leased_before_the_upgrade_are_still_taken_over(store_url: str) -> None:
    """Rows an instance held when the lease index went (0011 to 0012) are claimed once their lease runs out."""
    upgrade(store_url, "0011_open_cases")
    with SqlStore(store_url) as old:
        old.replace_reminders("CPC-1", [reminder(1), reminder(2)], frozenset(), T0)
        with old.engine.begin() as conn:
            conn.execute(update(REMINDERS).values(lease_owner="gone", lease_until=T0))  # typed: SQLite's format
    upgrade(store_url)
    with SqlStore(store_url) as store:
        assert store.claim_reminders(T0, "me", 10, T0 + timedelta(minutes=2)).rows == []  # still held at T0
        later = T0 + timedelta(seconds=1)
        got = store.claim_reminders(later, "me", 10, later + timedelta(minutes=2))
    assert len(got.rows) == 2 and got.reclaimed == 2


def test_after_a_claim_the_same_connection_still_keeps_a_unit_of_work_whole(store_url: str) -> None:
    """A claim runs in autocommit on PostgreSQL (store.sessions.core_write); the pooled connection must
    go back to transactions, or every later action would commit statement by statement."""
    with open_store(store_url, pool_size=1, max_overflow=0) as store:  # one connection: the claim's is reused
        store.replace_reminders("CPC-1", [reminder(1)], frozenset(), T0)
        assert len(store.claim_reminders(T0, "me", 10, T0 + timedelta(minutes=2)).rows) == 1
        with store.unit_of_work():
            store.upsert_person(Person("p-new", "new@example.org"))
            store.replace_reminders("CPC-2", [reminder(2, ref="CPC-2")], frozenset(), T0)
            # left without commit(): all of it rolls back
        assert store.get_person("p-new") is None
        assert store.reminders_for("CPC-2") == []
