"""The argument parsers of ``people``, ``conference``, ``demo``, ``case`` and ``retention``.

Apart from their commands (app.cli_case, app.cli_privacy) so that building the ``cpc`` parser, which
every command does, imports neither the casework service, the case bundle nor the store: each command
imports its module only when it runs.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from typing import Any

from casework.free_text import FIELDS

DEMO_REFERENCE = "CPC-90001"


def _command(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    """The command ``module.name``, imported when it runs rather than when the parser is built."""

    def run(args: argparse.Namespace) -> int:
        code: int = getattr(importlib.import_module(module), name)(args)
        return code

    run.__name__ = run.__qualname__ = name
    return run


def add_parsers(sub: Any, parser_class: type[argparse.ArgumentParser] = argparse.ArgumentParser) -> None:
    """Register ``people``, ``conference``, ``demo`` and ``case`` on the main parser's subparsers."""
    pe = sub.add_parser("people", help="people and roles")
    pe_sub = pe.add_subparsers(dest="action", required=True, parser_class=parser_class)
    pa = pe_sub.add_parser("add", help="add or update a person")
    pa.add_argument("--id", required=True, help="Entra object id")
    pa.add_argument("--email", required=True)
    pa.add_argument("--name", help="the professional's display name")
    pa.add_argument("--agency", help="police, health, education, social_care, ...")
    pa.add_argument("--role", action="append", metavar="ROLE[@AREA]", help="repeatable; no @AREA means every area")
    pa.add_argument("--line-manager", metavar="PERSON_ID")
    pa.set_defaults(func=_command("app.cli_case", "cmd_people_add"))

    co = sub.add_parser("conference", help="conferences")
    co_sub = co.add_subparsers(dest="action", required=True, parser_class=parser_class)
    ca = co_sub.add_parser("add", help="add a conference")
    ca.add_argument("--ref", required=True, help="case reference, e.g. CPC-123 (never a name)")
    ca.add_argument("--area", required=True)
    ca.add_argument("--type", default="initial", help="initial, review, prebirth, prebirth_review or reconvened")
    ca.add_argument("--scheduled", metavar="ISO-TIME")
    ca.add_argument("--held", metavar="ISO-TIME")
    ca.add_argument("--ended", metavar="ISO-TIME")
    ca.add_argument("--chair", metavar="PERSON_ID")
    ca.add_argument("--attendee", action="append", metavar="PERSON_ID=AGENCY")
    ca.add_argument("--chat", metavar="MEETING_CHAT_ID")
    ca.set_defaults(func=_command("app.cli_case", "cmd_conference_add"))

    de = sub.add_parser("demo", help="a demo case for the Agents Playground's default user")
    de.add_argument("--ref", default=DEMO_REFERENCE)
    de.add_argument("--area", default="sussex")
    de.set_defaults(func=_command("app.cli_case", "cmd_demo"))

    cs = sub.add_parser("case", help="a case's recorded events, corrections, and its bundle")
    cs_sub = cs.add_subparsers(dest="action", required=True, parser_class=parser_class)
    ev = cs_sub.add_parser("events", help="every event of a case with its id; withdrawn ones marked")
    ev.add_argument("ref", metavar="REF", help="case reference, e.g. CPC-123")
    ev.set_defaults(func=_command("app.cli_case", "cmd_case_events"))
    cc = cs_sub.add_parser("correct", help="withdraw a wrongly recorded event, giving the reason (audited)")
    cc.add_argument("ref", metavar="REF", help="case reference, e.g. CPC-123")
    cc.add_argument("--event", required=True, metavar="ID", help="the event's id (see 'cpc case events REF')")
    cc.add_argument("--reason", required=True, metavar="TEXT", help="why it was wrong (no names)")
    cc.add_argument("--as", dest="as_", required=True, metavar="PERSON_ID", help="who is correcting (entitled)")
    cc.set_defaults(func=_command("app.cli_case", "cmd_case_correct"))
    ex = cs_sub.add_parser("export", help="the case bundle for the Ombudsman: a PDF and a JSON file that verifies")
    ex.add_argument("ref", metavar="REF", help="case reference, e.g. CPC-123")
    ex.add_argument("--out", required=True, metavar="DIR", help="directory for REF-case-bundle.pdf and .json")
    ex.set_defaults(func=_command("app.cli_case", "cmd_case_export"))
    _add_privacy_parsers(sub, cs_sub)


def _add_privacy_parsers(sub: Any, case_sub: Any) -> None:
    """``cpc case redact`` and ``cpc retention apply`` (app.cli_privacy)."""
    rd = case_sub.add_parser("redact", help="replace a field's free text with a redaction notice (audited)")
    rd.add_argument("ref", metavar="REF", help="case reference, e.g. CPC-123")
    rd.add_argument("--field", required=True, choices=list(FIELDS), help="which text")
    rd.add_argument("--id", type=int, metavar="N", help="the record (dissent, complaint or event id) when several")
    rd.add_argument("--why", required=True, metavar="TEXT", help="why it is redacted (no names)")
    rd.add_argument("--as", dest="as_", required=True, metavar="PERSON_ID", help="an admin or complaints manager")
    rd.set_defaults(func=_command("app.cli_privacy", "cmd_case_redact"))
    rt = sub.add_parser("retention", help="remove the free text of cases past their retention period")
    rt.add_argument("action", choices=["apply"])
    rt.add_argument("--dry-run", action="store_true", help="list what would be removed, change nothing")
    rt.set_defaults(func=_command("app.cli_privacy", "cmd_retention"))
