"""Free text: what people type, kept in its record and referred to by its hash everywhere else.

A dissent's reason, a decision's reasons, a correction's reason and a complaint's summary can hold a
name, however often people are asked not to type one. So the append-only audit log never copies
them: an entry records what happened, who did it and when, and the SHA-256 of any text, which shows
the text was not changed afterwards without holding the text itself. The text lives in its record,
where it can be redacted (``cpc case redact``) or removed when the retention period ends
(``cpc retention apply``), and the audit chain still verifies.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from casework.clock import spoken_date

# Field names as typed on the command line, and what each is.
FIELDS: dict[str, str] = {
    "dissent-reason": "a professional's reason for dissenting",
    "decision-reasons": "the reasons for a decision on a dissent",
    "correction-reason": "the reason a step was withdrawn",
    "complaint-summary": "a complaint's summary",
    "outcome-explanation": "the explanation given with a complaint's confirmed decision",
    "delay-reason": "why a meeting or panel was booked after its statutory date",
}
REDACTED = "[redacted"
REMOVED = "[removed"


@dataclass(frozen=True, slots=True)
class FreeText:
    """One piece of free text of a case: its field, the record it belongs to and the text."""

    reference: str
    field: str
    record_id: int
    text: str

    @property
    def erased(self) -> bool:
        return is_erased(self.text)


def is_erased(text: str) -> bool:
    """Whether the text is a redaction's or retention's notice, not what someone typed."""
    return text.lstrip().startswith((REDACTED, REMOVED))


def text_hash(text: str) -> str:
    """SHA-256 of the text in Unicode NFC, so the same words typed on two devices hash alike."""
    return hashlib.sha256(unicodedata.normalize("NFC", text).encode("utf-8")).hexdigest()


def redaction_notice(at: datetime, why: str) -> str:
    return f"{REDACTED} on {spoken_date(at.date())}: {why}]"


def retention_notice(at: datetime) -> str:
    return f"{REMOVED} on {spoken_date(at.date())}: the retention period ended]"
