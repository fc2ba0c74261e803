"""The argument parsers of the booking commands; each command imports its code only when it runs."""

from __future__ import annotations

import argparse
from typing import Any


def cmd_graph_check(args: argparse.Namespace) -> int:
    from app.cli_booking import cmd_graph_check as run

    return run(args)


def cmd_panel(args: argparse.Namespace) -> int:
    from app.cli_booking import cmd_panel as run

    return run(args)


def cmd_mail_drain(args: argparse.Namespace) -> int:
    from app.cli_booking import cmd_mail_drain as run

    return run(args)


def add_parsers(sub: Any, parser_class: type[argparse.ArgumentParser] = argparse.ArgumentParser) -> None:
    """Register ``cpc graph check``, ``cpc mail drain`` and ``cpc panel ...`` on the main parser's subparsers."""
    gr = sub.add_parser("graph", help="Microsoft Graph: permissions and mailbox scope")
    gr.add_argument("action", choices=["check"])
    gr.add_argument("--no-probe", action="store_true", help="read the token's permissions only; call nothing")
    gr.set_defaults(func=cmd_graph_check)

    ml = sub.add_parser("mail", help="the outgoing mail queue")
    ml.add_argument("action", choices=["drain"])
    ml.add_argument("--wait", type=float, default=0.0, help="seconds to wait for throttled or retried messages")
    ml.set_defaults(func=cmd_mail_drain)

    pn = sub.add_parser("panel", help="Stage 2 meetings and inter-agency panels: compose, find slots, book")
    ps = pn.add_subparsers(dest="action", required=True, parser_class=parser_class)

    def common(p: argparse.ArgumentParser, members: bool = True) -> None:
        p.add_argument("--ref", required=True, help="case reference, e.g. CPC-123")
        p.add_argument("--as", dest="as_", required=True, metavar="PERSON_ID", help="the complaints manager acting")
        p.add_argument("--purpose", default="panel", choices=["panel", "stage2-meeting"])
        if members:
            p.add_argument("--member", action="append", required=True, metavar="PERSON_ID", help="repeatable")
            p.add_argument("--chair", metavar="PERSON_ID", help="default: suggested from the least involved agency")
            p.add_argument(
                "--line-managed-by",
                action="append",
                metavar="PERSON_ID",
                help="someone who had line-management responsibility for the case before (repeatable)",
            )

    p = ps.add_parser("propose", help="check a panel against the area's rules; suggest its chair")
    common(p)
    p = ps.add_parser("slots", help="the best slots before the statutory date, or why there are none")
    common(p)
    p.add_argument("--room", metavar="MAILBOX", help="the room's resource mailbox")
    p.add_argument("--duration", default="90", metavar="MINUTES")
    p.add_argument("--count", type=int, default=3)
    p.add_argument("--by", metavar="DATE", help="the date to aim for when the procedure sets none (or sooner)")
    p.add_argument("--no-letter-reserve", action="store_true", help="do not keep the letter's time before the date")
    p.add_argument("--json", action="store_true")
    p = ps.add_parser("book", help="book the meeting (Teams link, invitations, papers in the body)")
    common(p)
    p.add_argument("--room", metavar="MAILBOX")
    p.add_argument("--start", required=True, metavar="ISO-TIME", help="Europe/London when no offset is given")
    p.add_argument("--duration", default="90", metavar="MINUTES")
    p.add_argument("--delay-reason", help="needed when the meeting ends after the latest date")
    p.add_argument("--by", metavar="DATE")
    p = ps.add_parser("reschedule", help="move the booked meeting")
    common(p, members=False)
    p.add_argument("--start", required=True, metavar="ISO-TIME")
    p.add_argument("--duration", metavar="MINUTES")
    p.add_argument("--delay-reason")
    p = ps.add_parser("replace", help="swap a member (after a decline); the panel is checked again")
    common(p, members=False)
    p.add_argument("--leaving", required=True, metavar="PERSON_ID")
    p.add_argument("--joining", required=True, metavar="PERSON_ID")
    p = ps.add_parser("cancel", help="cancel the booked meeting")
    common(p, members=False)
    p.add_argument("--comment")
    ps.add_parser("poll", help="read invitation answers once; prompt about declines")
    pn.set_defaults(func=cmd_panel)
