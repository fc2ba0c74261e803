"""``cpc audit verify --bundle FILE``: a case bundle checked with the key alone.

The check needs only the file and the key (``CPC_AUDIT_KEY``, as the log's own verification), never
the database, since its recipient (the Ombudsman's reviewer, a complaints manager elsewhere) has none.
Apart from the export (app.bundle) so that it loads neither the store, SQLAlchemy nor the PDF writer.
"""

from __future__ import annotations

from pathlib import Path

from app.cli import CliError
from casework.audit_bundle import BundleUnreadable, verify_bundle
from store.audit_keys import key_configured, load_audit_keys


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


__all__ = ["verify_bundle_file"]
