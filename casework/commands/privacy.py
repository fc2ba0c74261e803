"""Erasing free text: redaction on request, removal when the retention period ends (issue 13 item 3).

The text is replaced in its record by a notice saying when and why; the audit entries that refer to it
keep its hash, so the chain still verifies and still shows what was there was not altered before it
was erased. A redaction is itself audited, with the hash of what it removed and never the text.

Retention: a case's free text is removed once the case has been closed for the area's retention
period (``[area] retention``). The default, 6 years after closure, follows the IRMS Information
Management Toolkit for Schools and Local Authorities' line for complaints records (closure + 6
years); an authority with its own schedule sets it in its pack. A case is closed when it has no
complaint still open and no dissent still awaiting a decision; it closed at its last recorded action.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from casework.clock import add_months, local_date
from casework.commands.base import CaseworkBase
from casework.errors import InvalidInput, NotEntitled
from casework.free_text import FIELDS, FreeText, redaction_notice, retention_notice, text_hash
from casework.results import Changed

OPEN_DISSENT_STATES = ("raised", "recorded")
MIN_WHY = 10


@dataclass(frozen=True, slots=True)
class RetentionDue:
    reference: str
    closed_at: datetime
    texts: int


class PrivacyCommands(CaseworkBase):
    def redact(self, actor: str, reference: str, field: str, record_id: int | None, why: str) -> Changed:
        """Replace one field's text with a redaction notice (an admin, or the area's complaints manager)."""
        if field not in FIELDS:
            raise InvalidInput(f"no field {field!r}; one of: {', '.join(FIELDS)}")
        why = " ".join(why.split())
        if len(why) < MIN_WHY:
            raise InvalidInput(f"give why the text is redacted (at least {MIN_WHY} characters, no names)")
        with self.store.unit_of_work() as uow:
            conference = self.conference(reference)
            ref = conference.reference
            roles = self.roles(actor, conference.area)
            if not roles & {"admin", "complaints_manager"}:
                raise NotEntitled(f"only an administrator or a complaints manager may redact text on {ref}")
            target = self._one(ref, field, record_id)
            if target.erased:
                return Changed(ref, f"That {field} on {ref} is already erased")
            assert target.record_id is not None
            self.store.replace_free_text(ref, field, target.record_id, redaction_notice(self.now(), why))
            self.store.append_audit(
                actor,
                "case.redacted",
                ref,
                {"field": field, "record": target.record_id, "text_sha256": text_hash(target.text)},
            )
            uow.commit()
        return Changed(ref, f"Redacted: {FIELDS[field]} on {ref} (record {target.record_id})")

    def _one(self, reference: str, field: str, record_id: int | None) -> FreeText:
        found = [t for t in self.store.free_texts(reference) if t.field == field]
        if record_id is not None:
            found = [t for t in found if t.record_id == record_id]
        if not found:
            raise InvalidInput(
                f"{reference} has no {field} to redact" + (f" on record {record_id}" if record_id else "")
            )
        if len(found) > 1:
            ids = ", ".join(str(t.record_id) for t in found)
            raise InvalidInput(f"{reference} has more than one {field} (records {ids}): say which with --id")
        return found[0]

    def retention_due(self) -> list[RetentionDue]:
        """Closed cases whose retention period has ended and which still hold free text."""
        now = self.now()
        out: list[RetentionDue] = []
        for conference in self.store.list_conferences():
            area = self.areas.get(conference.area)
            months = area.retention_months if area else 72
            ref = conference.reference
            if any(not c.stage.startswith("closed") for c in self.store.complaints_for(ref)):
                continue
            if any(d.state in OPEN_DISSENT_STATES for d in self.store.dissents_for(ref)):
                continue
            entries = self.store.audit_entries(ref)
            if not entries:
                continue
            closed_at = max(e.at for e in entries)
            if add_months(local_date(closed_at), months) >= local_date(now):
                continue
            texts = [t for t in self.store.free_texts(ref) if not t.erased and t.text]
            if texts:
                out.append(RetentionDue(ref, closed_at, len(texts)))
        return out

    def apply_retention(self, actor: str, reference: str) -> int:
        """Remove every free text of one case that :meth:`retention_due` listed; the count removed."""
        with self.store.unit_of_work() as uow:
            texts = [t for t in self.store.free_texts(reference) if not t.erased and t.text]
            for t in texts:
                self.store.replace_free_text(reference, t.field, t.record_id, retention_notice(self.now()))
            if texts:
                self.store.append_audit(
                    actor,
                    "case.retention_applied",
                    reference,
                    {
                        "removed": [
                            {"field": t.field, "record": t.record_id, "text_sha256": text_hash(t.text)} for t in texts
                        ]
                    },
                )
            uow.commit()
        return len(texts)
