"""The keyed audit chain: what makes a rewrite by someone with database access show.

The unkeyed hash chain (casework.audit) catches a careless edit, but anyone who can write to the
database can recompute it. Each entry therefore also carries an HMAC-SHA-256 of its content and the
previous entry's MAC, under a key that lives only in the environment (never in the database). A
rewritten row cannot be re-signed without the key; a deleted tail, or a log emptied altogether, is
caught by the checkpoints written outside the database (the head's position and MAC at a moment).

Rotating the key starts a new segment: its first entry is signed by the new key and, as ``cross_mac``,
by the old one, so the two segments are provably one log. Verification names the first position
that disagrees, which is what a complaints manager must be able to tell the Ombudsman.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from casework.audit import GENESIS, canonical_json, canonical_time, entry_hash
from casework.errors import CaseworkError
from casework.records import AuditEntry

MAC_GENESIS = "0" * 64


class AuditKeyError(CaseworkError):
    """The audit key is missing, too short, or the one the log needs is not given."""


@dataclass(frozen=True, slots=True)
class AuditKeys:
    """The current key and any earlier ones (needed to verify older segments and to rotate)."""

    current: bytes
    previous: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        for k in (self.current, *self.previous):
            if len(k) < 32:
                raise AuditKeyError("an audit key must be at least 32 bytes; generate one with: openssl rand -hex 32")

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    def by_id(self) -> dict[str, bytes]:
        return {key_id(k): k for k in (self.current, *self.previous)}


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The head as it was at a moment, kept outside the database."""

    seq: int
    mac: str
    at: datetime
    key_id: str


def key_id(key: bytes) -> str:
    """A name for a key that reveals nothing of it: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(b"cpc-audit-key-id:" + key).hexdigest()[:16]


def mac_body(
    seq: int, at: datetime, actor: str, action: str, reference: str, detail: Mapping[str, Any], prev_mac: str, kid: str
) -> bytes:
    """The canonical bytes signed: every field, the previous MAC and the key's id."""
    return canonical_json(
        {
            "seq": seq,
            "at": canonical_time(at),
            "actor": actor,
            "action": action,
            "reference": reference,
            "detail": detail,
            "prev_mac": prev_mac,
            "key_id": kid,
        }
    )


def sign(key: bytes, body: bytes) -> str:
    return hmac.new(key, body, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Link:
    """What the next entry chains to: the last entry's position, hash, MAC and key id."""

    seq: int
    hash: str
    mac: str | None
    key_id: str | None


@dataclass(frozen=True, slots=True)
class Chained:
    """The chain fields of a new entry, computed from the last one: what the store writes."""

    seq: int
    prev_hash: str
    hash: str
    mac: str
    key_id: str
    cross_mac: str | None

    def link(self) -> Link:
        return Link(self.seq, self.hash, self.mac, self.key_id)


def chain_next(
    last: Link | None,
    at: datetime,
    actor: str,
    action: str,
    reference: str,
    detail: dict[str, Any],
    keys: AuditKeys,
) -> Chained:
    """The next entry's seq, hashes and MACs: one function, so that the store's append and anything
    that builds a log in bulk (the benchmark) chain entries the same way.

    ``detail`` is what will be read back (the dict the hash is taken over). A new key's segment
    starts signed by the old key too (``cross_mac``), so the two are one log.
    """
    seq, prev = (1, GENESIS) if last is None else (last.seq + 1, last.hash)
    digest = entry_hash(seq, at, actor, action, reference, detail, prev)
    kid = keys.current_id
    prev_mac = last.mac if last is not None and last.mac else MAC_GENESIS
    body = mac_body(seq, at, actor, action, reference, detail, prev_mac, kid)
    cross = None
    if last is not None and last.key_id and last.key_id != kid:
        old = keys.by_id().get(last.key_id)
        if old is None:
            raise AuditKeyError(
                f"the audit log is signed with key {last.key_id}; to rotate, give that key in "
                "CPC_AUDIT_KEY_PREVIOUS with the new one in CPC_AUDIT_KEY"
            )
        cross = sign(old, body)
    return Chained(seq, prev, digest, sign(keys.current, body), kid, cross)


def _body_of(e: AuditEntry, prev_mac: str) -> bytes:
    assert e.key_id is not None
    return mac_body(e.seq, e.at, e.actor, e.action, e.reference, e.detail, prev_mac, e.key_id)


@dataclass(slots=True)
class MacReport:
    """What verification found: problems in order, each naming its position, and the counts."""

    problems: list[str]
    entries: int = 0
    keyed: int = 0
    segments: int = 0
    checkpoints: int = 0
    last_seq: int = 0
    last_mac: str = MAC_GENESIS


class MacCheck:
    """The keyed chain checked one entry at a time (see :func:`verify_macs`), so that one streamed pass
    over the log can feed this and the hash chain's check together."""

    __slots__ = ("by_seq", "checkpoints", "expected_seq", "known", "prev_kid", "prev_mac", "report", "seen")

    def __init__(self, keys: AuditKeys, checkpoints: Sequence[Checkpoint] = ()) -> None:
        self.known = keys.by_id()
        self.report = MacReport([])
        self.checkpoints = checkpoints
        self.by_seq = {c.seq: c for c in checkpoints}
        self.seen: set[int] = set()
        self.prev_mac = MAC_GENESIS
        self.prev_kid: str | None = None
        self.expected_seq = 1

    def add(self, e: AuditEntry) -> None:
        report, known = self.report, self.known
        report.entries += 1
        if e.seq != self.expected_seq:
            report.problems.append(f"position {self.expected_seq}: entry missing or moved (found {e.seq} there)")
            self.expected_seq = e.seq
        if e.mac is None:
            if report.keyed:
                report.problems.append(f"position {e.seq}: entry has no MAC after the keyed chain began")
        else:
            report.keyed += 1
            prev_mac, prev_kid = self.prev_mac, self.prev_kid
            key = known.get(e.key_id or "")
            if key is None:
                report.problems.append(f"position {e.seq}: signed with key {e.key_id}, which was not given")
            elif not hmac.compare_digest(sign(key, _body_of(e, prev_mac)), e.mac):
                report.problems.append(
                    f"position {e.seq}: MAC does not match (edited, moved or re-signed without the key)"
                )
            if e.key_id != prev_kid:
                report.segments += 1
                if prev_kid is not None:
                    old = known.get(prev_kid)
                    if old is None:
                        report.problems.append(f"position {e.seq}: key rotated from {prev_kid}, which was not given")
                    elif e.cross_mac is None or not hmac.compare_digest(sign(old, _body_of(e, prev_mac)), e.cross_mac):
                        report.problems.append(f"position {e.seq}: new key's segment is not signed by the old key")
            self.prev_kid = e.key_id
            self.prev_mac = e.mac
        cp = self.by_seq.get(e.seq)
        if cp is not None:
            self.seen.add(e.seq)
            if e.mac is None or not hmac.compare_digest(cp.mac, e.mac):
                report.problems.append(f"position {e.seq}: differs from the checkpoint written {canonical_time(cp.at)}")
        self.expected_seq += 1

    def finish(self) -> MacReport:
        """The report, once every entry is in: the last position and MAC, and any checkpoint past the end."""
        report = self.report
        report.last_seq = self.expected_seq - 1
        report.last_mac = self.prev_mac
        report.checkpoints = len(self.checkpoints)
        for cp in sorted(self.checkpoints, key=lambda c: c.seq):
            if cp.seq not in self.seen and cp.seq > report.last_seq:
                report.problems.append(
                    f"position {report.last_seq + 1}: the log ends at {report.last_seq} but a checkpoint written "
                    f"{canonical_time(cp.at)} recorded {cp.seq} entries (entries removed)"
                )
                break
        return report


def verify_macs(entries: Iterable[AuditEntry], keys: AuditKeys, checkpoints: Sequence[Checkpoint] = ()) -> MacReport:
    """Check every entry's MAC and link, streaming (constant memory), then every checkpoint.

    Entries written before the keyed chain began (no MAC) may only come first; after the first keyed
    entry, an entry without a MAC is a failure.
    """
    check = MacCheck(keys, checkpoints)
    for e in entries:
        check.add(e)
    return check.finish()
