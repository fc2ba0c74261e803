"""``cpc case export`` and ``cpc audit verify --bundle``: the case bundle written, and checked.

The export reads one case in the words casework gives it (casework.bundle), verifies the whole audit
log as ``cpc audit verify`` does so that the bundle states the result, seals the content with the
audit key (casework.audit_bundle) and writes it twice: ``REF-case-bundle.json`` and
``REF-case-bundle.pdf``. It writes nothing to the database: it is a reading of the record.

The check needs only the file and the key (``CPC_AUDIT_KEY``, as the log's own verification), never
the database, since its recipient (the Ombudsman's reviewer, a complaints manager elsewhere) has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from app.audit import verdict, verify_log
from app.bundle_pdf import render_pdf
from app.cli import CliError
from casework.audit_bundle import BundleUnreadable, dumps, seal, verify_bundle
from casework.bundle import LogCheck, case_content, texts_of
from casework.service import Casework
from store.audit_keys import key_configured, load_audit_keys
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


def verify_bundle_file(path: str) -> int:
    """Print each problem and one verdict line; 0 when the bundle is intact, 1 when it is not (or is
    not a bundle at all); a missing file or no key given is bad input (exit 2, from ``cpc``)."""
    raw = Path(path).read_bytes()
    if not key_configured():
        raise CliError("set CPC_AUDIT_KEY (or CPC_AUDIT_KEY_FILE) to the audit key the bundle was signed with")
    try:
        report = verify_bundle(raw.decode("utf-8"), load_audit_keys())
    except UnicodeDecodeError:
        print(f"case bundle FAILED verification: {path} is not UTF-8 text (changed or damaged)")
        return 1
    except BundleUnreadable as exc:
        print(f"case bundle FAILED verification: {path} {exc}")
        return 1
    for p in report.problems:
        print(f"audit: {p}")
    if report.problems:
        print(
            f"case bundle FAILED verification: {len(report.problems)} problem(s); case {report.reference}, "
            f"{report.entries} audit entries"
        )
        return 1
    print(f"case bundle intact: {report.summary()}")
    return 0


__all__ = ["Exported", "export_case", "verify_bundle_file"]
