"""Sealing a case bundle, and checking one: what a recipient holding the audit key can verify.

A bundle holds one case's audit entries, which are not contiguous in the log (other cases' entries
lie between them), so the chain's links cannot be re-run from it. What can be checked is:

- each entry's MAC, recomputed from every field it signs and the MAC it was signed over (``prev_mac``,
  the MAC of the log's entry before it, carried in the bundle); where two of the case's entries are
  neighbours in the log, that the second was signed over the first;
- the bundle's own MAC: HMAC-SHA-256, under the same key, over the canonical JSON of the whole content
  (timelines, explanations, events, decisions, entries), so that a changed word anywhere shows;
- that the file is byte for byte as it was written, so that even a change the JSON reader cannot see
  (whitespace, an escape) is reported, though the content is then still what was signed.

Each problem names where: ``position N`` (the entry's position in the whole log) or ``bundle content``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from casework.audit import canonical_json
from casework.audit_mac import AuditKeys, mac_body, sign
from casework.errors import CaseworkError

FORMAT = "cpc-case-bundle/1"
ALGORITHM = "HMAC-SHA-256"
# Signed before the content, so that a bundle's MAC can never pass for an entry's, nor one's for the other.
DOMAIN = b"cpc-case-bundle/1\n"


class BundleUnreadable(CaseworkError):
    """The file is not a case bundle: it does not parse, or a part it must have is missing."""


def canonical(content: Mapping[str, Any]) -> bytes:
    """The bytes the bundle's MAC signs: the audit log's own canonical form."""
    return canonical_json(content)


def content_mac(key: bytes, content: Mapping[str, Any]) -> str:
    return hmac.new(key, DOMAIN + canonical(content), hashlib.sha256).hexdigest()


def seal(content: Mapping[str, Any], keys: AuditKeys) -> dict[str, Any]:
    """The bundle document: its format, the content, and the content's MAC under the current key."""
    return {
        "format": FORMAT,
        "content": dict(content),
        "mac": {"algorithm": ALGORITHM, "key_id": keys.current_id, "value": content_mac(keys.current, content)},
    }


def dumps(document: Mapping[str, Any]) -> str:
    """The file's text. Verification writes the parsed document out again with this and compares."""
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


@dataclass(slots=True)
class BundleReport:
    """What checking a bundle found; ``problems`` first position first, bundle-wide ones last."""

    problems: list[str] = field(default_factory=list)
    reference: str = ""
    exported: str = ""
    entries: int = 0
    signed: int = 0
    key_id: str = ""

    def summary(self) -> str:
        unsigned = self.entries - self.signed
        older = (
            f" ({unsigned} written before the keyed chain began, covered by the bundle's MAC only)" if unsigned else ""
        )
        return (
            f"case {self.reference}, exported {self.exported}: {self.entries} audit entries, {self.signed} "
            f"signed{older}; content matches its MAC under key {self.key_id}"
        )


def _need(obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise BundleUnreadable(f"is not a case bundle: {where} has no {key!r}")
    value = obj[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise BundleUnreadable(f"is not a case bundle: {where}.{key} is not what a bundle holds")
    return value


def _parse(text: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BundleUnreadable(
            f"does not parse as JSON (line {exc.lineno}, column {exc.colno}): changed or cut short"
        ) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BundleUnreadable(f'is not a case bundle (no "format": "{FORMAT}")')
    return doc


def _check_entry(
    raw: Any, n: int, reference: str, known: Mapping[str, bytes], report: BundleReport
) -> tuple[int, str | None]:
    where = f"entry {n + 1}"
    seq = _need(raw, "seq", int, where)
    at_text = _need(raw, "at", str, where)
    mac = raw.get("mac")
    pos = f"position {seq}"
    if raw.get("reference") != reference:
        report.problems.append(f"{pos}: an entry of {raw.get('reference')!r}, not of case {reference}")
    if mac is None:
        return seq, None
    report.signed += 1
    kid = _need(raw, "key_id", str, where)
    prev_mac = _need(raw, "prev_mac", str, where)
    try:
        at = datetime.fromisoformat(at_text)
    except ValueError:
        report.problems.append(f"{pos}: its time {at_text!r} is not a time")
        return seq, str(mac)
    body = mac_body(
        seq,
        at,
        _need(raw, "actor", str, where),
        _need(raw, "action", str, where),
        _need(raw, "reference", str, where),
        _need(raw, "detail", dict, where),
        prev_mac,
        kid,
    )
    key = known.get(kid)
    if key is None:
        report.problems.append(f"{pos}: signed with key {kid}, which was not given")
    elif not isinstance(mac, str) or not hmac.compare_digest(sign(key, body), mac):
        report.problems.append(f"{pos}: MAC does not match (edited, moved or re-signed without the key)")
    prev_kid = raw.get("prev_key_id")
    if prev_kid and prev_kid != kid:
        old = known.get(str(prev_kid))
        cross = raw.get("cross_mac")
        if old is None:
            report.problems.append(f"{pos}: key rotated from {prev_kid}, which was not given")
        elif not isinstance(cross, str) or not hmac.compare_digest(sign(old, body), cross):
            report.problems.append(f"{pos}: new key's segment is not signed by the old key")
    return seq, str(mac)


def verify_bundle(text: str, keys: AuditKeys) -> BundleReport:
    """Check a bundle's text (see the module docstring); :class:`BundleUnreadable` when it is not one."""
    doc = _parse(text)
    content = _need(doc, "content", dict, "the bundle")
    seal_ = _need(doc, "mac", dict, "the bundle")
    audit = _need(content, "audit", dict, "content")
    entries = _need(audit, "entries", list, "content.audit")
    report = BundleReport(
        reference=str(_need(content, "reference", str, "content")),
        exported=str(content.get("exported_words", "")),
        entries=len(entries),
        key_id=str(_need(seal_, "key_id", str, "mac")),
    )
    known = keys.by_id()
    last: tuple[int, str | None] | None = None
    for n, raw in enumerate(entries):
        seq, mac = _check_entry(raw, n, report.reference, known, report)
        if last is not None:
            if seq <= last[0]:
                report.problems.append(f"position {seq}: out of order (after position {last[0]})")
            elif seq == last[0] + 1 and mac is not None and last[1] is not None and raw.get("prev_mac") != last[1]:
                report.problems.append(f"position {seq}: does not chain to position {last[0]}, the entry before it")
        last = (seq, mac)
    key = known.get(report.key_id)
    value = _need(seal_, "value", str, "mac")
    if key is None:
        report.problems.append(f"bundle content: signed with key {report.key_id}, which was not given")
    elif not hmac.compare_digest(content_mac(key, content), value):
        report.problems.append("bundle content: does not match the bundle's MAC (changed after it was exported)")
    elif dumps(doc) != text:
        report.problems.append(
            "bundle file: not byte for byte as exported (reformatted, or whitespace or an escape changed); "
            "its content still matches its MAC"
        )
    return report


__all__ = [
    "ALGORITHM",
    "FORMAT",
    "BundleReport",
    "BundleUnreadable",
    "canonical",
    "content_mac",
    "dumps",
    "seal",
    "verify_bundle",
]
