"""An attacker with write access to the database, but not the audit key, cannot rewrite the log quietly.

Each of the nine tamperings below is made as such an attacker would, on SQLite and PostgreSQL, and
``cpc audit verify`` must exit 1 naming the first position that disagrees. The last four passed
unnoticed while the chain had no key and its only anchor lived in the same database: the attacker
recomputes the unkeyed hash chain and moves the anchor. Only the keyed MAC and the checkpoint kept
outside the database catch them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, event, text

from app.audit import verify_log
from app.cli import main
from casework.audit import GENESIS, entry_hash
from casework.audit_mac import AuditKeyError, AuditKeys
from store import audit_log
from store.sql import SqlStore, open_store

T0 = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
KEY_A = "a" * 64
KEY_B = "b" * 64


@pytest.fixture()
def env(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    checkpoints = tmp_path / "outside" / "checkpoints.jsonl"
    monkeypatch.setenv("CPC_DATABASE_URL", store_url)
    monkeypatch.setenv("CPC_AUDIT_KEY", KEY_A)
    monkeypatch.delenv("CPC_AUDIT_KEY_PREVIOUS", raising=False)
    monkeypatch.setenv("CPC_AUDIT_CHECKPOINT_FILE", str(checkpoints))
    return checkpoints


@pytest.fixture()
def log(env: Path, store_url: str) -> Iterator[SqlStore]:
    """Six entries signed with key A, and a checkpoint of the head taken outside the database."""
    store = open_store(store_url, audit_keys=AuditKeys(KEY_A.encode()))
    for i in range(6):
        store.append_audit("aad-1", "dissent.raised", f"CPC-{i % 2}", {"i": i}, at=T0 + timedelta(minutes=i))
    try:
        yield store
    finally:
        store.close()


def verify(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["audit", "verify"])
    return code, capsys.readouterr().out


def checkpoint(capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["audit", "checkpoint"]) == 0
    return capsys.readouterr().out


def rechain(conn: Connection) -> None:
    """What an attacker without the key can do: recompute the unkeyed chain and move the anchor."""
    rows = conn.execute(text("SELECT seq, at, actor, action, reference, detail FROM audit_log ORDER BY seq")).all()
    import json

    prev = GENESIS
    for r in rows:
        at = r.at if isinstance(r.at, datetime) else datetime.fromisoformat(str(r.at))
        digest = entry_hash(r.seq, at, r.actor, r.action, r.reference, json.loads(r.detail), prev)
        conn.execute(
            text("UPDATE audit_log SET prev_hash = :p, hash = :h WHERE seq = :s"), {"p": prev, "h": digest, "s": r.seq}
        )
        prev = digest
    conn.execute(text("DELETE FROM audit_head"))
    if rows:
        conn.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, :s, :h)"), {"s": rows[-1].seq, "h": prev})


def edit_3(conn: Connection) -> None:
    conn.execute(text("""UPDATE audit_log SET action = 'dissent.withdrawn' WHERE seq = 3"""))


def delete_3(conn: Connection) -> None:
    conn.execute(text("DELETE FROM audit_log WHERE seq = 3"))


def swap_3_4(conn: Connection) -> None:
    conn.execute(text("UPDATE audit_log SET seq = -3 WHERE seq = 3"))
    conn.execute(text("UPDATE audit_log SET seq = 3 WHERE seq = 4"))
    conn.execute(text("UPDATE audit_log SET seq = 4 WHERE seq = -3"))


def delete_tail(conn: Connection) -> None:
    conn.execute(text("DELETE FROM audit_log WHERE seq >= 5"))


def delete_anchor(conn: Connection) -> None:
    conn.execute(text("DELETE FROM audit_head"))


def edit_3_recomputed(conn: Connection) -> None:
    edit_3(conn)
    rechain(conn)


def delete_3_renumbered(conn: Connection) -> None:
    delete_3(conn)
    for seq in (4, 5, 6):
        conn.execute(text("UPDATE audit_log SET seq = :n WHERE seq = :o"), {"n": seq - 1, "o": seq})
    rechain(conn)


def delete_tail_anchor_moved(conn: Connection) -> None:
    delete_tail(conn)
    rechain(conn)


def delete_everything(conn: Connection) -> None:
    conn.execute(text("DELETE FROM audit_log"))
    conn.execute(text("DELETE FROM audit_head"))


TAMPERINGS: dict[str, tuple[Callable[[Connection], None], str]] = {
    "row edited": (edit_3, "position 3:"),
    "row deleted": (delete_3, "position 3:"),
    "rows swapped": (swap_3_4, "position 3:"),
    "tail deleted": (delete_tail, "position 5:"),
    "anchor deleted": (delete_anchor, "anchor is missing"),
    # The four that passed unnoticed before the chain had a key:
    "row edited, chain and anchor recomputed": (edit_3_recomputed, "position 3:"),
    "row deleted, rest renumbered and recomputed": (delete_3_renumbered, "position 3:"),
    "tail deleted, anchor moved": (delete_tail_anchor_moved, "position 5:"),
    "every row and the anchor deleted": (delete_everything, "position 1:"),
}


def test_intact_log_verifies_against_its_checkpoint(log: SqlStore, capsys: pytest.CaptureFixture[str]) -> None:
    assert "entry 6" in checkpoint(capsys)
    code, out = verify(capsys)
    assert code == 0, out
    assert "6 entries, 6 signed in 1 key segment(s), checked against 1 checkpoint(s)" in out


@pytest.mark.parametrize("name", list(TAMPERINGS))
def test_each_tampering_is_named_at_its_first_position(
    name: str, log: SqlStore, capsys: pytest.CaptureFixture[str]
) -> None:
    tamper, first = TAMPERINGS[name]
    checkpoint(capsys)
    with log.engine.begin() as conn:
        tamper(conn)
    code, out = verify(capsys)
    assert code == 1, (name, out)
    problems = [line for line in out.splitlines() if line.startswith("audit: ")]
    assert problems and first in problems[0], (name, out)
    assert "FAILED verification" in out


@pytest.mark.parametrize("name", list(TAMPERINGS))
def test_each_tampering_is_caught_when_the_log_is_read_three_entries_a_page(
    name: str, log: SqlStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six entries in pages of three: entry 3 ends the first page, so each tampering above sits on a
    page boundary (the swap of 3 and 4 straddles it); verification must not lose the chain there."""
    monkeypatch.setattr(audit_log, "AUDIT_PAGE", 3)
    tamper, first = TAMPERINGS[name]
    checkpoint(capsys)
    with log.engine.begin() as conn:
        tamper(conn)
    code, out = verify(capsys)
    problems = [line for line in out.splitlines() if line.startswith("audit: ")]
    assert code == 1 and problems and first in problems[0], (name, out)


def test_verify_reads_in_pages_and_names_an_edit_at_a_page_boundary(log: SqlStore) -> None:
    for i in range(6, 10):
        log.append_audit("aad-2", "dissent.raised", "CPC-9", {"i": i}, at=T0 + timedelta(minutes=i))
    pages: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if "FROM audit_log" in statement and "LIMIT" in statement and "seq >" in statement:
            pages.append(statement)

    event.listen(log.engine, "before_cursor_execute", seen)
    try:
        problems, summary = verify_log(log, page=3)
        assert problems == [] and summary.startswith("10 entries, 10 signed")
        assert len(pages) == 4  # 3 + 3 + 3 + 1, one pass feeding both chains
        with log.engine.begin() as conn:  # entry 4 opens the second page
            conn.execute(text("UPDATE audit_log SET actor = 'aad-9' WHERE seq = 4"))
        problems, _ = verify_log(log, page=3)
    finally:
        event.remove(log.engine, "before_cursor_execute", seen)
    assert problems[0].startswith("position 4: MAC does not match")
    assert "entry 4 was edited after it was written" in problems


def test_the_wrong_key_fails_from_the_first_entry(
    log: SqlStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CPC_AUDIT_KEY", KEY_B)
    code, out = verify(capsys)
    assert code == 1 and "audit: position 1: signed with key" in out and "which was not given" in out


def test_key_rotation_starts_a_segment_signed_by_both_keys(
    log: SqlStore, store_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    old = log.audit_last()
    assert old is not None and old.seq == 6
    # Without the old key, the new one cannot continue the log: refused, nothing written.
    alone = open_store(store_url, audit_keys=AuditKeys(KEY_B.encode()))
    with pytest.raises(AuditKeyError, match="CPC_AUDIT_KEY_PREVIOUS"):
        alone.append_audit("aad-1", "dissent.raised", "CPC-1", {"i": 6})
    alone.close()
    rotated = open_store(store_url, audit_keys=AuditKeys(KEY_B.encode(), (KEY_A.encode(),)))
    entry = rotated.append_audit("aad-1", "dissent.raised", "CPC-1", {"i": 6})
    more = rotated.append_audit("aad-1", "dissent.raised", "CPC-1", {"i": 7})
    rotated.close()
    assert entry.seq == 7 and entry.cross_mac and entry.key_id != old.key_id
    assert more.cross_mac is None
    monkeypatch.setenv("CPC_AUDIT_KEY", KEY_B)
    monkeypatch.setenv("CPC_AUDIT_KEY_PREVIOUS", KEY_A)
    checkpoint(capsys)
    code, out = verify(capsys)
    assert code == 0 and "8 entries, 8 signed in 2 key segment(s)" in out, out
    # The old segment needs the old key to be verified.
    monkeypatch.delenv("CPC_AUDIT_KEY_PREVIOUS")
    code, out = verify(capsys)
    assert code == 1 and "position 1: signed with key" in out
    # The new segment's first entry must carry the old key's signature.
    monkeypatch.setenv("CPC_AUDIT_KEY_PREVIOUS", KEY_A)
    with log.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET cross_mac = NULL WHERE seq = 7"))
    code, out = verify(capsys)
    assert code == 1 and "position 7: new key's segment is not signed by the old key" in out


def test_an_empty_log_without_checkpoints_is_empty(
    env: Path, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    open_store(store_url).close()
    code, out = verify(capsys)
    assert (code, out.strip()) == (0, "audit log intact: audit log is empty")


def test_a_checkpoint_is_also_emailed_when_asked(
    log: SqlStore, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    outbox = tmp_path / "outbox"
    monkeypatch.setenv("CPC_OUTBOX_DIR", str(outbox))
    monkeypatch.setenv("CPC_AUDIT_CHECKPOINT_MAILTO", "records@example.org")
    assert "entry 6" in checkpoint(capsys)
    (mail,) = outbox.glob("audit-checkpoint-6-*.eml")
    import email
    from email.message import EmailMessage
    from email.policy import default

    message = email.message_from_bytes(mail.read_bytes(), policy=default)
    assert isinstance(message, EmailMessage) and message["To"] == "records@example.org"
    body = message.get_content()
    assert '"seq": 6' in body
    last = log.audit_last()
    assert last is not None and last.mac is not None and last.mac in body
