"""Composition of panel booking: Graph or files, the Booker, its jobs and its command-line subcommands.

With Graph credentials (``CPC_GRAPH_*``) availability and events go through Microsoft Graph and mail
through ``sendMail`` from ``CPC_SENDER_MAILBOX`` (queued by idempotency key in ``<outbox>/mail-queue``);
without them, invitations and emails are ``.ics`` and ``.eml`` files under ``CPC_OUTBOX_DIR`` and slot
finding sees only the bot's own bookings (and says so). ``msgraph`` is imported only when Graph is used.

``add_parsers`` registers ``cpc graph check`` and ``cpc panel ...`` on the main parser; ``cpc serve``
adds :class:`PollResponsesJob` and :class:`MailDrainJob` to the scheduler.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.settings import Settings
from casework.booking import Booker, DeclinePrompt, SlotOffer
from casework.clock import end_of_day, parse_time, to_local_iso
from casework.errors import InvalidInput
from casework.packs import Area, typed_reference
from casework.ports import CaseStore
from casework.ports_graph import Booking, Calendar, Mailer
from casework.slots import WorkingHours
from graph.client import GraphConfig
from graph.mail_queue import MailOutbox, QueuedOutbox
from graph.outbox import FileMailer, FileOutbox, LocalCalendar
from store.bookings import SqlBookings

log = logging.getLogger("cpc.booking")

DEFAULT_ORGANISER = "complaints-panels@localhost"


@dataclass
class GraphPorts:
    """The adapters in use: ``mode`` is ``graph`` or ``files``."""

    mode: str
    calendar: Calendar
    mailer: Mailer
    mail: MailOutbox
    outbox: FileOutbox  # a drop-in for the bot's, reminders' and digest's FileOutbox
    organiser: str
    client: Any = None


def graph_config(settings: Settings) -> GraphConfig:
    return GraphConfig.from_settings(settings)


def build_ports(settings: Settings, bookings: SqlBookings, credential: Any = None) -> GraphPorts:
    """Graph when credentials are configured (or a test credential is given), files otherwise."""
    cfg = graph_config(settings)
    outdir = Path(settings.outbox_dir)
    if cfg.configured or credential is not None:
        from graph.client import build_client
        from graph.graph_calendar import GraphCalendar
        from graph.graph_mail import GraphMailer

        problems = [p for p in cfg.problems() if "credentials" not in p]
        if problems:
            raise InvalidInput("Microsoft Graph is configured but " + "; ".join(problems))
        client = build_client(cfg, credential=credential)
        mailer: Mailer = GraphMailer(client, cfg.sender)
        queue = MailOutbox(outdir / "mail-queue", mailer)
        return GraphPorts(
            "graph",
            GraphCalendar(client, cfg.organiser),
            mailer,
            queue,
            QueuedOutbox(outdir, queue),
            cfg.organiser,
            client,
        )
    files = FileOutbox(outdir)
    organiser = cfg.organiser or DEFAULT_ORGANISER
    file_mailer = FileMailer(files)
    return GraphPorts(
        "files",
        LocalCalendar(bookings, files, organiser),
        file_mailer,
        MailOutbox(outdir / "mail-queue", file_mailer),
        files,
        organiser,
    )


def build_booker(
    settings: Settings,
    store: CaseStore,
    areas: Mapping[str, Area],
    now: Callable[[], datetime],
    ports: GraphPorts,
    bookings: SqlBookings,
) -> Booker:
    return Booker(
        store=store,
        bookings=bookings,
        calendar=ports.calendar,
        areas=areas,
        now=now,
        hours=WorkingHours.parse(settings.working_hours),
        organiser=ports.organiser,
    )


# -- scheduler jobs --------------------------------------------------------------------------------

CardSender = Callable[[DeclinePrompt, str], Awaitable[bool]]


@dataclass
class PollResponsesJob:
    """Reads invitation answers; each decline (or lost event) prompts the complaints managers.

    ``send_card(prompt, person_id)`` delivers the Teams card (replace the member or rebook) and returns
    False when the person cannot be reached there; the prompt then goes by email. A prompt is
    acknowledged only after delivery, so a crash in between prompts again rather than never.
    """

    booker: Booker
    store: CaseStore
    outbox: FileOutbox
    send_card: CardSender | None = None

    async def run(self) -> list[DeclinePrompt]:
        from graph.templates import decline_email

        prompts = await self.booker.poll_responses()
        for prompt in prompts:
            for pid in prompt.notify:
                delivered = False
                if self.send_card is not None:
                    try:
                        delivered = await self.send_card(prompt, pid)
                    except Exception as exc:  # a Teams failure must not lose the prompt
                        log.warning("decline prompt card for %s failed: %s", prompt.reference, type(exc).__name__)
                if not delivered:
                    person = self.store.get_person(pid)
                    if person is not None:
                        email = decline_email(prompt, (person.email,))
                        keyed = replace(email, key=f"{email.key}-{pid}")
                        await asyncio.to_thread(self.outbox.write_email, keyed)
            self.booker.acknowledge(prompt)
        return prompts

    async def job(self) -> None:
        try:
            prompts = await self.run()
        except Exception as exc:
            log.error("invitation response polling failed: %s", type(exc).__name__)
            return
        if prompts:
            log.info("invitation responses: %d prompt(s) delivered", len(prompts))


@dataclass
class MailDrainJob:
    mail: MailOutbox

    async def job(self) -> None:
        report = await self.mail.drain()
        if report.sent or report.failed or report.throttled_for:
            log.info(
                "mail outbox: %d sent, %d deferred, %d failed%s",
                len(report.sent),
                len(report.deferred),
                len(report.failed),
                f", throttled for {report.throttled_for:g} s" if report.throttled_for else "",
            )


# -- command line ----------------------------------------------------------------------------------


def _minutes(text: str) -> timedelta:
    try:
        n = int(text)
    except ValueError:
        raise InvalidInput(f"--duration {text!r}: minutes, for example 90") from None
    if n <= 0 or n > 8 * 60:
        raise InvalidInput("--duration: between 1 and 480 minutes")
    return timedelta(minutes=n)


def _by(text: str | None) -> datetime | None:
    if not text:
        return None
    t = parse_time(text, "--by")
    return end_of_day(t.date()) if len(text.strip()) == 10 else t


@dataclass
class _Ctx:
    settings: Settings
    store: Any
    bookings: SqlBookings
    ports: GraphPorts
    booker: Booker

    def close(self) -> None:
        self.store.close()


def _open(credential: Any = None) -> _Ctx:
    from app.procedures import load_catalogue
    from app.settings import load_settings
    from store.sql import open_store

    settings = load_settings()
    cat = load_catalogue(settings.extra_pack_dirs(), settings.meetings, settings.reference_pattern)
    if cat.errors:
        raise InvalidInput(f"{cat.errors[0]} (run 'cpc procedures check')")
    store = open_store(settings.database_url, **settings.engine_options())
    bookings = SqlBookings(store.engine)
    ports = build_ports(settings, bookings, credential)
    booker = build_booker(settings, store, cat.areas, lambda: datetime.now(UTC), ports, bookings)
    return _Ctx(settings, store, bookings, ports, booker)


def _print_booking(b: Booking) -> None:
    print(f"{b.reference} {b.purpose}: {b.state}, {to_local_iso(b.start)} to {to_local_iso(b.end)}")
    print(f"  transactionId {b.transaction_id}, revision {b.revision}, event {b.event_id or '-'}")
    print(f"  Teams link: {b.join_url or 'none'}")
    for w in b.warnings:
        print(f"  warning: {w}")


def _offer_json(o: SlotOffer) -> dict[str, Any]:
    sf = o.search.shortfall
    return {
        "reference": o.reference,
        "purpose": o.purpose,
        "latest_end": to_local_iso(o.window.latest_end) if o.window.latest_end else None,
        "window": o.window.explanation,
        "slots": [{"start": to_local_iso(s.start), "end": to_local_iso(s.end)} for s in o.search.slots],
        "shortfall": sf.text() if sf else None,
        "first_after": (
            {"start": to_local_iso(sf.first_after.start), "end": to_local_iso(sf.first_after.end)}
            if sf and sf.first_after
            else None
        ),
        "chair": o.panel.chair.person_id if o.panel else None,
        "warnings": list(o.panel.warnings) if o.panel else [],
        "notes": list(o.search.notes),
        "limitation": o.limitation,
    }


def cmd_graph_check(args: argparse.Namespace) -> int:
    from app.settings import load_settings
    from graph.check import check_graph

    report = asyncio.run(check_graph(graph_config(load_settings()), probe=not args.no_probe))
    print(report.text())
    return 0 if report.ok else 1


def cmd_panel(args: argparse.Namespace) -> int:
    ctx = _open()
    try:
        return asyncio.run(_panel(ctx, args))
    finally:
        ctx.close()


async def _panel(ctx: _Ctx, args: argparse.Namespace) -> int:
    b = ctx.booker
    action = args.action
    if action == "poll":
        job = PollResponsesJob(b, ctx.store, ctx.ports.outbox)
        prompts = await job.run()
        for p in prompts:
            print(p.text())
        await ctx.ports.mail.drain()
        print(f"{len(prompts)} prompt(s)")
        return 0
    ref = typed_reference(args.ref, b.areas.values())
    if action == "propose":
        check = b.propose(args.as_, ref, args.purpose, args.member, args.chair, args.line_managed_by or ())
        if check is None:
            print("this meeting has no panel composition rules")
            return 0
        print(f"panel ok: {', '.join(m.person_id for m in check.members)}")
        print(
            f"chair: {check.chair.person_id}" + (" (suggested: least involved agency)" if check.chair_suggested else "")
        )
        for w in check.warnings:
            print(f"warning: {w}")
        return 0
    if action == "slots":
        offer = await b.find_slots(
            args.as_,
            ref,
            args.purpose,
            args.member,
            args.room,
            _minutes(args.duration),
            by=_by(args.by),
            count=args.count,
            reserve_letter=not args.no_letter_reserve,
            chair_id=args.chair,
            declared_line_managers=args.line_managed_by or (),
        )
        print(json.dumps(_offer_json(offer), indent=2) if args.json else offer.text())
        return 0 if offer.search.slots else 1
    if action == "book":
        booking = await b.book(
            args.as_,
            ref,
            args.purpose,
            args.member,
            args.room,
            parse_time(args.start, "--start"),
            _minutes(args.duration),
            chair_id=args.chair,
            delay_reason=args.delay_reason,
            declared_line_managers=args.line_managed_by or (),
            by=_by(args.by),
        )
    elif action == "reschedule":
        booking = await b.reschedule(
            args.as_,
            ref,
            args.purpose,
            parse_time(args.start, "--start"),
            _minutes(args.duration) if args.duration else None,
            delay_reason=args.delay_reason,
        )
    elif action == "replace":
        booking = await b.replace_member(args.as_, ref, args.purpose, args.leaving, args.joining)
    else:
        booking = await b.cancel(args.as_, ref, args.purpose, args.comment or "")
    _print_booking(booking)
    return 0


def cmd_mail_drain(args: argparse.Namespace) -> int:
    from app.settings import load_settings

    settings = load_settings()
    ctx_store = None
    try:
        from store.sql import open_store

        ctx_store = open_store(settings.database_url, **settings.engine_options())
        ports = build_ports(settings, SqlBookings(ctx_store.engine))
        report = asyncio.run(ports.mail.drain(wait_up_to=args.wait))
    finally:
        if ctx_store is not None:
            ctx_store.close()
    print(f"sent {len(report.sent)}, deferred {len(report.deferred)}, failed {len(report.failed)}")
    return 0 if not report.failed else 1


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
