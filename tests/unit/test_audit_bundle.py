"""A case bundle's check, with no store: entries signed as the store signs them, the key rotated
between two of them, other cases' entries between them in the log."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from casework.audit_bundle import BundleUnreadable, dumps, seal, verify_bundle
from casework.audit_mac import MAC_GENESIS, AuditKeys, mac_body, sign
from casework.bundle import audit_record
from casework.records import AuditEntry
from casework.wording import detail_words

OLD, NEW = b"o" * 32, b"n" * 32
T0 = datetime(2027, 1, 4, 10, 0, tzinfo=UTC)


def signed_log(rotate_at: int, n: int = 6) -> list[AuditEntry]:
    """``n`` entries signed as store.audit_log does, under OLD until ``rotate_at``, then NEW (the
    first of NEW's segment also signed by OLD); even positions are CPC-1's, odd ones CPC-2's."""
    out: list[AuditEntry] = []
    prev_mac, prev_kid = MAC_GENESIS, None
    for seq in range(1, n + 1):
        key = OLD if seq < rotate_at else NEW
        kid = AuditKeys(key).current_id
        at, ref, detail = T0 + timedelta(minutes=seq), "CPC-1" if seq % 2 == 0 else "CPC-2", {"reasons": f"r{seq}"}
        body = mac_body(seq, at, "oid-hos", "dissent.upheld", ref, detail, prev_mac, kid)
        cross = sign(OLD, body) if prev_kid is not None and prev_kid != kid else None
        out.append(AuditEntry(seq, at, "oid-hos", "dissent.upheld", ref, detail, "", "", sign(key, body), kid, cross))
        prev_mac, prev_kid = out[-1].mac or MAC_GENESIS, kid
    return out


def bundle(entries: list[AuditEntry], reference: str = "CPC-1", keys: AuditKeys | None = None) -> dict[str, Any]:
    before = {e.seq: e for e in entries}
    mine = [e for e in entries if e.reference == reference]
    records = [
        audit_record(e, before[e.seq - 1].mac if e.seq > 1 else None, before[e.seq - 1].key_id if e.seq > 1 else None)
        for e in mine
    ]
    content = {"reference": reference, "exported_words": "Wed 20 Jan 2027, 12:00", "audit": {"entries": records}}
    return seal(content, keys or AuditKeys(NEW, (OLD,)))


def test_a_rotation_inside_the_case_verifies_with_both_keys() -> None:
    doc = bundle(signed_log(rotate_at=4))
    seqs = [e["seq"] for e in doc["content"]["audit"]["entries"]]
    assert seqs == [2, 4, 6]  # position 4 starts NEW's segment, after CPC-2's entry 3 under OLD
    report = verify_bundle(dumps(doc), AuditKeys(NEW, (OLD,)))
    assert report.problems == []
    assert report.summary().startswith("case CPC-1, exported Wed 20 Jan 2027, 12:00: 3 audit entries, 3 signed")


def test_without_the_old_key_each_old_entry_and_the_rotation_are_named() -> None:
    doc = bundle(signed_log(rotate_at=4))
    old_id, new_id = AuditKeys(OLD).current_id, AuditKeys(NEW).current_id
    assert verify_bundle(dumps(doc), AuditKeys(NEW)).problems == [
        f"position 2: signed with key {old_id}, which was not given",
        f"position 4: key rotated from {old_id}, which was not given",
    ]
    # The bundle's MAC is under the current key at export; given only the old one, that is named too.
    assert verify_bundle(dumps(doc), AuditKeys(OLD)).problems[-1] == (
        f"bundle content: signed with key {new_id}, which was not given"
    )


def test_neighbours_in_the_log_must_chain() -> None:
    log = [replace(e, reference="CPC-1") for e in signed_log(rotate_at=99, n=3)]
    # Signed as the store would: each over the MAC before it.
    prev = MAC_GENESIS
    kid = AuditKeys(OLD).current_id
    for i, e in enumerate(log):
        mac = sign(OLD, mac_body(e.seq, e.at, e.actor, e.action, "CPC-1", e.detail, prev, kid))
        log[i] = replace(e, mac=mac)
        prev = mac
    keys = AuditKeys(NEW, (OLD,))
    doc = bundle(log, keys=keys)
    assert verify_bundle(dumps(doc), keys).problems == []
    doc["content"]["audit"]["entries"][2]["prev_mac"] = "f" * 64
    assert verify_bundle(dumps(seal(doc["content"], keys)), keys).problems == [
        "position 3: MAC does not match (edited, moved or re-signed without the key)",
        "position 3: does not chain to position 2, the entry before it",
    ]


def test_an_entry_of_another_case_or_out_of_order_is_named() -> None:
    doc = bundle(signed_log(rotate_at=99, n=4), reference="CPC-2")  # positions 1 and 3
    entries = doc["content"]["audit"]["entries"]
    assert entries[0]["prev_mac"] == MAC_GENESIS
    # Re-sealed with the key (so the content MAC passes): an entry moved in from another case is named.
    keys = AuditKeys(NEW, (OLD,))
    entries[1]["reference"] = "CPC-9"
    problems = verify_bundle(dumps(seal(doc["content"], keys)), keys).problems
    assert problems[0] == "position 3: an entry of 'CPC-9', not of case CPC-2"
    entries[1]["reference"] = "CPC-2"
    entries.reverse()
    assert (
        "position 1: out of order (after position 3)" in verify_bundle(dumps(seal(doc["content"], keys)), keys).problems
    )


def test_an_unsigned_entry_from_before_the_keyed_chain_is_counted_not_failed() -> None:
    keys = AuditKeys(NEW)
    old = AuditEntry(1, T0, "cli", "conference.added", "CPC-1", {})
    content = {"reference": "CPC-1", "exported_words": "now", "audit": {"entries": [audit_record(old, None, None)]}}
    report = verify_bundle(dumps(seal(content, keys)), keys)
    assert report.problems == [] and (report.entries, report.signed) == (1, 0)
    assert "1 written before the keyed chain began, covered by the bundle's MAC only" in report.summary()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "does not parse as JSON (line 1, column 2): changed or cut short"),
        ("[]", 'is not a case bundle (no "format": "cpc-case-bundle/1")'),
        (json.dumps({"format": "cpc-case-bundle/1"}), "is not a case bundle: the bundle has no 'content'"),
        (
            json.dumps({"format": "cpc-case-bundle/1", "content": {"audit": {"entries": [{"seq": "1"}]}}, "mac": {}}),
            "is not a case bundle: content has no 'reference'",
        ),
    ],
)
def test_what_is_not_a_bundle_is_said_in_one_line(text: str, message: str) -> None:
    with pytest.raises(BundleUnreadable) as caught:
        verify_bundle(text, AuditKeys(NEW))
    assert str(caught.value) == message


def test_detail_in_words() -> None:
    detail = {"dissent": 1, "late": False, "at": "2027-01-05T10:00:00+00:00", "roles": ["chair@sussex", "admin@*"]}
    assert detail_words(detail) == "dissent: 1; late: no; at: Tue 5 Jan 2027, 10:00; roles: chair@sussex, admin@*"
