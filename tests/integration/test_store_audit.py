"""The audit log chains each entry to the last, shows tampering, and stays whole under concurrent writers."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from casework.audit import GENESIS, entry_hash, verify_chain
from casework.records import AuditEntry
from store import audit_log
from store.sql import SqlStore

T0 = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)


def fill(store: SqlStore, n: int = 5) -> list[AuditEntry]:
    return [
        store.append_audit(
            actor=f"aad-{i % 2}",
            action="dissent_raised" if i % 2 else "conference_held",
            reference=f"CPC-{i % 3}",
            detail={"i": i, "reason": f"reason {i}", "nested": {"late": i == 3}},
            at=T0 + timedelta(minutes=i),
        )
        for i in range(1, n + 1)
    ]


def execute(store: SqlStore, sql: str, **params: object) -> None:
    """Tamper the way someone with database access would: plain SQL, past the store."""
    with store.engine.begin() as conn:
        conn.execute(text(sql), params)


def test_entries_chain_from_genesis_and_read_back_as_written(store: SqlStore) -> None:
    written = fill(store)
    assert [e.seq for e in written] == [1, 2, 3, 4, 5]
    assert written[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(written):
        assert after.prev_hash == before.hash
    for e in written:
        assert e.hash == entry_hash(e.seq, e.at, e.actor, e.action, e.reference, e.detail, e.prev_hash)
    assert list(store.iter_audit()) == written
    assert list(store.audit_entries()) == written
    assert verify_chain(store.iter_audit()) == []


def test_audit_entries_for_one_reference(store: SqlStore) -> None:
    written = fill(store, 6)
    assert [e.seq for e in store.audit_entries("CPC-0")] == [3, 6]
    assert list(store.audit_entries("CPC-1")) == [e for e in written if e.reference == "CPC-1"]
    assert store.audit_entries("CPC-9") == []


def test_default_time_is_now_in_utc(store: SqlStore) -> None:
    before = datetime.now(UTC)
    entry = store.append_audit("aad-1", "login", "", {})
    after = datetime.now(UTC)
    assert entry.at.tzinfo is UTC
    assert before <= entry.at <= after
    assert list(store.iter_audit()) == [entry]


def test_detail_is_hashed_as_it_is_read_back(store: SqlStore) -> None:
    """Values JSON cannot keep as they are (tuples, datetimes, int keys) must not break the chain."""
    detail: dict[Any, Any] = {"members": ("a", "b"), "at": T0, 3: "three", "ü": "é"}
    entry = store.append_audit("aad-1", "panel_booked", "CPC-1", detail)
    assert entry.detail == {"members": ["a", "b"], "at": str(T0), "3": "three", "ü": "é"}
    assert list(store.iter_audit()) == [entry]
    assert verify_chain(store.iter_audit()) == []


def test_iter_audit_reads_in_batches_without_losing_or_repeating(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = fill(store, 9)  # an exact multiple of the page, then one more
    assert list(store.iter_audit(page=3)) == written
    written.append(store.append_audit("aad-1", "closed", "CPC-1", {}, at=T0))
    assert list(store.iter_audit(page=3)) == written
    assert verify_chain(store.iter_audit(page=3)) == []
    monkeypatch.setattr(audit_log, "AUDIT_PAGE", 4)  # the default page, when none is given
    assert list(store.iter_audit()) == written


def test_the_store_offers_no_way_to_change_the_audit_log() -> None:
    audit_api = {name for name in dir(SqlStore) if "audit" in name and not name.startswith("_")}
    assert audit_api == {
        "append_audit",
        "audit_entries",
        "audit_head",
        "audit_keys",
        "audit_last",
        "audit_predecessors",
        "iter_audit",
    }


# -- tampering -------------------------------------------------------------------------------------


def test_an_edited_detail_is_reported(store: SqlStore) -> None:
    fill(store)
    execute(store, "UPDATE audit_log SET detail = :d WHERE seq = 3", d='{"i": 3, "reason": "nothing"}')
    problems = verify_chain(store.iter_audit())
    assert problems == ["entry 3 was edited after it was written"]


def test_an_edited_actor_or_action_is_reported(store: SqlStore) -> None:
    fill(store)
    execute(store, "UPDATE audit_log SET actor = 'aad-9' WHERE seq = 2")
    execute(store, "UPDATE audit_log SET action = 'dissent_withdrawn' WHERE seq = 4")
    problems = verify_chain(store.iter_audit())
    assert problems == ["entry 2 was edited after it was written", "entry 4 was edited after it was written"]


def test_a_deleted_middle_entry_is_reported(store: SqlStore) -> None:
    fill(store)
    execute(store, "DELETE FROM audit_log WHERE seq = 3")
    problems = verify_chain(store.iter_audit())
    assert any("entry 3 is missing" in p for p in problems)
    assert any("entry 4 does not chain" in p for p in problems)


def test_an_edited_hash_is_reported(store: SqlStore) -> None:
    fill(store)
    execute(store, "UPDATE audit_log SET hash = :h WHERE seq = 2", h="f" * 64)
    problems = verify_chain(store.iter_audit())
    assert "entry 2 was edited after it was written" in problems
    assert "entry 3 does not chain to the entry before it" in problems


def test_an_edit_with_its_hash_recomputed_still_breaks_the_next_link(store: SqlStore) -> None:
    written = fill(store)
    e = written[2]
    forged = {"i": 3, "reason": "rewritten"}
    new_hash = entry_hash(e.seq, e.at, e.actor, e.action, e.reference, forged, e.prev_hash)
    execute(
        store,
        "UPDATE audit_log SET detail = :d, hash = :h WHERE seq = 3",
        d='{"i": 3, "reason": "rewritten"}',
        h=new_hash,
    )
    assert verify_chain(store.iter_audit()) == ["entry 4 does not chain to the entry before it"]


def test_reordered_entries_are_reported(store: SqlStore) -> None:
    fill(store)
    execute(store, "UPDATE audit_log SET seq = 100 WHERE seq = 2")
    execute(store, "UPDATE audit_log SET seq = 2 WHERE seq = 3")
    execute(store, "UPDATE audit_log SET seq = 3 WHERE seq = 100")
    problems = verify_chain(store.iter_audit())
    assert "entry 2 does not chain to the entry before it" in problems
    assert "entry 2 was edited after it was written" in problems
    assert "entry 3 was edited after it was written" in problems


# -- concurrency -----------------------------------------------------------------------------------


def test_concurrent_writers_produce_one_unbroken_chain(store_url: str, store: SqlStore) -> None:
    """Four writers, each with its own engine (as separate instances would be), 25 appends each."""
    threads_n, per_thread = 4, 25
    start = threading.Barrier(threads_n)
    errors: list[BaseException] = []
    returned: dict[int, list[int]] = {}

    def writer(n: int) -> None:
        own = SqlStore(store_url)
        try:
            start.wait()
            returned[n] = [
                own.append_audit(f"writer-{n}", "tick", "CPC-1", {"writer": n, "i": i}).seq for i in range(per_thread)
            ]
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    entries = list(store.iter_audit())
    assert [e.seq for e in entries] == list(range(1, threads_n * per_thread + 1))
    assert verify_chain(entries) == []
    assert Counter(e.actor for e in entries) == {f"writer-{n}": per_thread for n in range(threads_n)}
    assert sorted(seq for seqs in returned.values() for seq in seqs) == [e.seq for e in entries]
    for seqs in returned.values():
        assert seqs == sorted(seqs)


def test_removing_the_newest_entries_is_detected_through_the_head(store: SqlStore) -> None:
    fill(store, 5)
    assert verify_chain(store.iter_audit(), store.audit_head(), check_head=True) == []
    execute(store, "DELETE FROM audit_log WHERE seq >= 4")
    problems = verify_chain(store.iter_audit(), store.audit_head(), check_head=True)
    assert problems == ["entries 4 to 5 were removed (the log ends at 3)"]
    # The chain alone cannot see it: that is why the head is anchored.
    assert verify_chain(store.iter_audit()) == []


def test_deleting_the_head_anchor_is_detected(store: SqlStore) -> None:
    fill(store, 2)
    execute(store, "DELETE FROM audit_head")
    assert verify_chain(store.iter_audit(), store.audit_head(), check_head=True) == ["the log's head anchor is missing"]
