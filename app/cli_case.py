"""``cpc people add``, ``cpc conference add``, ``cpc demo`` and ``cpc case events|correct|export``.

Each translates its arguments into one casework command (``casework.commands.registry`` for people
and conferences, ``Casework.correct`` for a correction), which writes in one unit of work with its
audit entry; this module writes nothing itself. A bad argument is one line on stderr and exit code 2
(raised as :class:`app.cli.CliError` or a casework input error, reported by ``app.cli.main``); a
correction that casework refuses (not entitled, a later step depends on it, already withdrawn) is one
line with casework's message and exit code 1. ``cpc case export`` writes the case bundle
(:mod:`app.bundle`).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from app.cli import CliError, _area, _catalogue_areas, _store
from casework.bundle import texts_of, withdrawals
from casework.clock import LONDON, parse_given, parse_time
from casework.errors import CaseworkError
from casework.event_checks import Given, check_event, events_used
from casework.events import Event
from casework.packs import typed_reference
from casework.records import Attendee, Conference, Person
from casework.service import Casework

if TYPE_CHECKING:
    from store.sql import SqlStore

EXIT_REFUSED = 1
PLAYGROUND_USER = ("00000000-0000-0000-0000-0000000000020", "alexw@example.com", "Alex Wilber")
#: The Playground's second user, in its group chat: registered, not an attendee, so that the chair can
#: try ``attendee add @Megan Bowen health`` there.
PLAYGROUND_COLLEAGUE = ("00000000-0000-0000-0000-0000000000021", "meganb@example.com", "Megan Bowen")


def clock() -> datetime:
    """The time the command line acts at: a withdrawal's time, the reminder plan, the demo's conference."""
    return datetime.now(UTC)


def casework(store: SqlStore) -> Casework:
    return Casework(store, _catalogue_areas(), lambda: clock())


def _opened() -> SqlStore:
    from store.sql import SqlStore

    store = _store()
    assert isinstance(store, SqlStore)
    return store


# ---------------------------------------------------------------------- people and conferences


def cmd_people_add(args: argparse.Namespace) -> int:
    roles = []
    for spec in args.role or []:
        role, _, area = spec.partition("@")
        if area and area != "*":
            _area(area)
        roles.append((role, area or "*"))
    person = Person(args.id, args.email, args.name or "", args.agency or "", args.line_manager)
    changed = casework(_opened()).register_person("cli", person, roles)
    print(changed.summary + (f" with roles {', '.join(args.role)}" if args.role else ""))
    return 0


def cmd_conference_add(args: argparse.Namespace) -> int:
    area = _area(args.area)
    ref = area.reference(args.ref)
    attendees: list[Attendee] = []
    for spec in args.attendee or []:
        pid, sep, agency = spec.partition("=")
        if not sep or not pid or not agency:
            raise CliError(f"--attendee {spec!r}: expected PERSON_ID=AGENCY, for example aad-oid-1=police")
        attendees.append(Attendee(pid, agency))
    conference = Conference(
        ref,
        area.id,
        args.type,
        parse_time(args.scheduled, "--scheduled") if args.scheduled else None,
        _meeting_time(area, "conference_held", args.held, "--held"),
        _meeting_time(area, "conference_ended", args.ended, "--ended"),
        args.chair,
        tuple(attendees),
        args.chat,
    )
    changed = casework(_opened()).register_conference("cli", conference)
    print(changed.summary)
    return 0


def _meeting_time(area: Any, event: str, text: str | None, what: str) -> datetime | None:
    """The conference's start or end; a bare date is refused where a window counts hours from it
    (Pan-Sussex 5.7.4: 72 hours), since 00:00 would shorten it."""
    if not text:
        return None
    at, time_given = parse_given(text, what)
    if not time_given:
        given = [Given(Event(event, at), False)]
        for process in area.processes:
            if event in events_used(area.rules_for(process)):
                check_event(area, process, given[0], given)
    return at


def cmd_demo(args: argparse.Namespace) -> int:
    """A demo case for the Microsoft 365 Agents Playground's default user (Alex Wilber), who is the
    case's chair and an attendee and holds the chair, reviewing and complaints roles, so that one person
    can try every card. Case references only; the demo person is the Playground's fictitious user."""
    store = _opened()
    oid, email, name = PLAYGROUND_USER
    area = _area(args.area)
    ref = area.reference(args.ref)
    if store.get_conference(ref) is not None:
        raise CliError(f"conference {ref} already exists; choose another --ref")
    cw = casework(store)
    cw.register_person(
        "cli",
        Person(oid, email, name, "police"),
        [("chair", area.id), ("head_of_safeguarding", area.id), ("complaints_manager", area.id)],
    )
    colleague_oid, colleague_email, colleague = PLAYGROUND_COLLEAGUE
    if store.get_person(colleague_oid) is None:
        cw.register_person("cli", Person(colleague_oid, colleague_email, colleague, "health"))
    held = clock() - timedelta(hours=2)
    conference = Conference(ref, area.id, "initial", held_at=held, chair_id=oid, attendees=(Attendee(oid, "police"),))
    cw.register_conference("cli", conference, {"demo": True})
    print(f"demo conference {ref} ({area.id}) held two hours ago; {name} is its chair and an attendee")
    print(f"try in the Playground: help | dissent | status {ref} | deadlines | complaint {ref}")
    print(f"and in its group chat: conference link {ref} | attendee add @{colleague} health")
    return 0


# ---------------------------------------------------------------------- case events and corrections


def _withdrawals(store: SqlStore, reference: str) -> dict[int, str]:
    """Event id -> who withdrew it and when (the corrections' audit entries), and why (the reason kept in
    its record, as the audit entry holds only its hash)."""
    return withdrawals(store.audit_entries(reference), texts_of(store.free_texts(reference)))


def cmd_case_events(args: argparse.Namespace) -> int:
    """Every event of a case with its id (to name in ``cpc case correct``); withdrawn ones marked."""
    ref = typed_reference(args.ref, _catalogue_areas().values())
    store = _opened()
    if store.get_conference(ref) is None:
        raise CliError(f"there is no conference {ref} on record; check the case reference")
    counted = {e.id for e in store.events_for(ref)}
    why = _withdrawals(store, ref)
    rows = [("ID", "WHEN (Europe/London)", "EVENT", "RECORDED BY", "")]
    for e in store.all_events_for(ref):
        note = "" if e.id in counted else why.get(e.id or 0, "withdrawn")
        when = e.at.astimezone(LONDON).strftime("%a %d %b %Y %H:%M")
        rows.append((str(e.id), when, e.name, e.recorded_by or "-", note))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print(f"{ref}: {len(rows) - 1} event(s); withdrawn ones no longer count but stay on record")
    for r in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip())
    return 0


def cmd_case_correct(args: argparse.Namespace) -> int:
    """Withdraw one recorded event with a reason, as ``--as`` (who must be entitled to correct)."""
    from casework.commands.dissent import MIN_REASON

    ref = typed_reference(args.ref, _catalogue_areas().values())
    if not args.event.strip().isdigit():
        raise CliError(f"--event {args.event!r}: expected an event id, a number (see 'cpc case events {ref}')")
    event_id = int(args.event.strip())
    reason = " ".join(args.reason.split())
    if len(reason) < MIN_REASON:
        raise CliError(f"--reason: give why the step was wrong, at least {MIN_REASON} characters")
    store = _opened()
    if store.get_conference(ref) is None:
        raise CliError(f"there is no conference {ref} on record; check the case reference")
    if store.get_person(args.as_) is None:
        raise CliError(f"--as {args.as_!r}: nobody is registered with this id")
    if event_id not in {e.id for e in store.all_events_for(ref)}:
        raise CliError(f"--event {event_id}: no event of {ref} has this id (see 'cpc case events {ref}')")
    cw = casework(store)
    try:
        changed = cw.correct(args.as_, ref, str(event_id), reason, cw.version_of(store.events_for(ref)))
    except CaseworkError as exc:
        print(f"cpc: refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"{changed.reference}: {changed.summary}")
    return 0


def cmd_case_export(args: argparse.Namespace) -> int:
    """The case bundle for the Ombudsman: a PDF and its JSON, sealed with the audit key (app.bundle)."""
    from pathlib import Path

    from app.bundle import export_case

    ref = typed_reference(args.ref, _catalogue_areas().values())
    store = _opened()
    if store.get_conference(ref) is None:
        raise CliError(f"there is no conference {ref} on record; check the case reference")
    done = export_case(store, casework(store), ref, Path(args.out), clock())
    print(f"{ref}: wrote {done.pdf_path} and {done.json_path} ({done.entries} audit entries)")
    if not done.intact:
        print(f"{ref}: the audit log FAILED verification at export; the bundle says so (cpc audit verify)")
    return 0
