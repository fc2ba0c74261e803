"""The booking commands: ``cpc graph check``, ``cpc mail drain`` and ``cpc panel ...``.

Kept apart from :mod:`app.booking` (the ports and jobs ``cpc serve`` composes) and from the parser
definitions (:mod:`app.cli_booking_parsers`), so that ``cpc timeline`` does not import Graph or the
booking code just to build its argument parser.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.booking import GraphPorts, PollResponsesJob, build_booker, build_ports, graph_config
from app.settings import Settings
from casework.booking import Booker, SlotOffer
from casework.clock import end_of_day, parse_time, to_local_iso
from casework.errors import InvalidInput
from casework.packs import typed_reference
from casework.ports_graph import Booking
from store.bookings import SqlBookings


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
