"""The ``cpc`` command line. Translates arguments into casework calls and reports errors in one line.

Bad input (an unknown area, process or event, a malformed time, an event before the conference,
a missing file) gets one line naming what was wrong and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import NoReturn

from casework.clock import LONDON, parse_time
from casework.errors import CaseworkError, UnknownArea
from casework.events import Event
from casework.packs import Area
from casework.timeline import Timeline, evaluate

EXIT_BAD_INPUT = 2


class CliError(Exception):
    """Bad input on the command line: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _catalogue_areas() -> dict[str, Area]:
    from app.procedures import load_catalogue
    from app.settings import load_settings

    settings = load_settings()
    cat = load_catalogue(settings.extra_pack_dirs(), settings.meetings)
    if cat.errors:
        raise CliError(f"{cat.errors[0]} (run 'cpc procedures check' for all {len(cat.errors)} problems)")
    return cat.areas


def _area(name: str) -> Area:
    areas = _catalogue_areas()
    if name not in areas:
        raise UnknownArea(name, list(areas))
    return areas[name]


def _parse_event(text: str) -> Event:
    name, sep, when = text.partition("=")
    if not sep or not name.strip() or not when.strip():
        raise CliError(f"--event {text!r}: expected NAME=ISO-TIME, for example conference_held=2026-12-17T14:00")
    return Event(name.strip(), parse_time(when, f"time for event {name.strip()}"))


def _table(tl: Timeline) -> str:
    rows = [("ID", "KIND", "DUE (Europe/London)", "STATUS", "RESPONSIBLE", "SOURCE")]
    for d in tl.deadlines:
        due = d.due.astimezone(LONDON).strftime("%a %d %b %Y %H:%M") if d.due else "-"
        rows.append((d.rule.id, d.rule.kind, due, d.status, d.rule.responsible, d.rule.source.split(" '")[0]))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [f"{tl.area.name}: {tl.process} process (times in Europe/London)", ""]
    for r in rows:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip())
    lines.append("")
    for d in tl.deadlines:
        lines.append(f"{d.rule.id}: {d.rule.title}")
        lines.append(f"    {d.explanation}")
    return "\n".join(lines)


def cmd_timeline(args: argparse.Namespace) -> int:
    area = _area(args.area)
    specs = list(args.event or [])
    if args.events_file:
        with open(args.events_file, encoding="utf-8") as fh:
            specs.extend(line.strip() for line in fh if line.strip() and not line.lstrip().startswith("#"))
    events = [_parse_event(e) for e in specs]
    now = parse_time(args.now, "--now") if args.now else datetime.now(UTC)
    tl = evaluate(area, args.process, events, now, args.discretion or ())
    if args.json:
        print(json.dumps(tl.as_dict(), indent=2, ensure_ascii=False))
    else:
        print(_table(tl))
    return 0


def cmd_procedures(args: argparse.Namespace) -> int:
    from app.procedures import load_catalogue
    from app.settings import load_settings

    settings = load_settings()
    cat = load_catalogue(settings.extra_pack_dirs(), settings.meetings)
    if args.action == "list":
        for area in sorted(cat.areas.values(), key=lambda a: a.id):
            extends = f" (extends {area.extends})" if area.extends else ""
            print(f"{area.id:18} {area.nation}  {', '.join(area.processes):28} {area.name}{extends}")
        for err in cat.errors:
            print(f"error: {err}", file=sys.stderr)
        return 0 if not cat.errors else 1
    for w in cat.warnings:
        print(f"warning: {w}")
    for err in cat.errors:
        print(f"error: {err}")
    n_rules = sum(len(a.rules) for a in cat.areas.values())
    if cat.errors:
        print(f"{len(cat.errors)} error(s); {len(cat.areas)} pack(s) valid")
        return 1
    print(f"ok: {len(cat.areas)} packs, {n_rules} rules, every rule cites its source")
    return 0


def _store() -> object:
    from app.settings import load_settings
    from store.sql import open_store

    settings = load_settings()
    return open_store(settings.database_url, **settings.engine_options())


def cmd_db(args: argparse.Namespace) -> int:
    from app.settings import load_settings
    from store.migrate import upgrade

    url = load_settings().database_url
    upgrade(url)
    print("database is at the latest revision")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from casework.audit import verify_chain
    from store.sql import SqlStore

    store = _store()
    assert isinstance(store, SqlStore)
    entries = list(store.iter_audit())
    head = store.audit_head()
    problems = verify_chain(entries, head, check_head=True)
    if problems:
        for p in problems:
            print(f"audit: {p}")
        print(f"audit log FAILED verification: {len(problems)} problem(s) in {len(entries)} entries")
        return 1
    print(f"audit log intact: {len(entries)} entries; head {head[0]}:{head[1]}" if head else "audit log is empty")
    return 0


def cmd_people_add(args: argparse.Namespace) -> int:
    from casework.records import ROLES, Person, RoleGrant
    from store.sql import SqlStore

    grants: list[RoleGrant] = []
    for spec in args.role or []:
        role, _, area = spec.partition("@")
        if role not in ROLES:
            raise CliError(f"--role {spec!r}: role must be one of {', '.join(ROLES)}")
        if area and area != "*":
            _area(area)
        grants.append(RoleGrant(args.id, role, area or "*"))
    if "@" not in args.email:
        raise CliError(f"--email {args.email!r}: expected an email address")
    store = _store()
    assert isinstance(store, SqlStore)
    person = store.upsert_person(
        Person(args.id, args.email.lower(), args.name or "", args.agency or "", args.line_manager)
    )
    for g in grants:
        store.grant_role(g)
    store.append_audit(
        "cli", "person.upserted", "-", {"person": person.id, "roles": [f"{g.role}@{g.area}" for g in grants]}
    )
    print(f"person {person.id} saved" + (f" with roles {', '.join(args.role)}" if args.role else ""))
    return 0


def cmd_conference_add(args: argparse.Namespace) -> int:
    from casework.records import CONFERENCE_TYPES, Attendee, CaseEvent, Conference
    from casework.references import normalise_reference
    from store.sql import SqlStore

    ref = normalise_reference(args.ref)
    area = _area(args.area)
    if args.type not in CONFERENCE_TYPES:
        raise CliError(f"--type {args.type!r}: expected one of {', '.join(CONFERENCE_TYPES)}")
    scheduled = parse_time(args.scheduled, "--scheduled") if args.scheduled else None
    held = parse_time(args.held, "--held") if args.held else None
    ended = parse_time(args.ended, "--ended") if args.ended else None
    if ended and not held:
        raise CliError("--ended needs --held: a conference cannot end before it is held")
    if ended and held and ended < held:
        raise CliError("--ended is before --held: the conference cannot end before it starts")
    attendees: list[Attendee] = []
    for spec in args.attendee or []:
        pid, sep, agency = spec.partition("=")
        if not sep or not pid or not agency:
            raise CliError(f"--attendee {spec!r}: expected PERSON_ID=AGENCY, for example aad-oid-1=police")
        attendees.append(Attendee(pid, agency))
    store = _store()
    assert isinstance(store, SqlStore)
    if store.get_conference(ref) is not None:
        raise CliError(f"conference {ref} already exists")
    store.add_conference(
        Conference(ref, area.id, args.type, scheduled, held, ended, args.chair, tuple(attendees), args.chat)
    )
    for name, at in (
        ("conference_scheduled", scheduled),
        ("conference_held", held),
        ("conference_ended", ended),
    ):
        if at is not None:
            store.record_event(CaseEvent(ref, name, at, "cli"))
    store.append_audit("cli", "conference.added", ref, {"area": area.id, "type": args.type})
    _replan(store, ref)
    print(f"conference {ref} added to {area.id}")
    return 0


def _replan(store: object, reference: str) -> None:
    """Plan the reminders of a case changed from the command line, as the service does for the bot."""
    from casework.service import Casework
    from store.sql import SqlStore

    assert isinstance(store, SqlStore)
    Casework(store, _catalogue_areas(), lambda: datetime.now(UTC)).replan_reminders(reference)


def cmd_digest(args: argparse.Namespace) -> int:
    """One complaints digest on demand: to the outbox, or with --dry-run the HTML on stdout."""
    from app.settings import load_settings
    from graph.outbox import FileOutbox
    from scheduler.digest import build_digest, previous_digest, render_digest
    from store.sql import SqlStore

    to = args.to.strip()
    if "@" not in to or any(c.isspace() for c in to):
        raise CliError(f"--to {args.to!r}: expected an email address")
    areas = [_area(args.area)] if args.area else None
    store = _store()
    assert isinstance(store, SqlStore)
    if areas is None:
        person = store.find_person_by_email(to)
        if person is None:
            raise CliError(f"--to {to}: nobody is registered with this email; give --area to send one anyway")
        catalogue = _catalogue_areas()
        areas = [a for a in catalogue.values() if "complaints_manager" in store.roles_of(person.id, a.id)]
        if not areas:
            raise CliError(f"--to {to}: this person covers no area as complaints_manager; give --area")
    settings = load_settings()
    from app.serve import RefusedToStart, parse_clock_time

    try:
        at = parse_clock_time(settings.digest_time)
    except RefusedToStart as exc:
        raise CliError(str(exc)) from None
    now = datetime.now(UTC)
    today = now.astimezone(LONDON).date()
    outbox = FileOutbox(settings.outbox_dir)
    for area in sorted(areas, key=lambda a: a.id):
        digest = build_digest(store, area, now, previous_digest(area, today, at))
        html, text = render_digest(digest)
        if args.dry_run:
            sys.stdout.write(html)
            continue
        stamp = now.strftime("%Y%m%dT%H%M%S")
        path = outbox.send_email(to, digest.subject, text, html, f"digest-on-demand-{area.id}-{stamp}-{to}")
        print(f"digest for {area.id} written to {path}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from app.serve import RefusedToStart, serve
    from app.settings import load_settings

    settings = load_settings()
    if args.host:
        settings.host = args.host
    if args.port:
        settings.port = args.port
    try:
        return serve(settings)
    except RefusedToStart as exc:
        raise CliError(str(exc)) from None


def cmd_manifest(args: argparse.Namespace) -> int:
    from pathlib import Path

    from app.manifest import build_package
    from app.settings import load_settings

    bot_id = args.bot_id or load_settings().app_id
    if not bot_id:
        raise CliError("--bot-id is needed (or set CPC_APP_ID): the bot's Microsoft App ID, a GUID")
    try:
        path = build_package(bot_id, Path(args.out))
    except ValueError as exc:
        raise CliError(str(exc)) from None
    print(f"wrote {path}")
    return 0


PLAYGROUND_USER = ("00000000-0000-0000-0000-0000000000020", "alexw@example.com", "Alex Wilber")


def cmd_demo(args: argparse.Namespace) -> int:
    """A demo case for the Microsoft 365 Agents Playground's default user (Alex Wilber), who is the
    case's chair and an attendee and holds the reviewing and complaints roles, so that one person
    can try every card. Case references only; the demo person is the Playground's fictitious user."""
    from datetime import timedelta

    from casework.records import Attendee, CaseEvent, Conference, Person, RoleGrant
    from store.sql import SqlStore

    store = _store()
    assert isinstance(store, SqlStore)
    oid, email, name = PLAYGROUND_USER
    ref = args.ref.upper()
    if store.get_conference(ref) is not None:
        raise CliError(f"conference {ref} already exists; choose another --ref")
    area = _area(args.area)
    held = datetime.now(UTC) - timedelta(hours=2)
    store.upsert_person(Person(oid, email, name, "police"))
    for role in ("head_of_safeguarding", "complaints_manager"):
        store.grant_role(RoleGrant(oid, role, area.id))
    store.add_conference(
        Conference(ref, area.id, "initial", held_at=held, chair_id=oid, attendees=(Attendee(oid, "police"),))
    )
    store.record_event(CaseEvent(ref, "conference_held", held, "demo"))
    store.append_audit("cli", "conference.added", ref, {"area": area.id, "type": "initial", "demo": True})
    _replan(store, ref)
    print(f"demo conference {ref} ({area.id}) held two hours ago; {name} is its chair and an attendee")
    print(f"try in the Playground: help | dissent | status {ref} | deadlines | complaint {ref}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="cpc", description="Conference challenge bot: statutory timelines and administration.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    t = sub.add_parser("timeline", help="every deadline of a process for a set of events")
    t.add_argument("--area", required=True, help="procedure pack id, e.g. sussex (see 'cpc procedures list')")
    t.add_argument("--process", required=True, help="conference, dissent or complaint")
    t.add_argument("--event", action="append", metavar="NAME=ISO-TIME", help="repeatable; local time if no offset")
    t.add_argument("--events-file", metavar="PATH", help="file of NAME=ISO-TIME lines (# comments allowed)")
    t.add_argument("--now", metavar="ISO-TIME", help="evaluate statuses as at this time (default: now)")
    t.add_argument(
        "--discretion", action="append", metavar="RULE", help="window accepted late at the chair's discretion"
    )
    t.add_argument("--json", action="store_true", help="machine-readable output")
    t.set_defaults(func=cmd_timeline)

    pr = sub.add_parser("procedures", help="list or validate the procedure packs")
    pr.add_argument("action", choices=["list", "check"])
    pr.set_defaults(func=cmd_procedures)

    db = sub.add_parser("db", help="database administration")
    db.add_argument("action", choices=["upgrade"])
    db.set_defaults(func=cmd_db)

    au = sub.add_parser("audit", help="audit log")
    au.add_argument("action", choices=["verify"])
    au.set_defaults(func=cmd_audit)

    pe = sub.add_parser("people", help="people and roles")
    pe_sub = pe.add_subparsers(dest="action", required=True, parser_class=_Parser)
    pa = pe_sub.add_parser("add", help="add or update a person")
    pa.add_argument("--id", required=True, help="Entra object id")
    pa.add_argument("--email", required=True)
    pa.add_argument("--name", help="the professional's display name")
    pa.add_argument("--agency", help="police, health, education, social_care, ...")
    pa.add_argument("--role", action="append", metavar="ROLE[@AREA]", help="repeatable; no @AREA means every area")
    pa.add_argument("--line-manager", metavar="PERSON_ID")
    pa.set_defaults(func=cmd_people_add)

    co = sub.add_parser("conference", help="conferences")
    co_sub = co.add_subparsers(dest="action", required=True, parser_class=_Parser)
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
    ca.set_defaults(func=cmd_conference_add)
    de = sub.add_parser("demo", help="a demo case for the Agents Playground's default user")
    de.add_argument("--ref", default="DEMO-1")
    de.add_argument("--area", default="sussex")
    de.set_defaults(func=cmd_demo)

    from app.booking import add_parsers

    add_parsers(sub, _Parser)

    sv = sub.add_parser("serve", help="run the Teams bot (/api/messages, /healthz) and the scheduler")
    sv.add_argument("--host", help="bind address (default CPC_HOST or 127.0.0.1)")
    sv.add_argument("--port", type=int, help="port (default CPC_PORT or 3978)")
    sv.set_defaults(func=cmd_serve)

    dg = sub.add_parser("digest", help="a complaints manager's digest on demand")
    dg.add_argument("--to", required=True, metavar="EMAIL", help="the complaints manager's email")
    dg.add_argument("--area", help="one area (default: every area the person covers as complaints manager)")
    dg.add_argument("--dry-run", action="store_true", help="print the HTML to stdout instead of writing an email")
    dg.set_defaults(func=cmd_digest)

    mf = sub.add_parser("manifest", help="the Teams app package")
    mf.add_argument("action", choices=["build"])
    mf.add_argument("--bot-id", help="the bot's Microsoft App ID (default CPC_APP_ID)")
    mf.add_argument("--out", default="var", help="zip path or directory (default var/)")
    mf.set_defaults(func=cmd_manifest)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except (CliError, CaseworkError) as exc:
        print(f"cpc: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except FileNotFoundError as exc:
        print(f"cpc: error: file not found: {exc.filename}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
