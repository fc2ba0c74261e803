"""``cpc case redact`` and ``cpc retention apply``: erasing free text without breaking the audit chain.

A refusal by casework (not entitled, no such field) is one line and exit 1; bad arguments exit 2.
"""

from __future__ import annotations

import argparse
import sys

from app import cli_case
from app.cli import CliError, _catalogue_areas
from casework.clock import spoken
from casework.errors import CaseworkError
from casework.packs import typed_reference


def cmd_case_redact(args: argparse.Namespace) -> int:
    ref = typed_reference(args.ref, _catalogue_areas().values())
    store = cli_case._opened()
    if store.get_person(args.as_) is None:
        raise CliError(f"--as {args.as_!r}: nobody is registered with this id")
    try:
        changed = cli_case.casework(store).redact(args.as_, ref, args.field, args.id, args.why)
    except CaseworkError as exc:
        print(f"cpc: refused: {exc}", file=sys.stderr)
        return cli_case.EXIT_REFUSED
    print(f"{changed.reference}: {changed.summary}")
    return 0


def cmd_retention(args: argparse.Namespace) -> int:
    """List (``--dry-run``) or remove the free text of cases closed longer than their area keeps it."""
    store = cli_case._opened()
    cw = cli_case.casework(store)
    due = cw.retention_due()
    if not due:
        print("retention: no closed case is past its retention period with free text left")
        return 0
    removed = 0
    for item in due:
        if args.dry_run:
            print(f"{item.reference}: closed {spoken(item.closed_at)}; {item.texts} text(s) would be removed")
        else:
            removed += cw.apply_retention("retention", item.reference)
    if not args.dry_run:
        print(f"retention: removed {removed} text(s) from {len(due)} case(s); their audit entries remain")
    return 0
