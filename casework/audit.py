"""The audit chain: each entry carries the hash of the previous one, so an edit or removal shows.

Pure functions: the store computes hashes with :func:`entry_hash` when it appends and
``cpc audit verify`` runs :func:`verify_chain` over what it reads back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from casework.records import AuditEntry

GENESIS = "0" * 64


def canonical_time(at: datetime) -> str:
    """A moment as every hash and MAC signs it (UTC, microseconds, ``Z``); a case bundle carries it so
    that its recipient signs the very same bytes."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> bytes:
    """The bytes a hash or MAC is taken over: sorted keys, no spaces, ASCII escapes; stable across
    databases and Python versions."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str).encode("ascii")


def entry_hash(
    seq: int, at: datetime, actor: str, action: str, reference: str, detail: dict[str, Any], prev_hash: str
) -> str:
    """SHA-256 over the entry's canonical JSON form."""
    body = {
        "seq": seq,
        "at": canonical_time(at),
        "actor": actor,
        "action": action,
        "reference": reference,
        "detail": detail,
        "prev": prev_hash,
    }
    return hashlib.sha256(canonical_json(body)).hexdigest()


class ChainCheck:
    """The hash chain checked one entry at a time, so that a log streamed once can feed this and the
    MAC chain's check (casework.audit_mac.MacCheck) in the same pass; memory does not grow with it."""

    __slots__ = ("expected_prev", "expected_seq", "problems")

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.expected_prev = GENESIS
        self.expected_seq = 1

    def add(self, e: AuditEntry) -> None:
        if e.seq != self.expected_seq:
            self.problems.append(f"entry {self.expected_seq} is missing (found {e.seq} next)")
            self.expected_seq = e.seq
        if e.prev_hash != self.expected_prev:
            self.problems.append(f"entry {e.seq} does not chain to the entry before it")
        actual = entry_hash(e.seq, e.at, e.actor, e.action, e.reference, e.detail, e.prev_hash)
        if actual != e.hash:
            self.problems.append(f"entry {e.seq} was edited after it was written")
        self.expected_prev = e.hash
        self.expected_seq += 1

    def finish(self, head: tuple[int, str] | None = None, check_head: bool = False) -> list[str]:
        """The problems found, after the head check (see :func:`verify_chain`)."""
        problems = list(self.problems)
        if check_head and head is not None:
            last_seq = self.expected_seq - 1
            if head[0] > last_seq:
                problems.append(f"entries {last_seq + 1} to {head[0]} were removed (the log ends at {last_seq})")
            elif head[0] < last_seq:
                problems.append(f"entries after {head[0]} were added outside the store")
            elif head[1] != self.expected_prev:
                problems.append(f"entry {last_seq} does not match the anchored head")
        elif check_head and self.expected_seq > 1:
            problems.append("the log's head anchor is missing")
        return problems


def verify_chain(
    entries: Iterable[AuditEntry], head: tuple[int, str] | None = None, check_head: bool = False
) -> list[str]:
    """Return the problems found (empty when the log is intact), in the order they occur.

    With ``check_head``, ``head`` is the (seq, hash) anchored when the newest entry was written
    (None: no anchor was found). Without it, deleting the newest entries leaves a chain that is
    still internally consistent.
    """
    check = ChainCheck()
    for e in entries:
        check.add(e)
    return check.finish(head, check_head)
