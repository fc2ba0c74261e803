"""The hash-chained, append-only audit log."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text

from casework.audit_mac import AuditKeys, Link, chain_next
from casework.records import (
    AuditEntry,
)
from store.base import Repository
from store.models import (
    AuditHeadRow,
    AuditRow,
)
from store.rows import (
    AUDIT_BATCH,
    AUDIT_LOCK_KEY,
    _audit,
    _aware,
    _canonical_detail,
)

# Rows per page when the whole log is read (iter_audit): a few megabytes of entries at a time.
AUDIT_PAGE = 5_000
# AuditEntry's fields, by name: iter_audit builds entries from rows of these columns.
_AUDIT_COLUMNS = (
    "seq",
    "at",
    "actor",
    "action",
    "reference",
    "detail",
    "prev_hash",
    "hash",
    "mac",
    "key_id",
    "cross_mac",
)


class AuditRepository(Repository):
    """Append-only: there is deliberately no method that updates or deletes an entry."""

    _audit_keys: AuditKeys | None = None

    def audit_keys(self) -> AuditKeys:
        """The keys entries are signed with: given to the store, else from the environment."""
        if self._audit_keys is None:
            from store.audit_keys import load_audit_keys

            self._audit_keys = load_audit_keys()
        return self._audit_keys

    def append_audit(
        self, actor: str, action: str, reference: str, detail: dict[str, Any], at: datetime | None = None
    ) -> AuditEntry:
        """Append one entry chained to the last: seq = last + 1, prev_hash = the last entry's hash.

        Reading the last entry and inserting the next happen under one lock (a PostgreSQL
        transaction-level advisory lock; SQLite's write lock, taken by BEGIN IMMEDIATE), so
        concurrent writers, in this process or another, queue rather than fork the chain.
        """
        when = datetime.now(UTC) if at is None else _aware(at, "audit time")
        stored_detail, hashed_detail = _canonical_detail(detail)
        keys = self.audit_keys()
        with self._write() as s:
            if self._dialect == "postgresql":
                s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})
            last = s.execute(
                select(AuditRow.seq, AuditRow.hash, AuditRow.mac, AuditRow.key_id)
                .order_by(AuditRow.seq.desc())
                .limit(1)
            ).first()
            link = None if last is None else Link(last.seq, last.hash, last.mac, last.key_id)
            c = chain_next(link, when, actor, action, reference, hashed_detail, keys)
            s.add(
                AuditRow(
                    seq=c.seq,
                    at=when,
                    actor=actor,
                    action=action,
                    reference=reference,
                    detail=stored_detail,
                    prev_hash=c.prev_hash,
                    hash=c.hash,
                    mac=c.mac,
                    key_id=c.key_id,
                    cross_mac=c.cross_mac,
                )
            )
            # One upsert, not a merge (a read and a write): this runs under the lock every writer shares.
            head = self._insert()(AuditHeadRow).values(id=1, seq=c.seq, hash=c.hash)
            s.execute(head.on_conflict_do_update(index_elements=["id"], set_={"seq": c.seq, "hash": c.hash}))
        return AuditEntry(
            seq=c.seq,
            at=when,
            actor=actor,
            action=action,
            reference=reference,
            detail=hashed_detail,
            prev_hash=c.prev_hash,
            hash=c.hash,
            mac=c.mac,
            key_id=c.key_id,
            cross_mac=c.cross_mac,
        )

    def audit_entries(self, reference: str | None = None) -> Sequence[AuditEntry]:
        """All entries (or one case's) in seq order, read in one transaction."""
        query = select(AuditRow).order_by(AuditRow.seq)
        if reference is not None:
            query = query.where(AuditRow.reference == reference)
        with self._read() as s:
            return [_audit(r) for r in s.scalars(query)]

    def audit_predecessors(self, seqs: Iterable[int]) -> dict[int, tuple[str | None, str | None]]:
        """For each position, the MAC and key id of the entry just before it in the whole log: what
        that entry was signed over, so that a case bundle (one case's entries, not contiguous) can be
        verified entry by entry. (None, None) for position 1 or a predecessor missing."""
        wanted = sorted({s - 1 for s in seqs if s > 1})
        found: dict[int, tuple[str | None, str | None]] = {}
        with self._read() as s:
            for i in range(0, len(wanted), AUDIT_BATCH):
                chunk = wanted[i : i + AUDIT_BATCH]
                rows = s.execute(select(AuditRow.seq, AuditRow.mac, AuditRow.key_id).where(AuditRow.seq.in_(chunk)))
                found.update((r.seq, (r.mac, r.key_id)) for r in rows)
        return {seq: found.get(seq - 1, (None, None)) for seq in seqs}

    def audit_last(self) -> AuditEntry | None:
        """The newest entry (the head a checkpoint records), or None for an empty log."""
        with self._read() as s:
            row = s.scalars(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1)).first()
            return None if row is None else _audit(row)

    def audit_head(self) -> tuple[int, str] | None:
        """The anchored (seq, hash) of the newest entry, or None for an empty log."""
        with self._read() as s:
            row = s.get(AuditHeadRow, 1)
            return None if row is None else (row.seq, row.hash)

    def iter_audit(self, page: int | None = None) -> Iterator[AuditEntry]:
        """Every entry in seq order, read a page at a time (``page`` rows, default ``AUDIT_PAGE``).

        Keyset pagination on ``seq`` (the primary key), each page in its own short transaction: memory
        stays flat in the log's length, no transaction is held open while the caller works, and no
        page costs more than the first (an OFFSET would rescan every earlier row). Plain rows, not
        ORM objects: the ORM's bookkeeping was most of the cost of verifying a long log.
        """
        size = page or AUDIT_PAGE
        columns = [AuditRow.__table__.c[name] for name in _AUDIT_COLUMNS]
        after = 0
        while True:
            with self._read() as s:
                rows = s.execute(select(*columns).where(AuditRow.seq > after).order_by(AuditRow.seq).limit(size)).all()
            for r in rows:
                # The columns are AuditEntry's fields; only the detail is decoded.
                yield AuditEntry(**r._asdict() | {"detail": json.loads(r.detail)})
            if len(rows) < size:
                return
            after = rows[-1].seq
