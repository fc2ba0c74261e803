"""``cpc case export`` and ``cpc audit verify --bundle``: the case bundle written, and checked.

The export reads one case in the words casework gives it (casework.bundle), verifies the whole audit
log as ``cpc audit verify`` does so that the bundle states the result, seals the content with the
audit key (casework.audit_bundle) and writes it twice: ``REF-case-bundle.json`` and
``REF-case-bundle.pdf``. It writes nothing to the database: it is a reading of the record.

The check (:mod:`app.bundle_check`) needs only the file and the key, never the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from app.audit import verdict, verify_log
from app.bundle_pdf import render_pdf
from casework.audit_bundle import dumps, seal
from casework.bundle import LogCheck, case_content, texts_of
from casework.service import Casework
from store.sql import SqlStore


@dataclass(frozen=True, slots=True)
class Exported:
    json_path: Path
    pdf_path: Path
    entries: int
    intact: bool


def export_case(store: SqlStore, cw: Casework, reference: str, out: Path, now: datetime) -> Exported:
    """Write the case's bundle into ``out`` (made if missing; an earlier export of the case is replaced)."""
    view = cw.system_view(reference)
    ref = view.conference.reference
    entries = store.audit_entries(ref)
    problems, summary = verify_log(store)
    last = store.audit_last()
    content = case_content(
        view,
        store.all_events_for(ref),
        entries,
        store.audit_predecessors([e.seq for e in entries]),
        LogCheck(not problems, verdict(problems, summary), tuple(problems)),
        None if last is None else (last.seq, last.mac),
        now,
        texts_of(store.free_texts(ref)),
    )
    document = seal(content, store.audit_keys())
    out.mkdir(parents=True, exist_ok=True)
    json_path, pdf_path = out / f"{ref}-case-bundle.json", out / f"{ref}-case-bundle.pdf"
    # Bytes, not text mode: the file must be exactly what was sealed on every platform (no CRLF).
    json_path.write_bytes(dumps(document).encode("utf-8"))
    pdf_path.write_bytes(render_pdf(document))
    return Exported(json_path, pdf_path, len(entries), not problems)


__all__ = ["Exported", "export_case"]
