"""Free text of a case wherever it lives: dissents' reasons, complaints' summaries and case_texts.

Redaction and retention replace the text in place; nothing else in the database holds it (the audit
log has only its hash).
"""

from __future__ import annotations

from sqlalchemy import select, update

from casework.free_text import FreeText
from store.base import Repository
from store.models import BookingRow, CaseTextRow, ComplaintRow, DissentRow


class FreeTextRepository(Repository):
    def add_case_text(self, reference: str, field: str, record_id: int, text: str) -> None:
        """A decision's reasons or a correction's reason, in the action's own transaction."""
        with self._write() as s:
            s.add(CaseTextRow(reference=reference, field=field, record_id=record_id, text=text))

    def free_texts(self, reference: str) -> list[FreeText]:
        """Every piece of free text of the case, in a stable order."""
        with self._read() as s:
            out = [
                FreeText(reference, "dissent-reason", d.id, d.reason)
                for d in s.scalars(select(DissentRow).where(DissentRow.reference == reference).order_by(DissentRow.id))
            ]
            out += [
                FreeText(reference, "complaint-summary", c.id, c.summary)
                for c in s.scalars(
                    select(ComplaintRow).where(ComplaintRow.reference == reference).order_by(ComplaintRow.id)
                )
                if c.summary
            ]
            out += [
                FreeText(reference, "delay-reason", b.id, b.delay_reason)
                for b in s.scalars(select(BookingRow).where(BookingRow.reference == reference).order_by(BookingRow.id))
                if b.delay_reason
            ]
            out += [
                FreeText(reference, t.field, t.record_id, t.text)
                for t in s.scalars(
                    select(CaseTextRow).where(CaseTextRow.reference == reference).order_by(CaseTextRow.id)
                )
            ]
            return out

    def replace_free_text(self, reference: str, field: str, record_id: int, text: str) -> bool:
        """Put ``text`` (a redaction or removal notice) in place of the field's text; False if none."""
        if field == "dissent-reason":
            stmt = update(DissentRow).where(DissentRow.id == record_id, DissentRow.reference == reference)
            stmt = stmt.values(reason=text)
        elif field == "delay-reason":
            stmt = update(BookingRow).where(BookingRow.id == record_id, BookingRow.reference == reference)
            stmt = stmt.values(delay_reason=text)
        elif field == "complaint-summary":
            stmt = update(ComplaintRow).where(ComplaintRow.id == record_id, ComplaintRow.reference == reference)
            stmt = stmt.values(summary=text)
        else:
            stmt = update(CaseTextRow).where(
                CaseTextRow.field == field, CaseTextRow.record_id == record_id, CaseTextRow.reference == reference
            )
            stmt = stmt.values(text=text)
        with self._write() as s:
            return bool(getattr(s.execute(stmt), "rowcount", 0))
