"""The ``cpc`` command line. Translates arguments into casework calls and reports errors in one line.

Bad input (an unknown area, process or event, a malformed time, an event before the conference,
a missing file) gets one line naming what was wrong and exit code 2, never a traceback. ``cpc
timeline`` also refuses what would silently mislead its answer (casework.event_checks): an event the
chosen process does not use, a date with no time for an event that starts a window counted in hours,
a wall-clock time the autumn clock change makes ambiguous or the spring one skips, a reconvened
conference before the uphold, a birth before the pre-birth conference, and discretion for a rule that
is not a window; a bad line of ``--events-file`` is named as PATH:LINE. The
administration and case commands (people, conferences, corrections) are in :mod:`app.cli_case`; a
correction that casework refuses gets one line with its message and exit code 1. Settings that may
not be loaded (a secret in ``.env``: app.settings) get one line and exit code 2, whichever command
loads them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn

from app.errors import SettingsError
from casework.clock import LONDON, parse_given, parse_time
from casework.errors import CaseworkError, EventNotUsed, EventOrderError, UnknownArea
from casework.event_checks import Given, check_discretion, check_event, check_sequence
from casework.events import Event
from casework.packs import Area
from casework.timeline import Timeline, evaluate

EXIT_BAD_INPUT = 2


class CliError(Exception):
    """Bad input on the command line: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _port(text: str) -> int:
    """A --port value: argparse prints the message in one line and exits 2 when it is not one."""
    from app.listen import CannotListen, check_port

    try:
        return check_port(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a port number from 0 to 65535") from None
    except CannotListen as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _catalogue_areas() -> dict[str, Area]:
    from app.procedures import load_catalogue
    from app.settings import load_settings

    settings = load_settings()
    cat = load_catalogue(settings.extra_pack_dirs(), settings.meetings, settings.reference_pattern)
    if cat.errors:
        raise CliError(f"{cat.errors[0]} (run 'cpc procedures check' for all {len(cat.errors)} problems)")
    return cat.areas


def _area(name: str) -> Area:
    areas = _catalogue_areas()
    if name not in areas:
        raise UnknownArea(name, list(areas))
    return areas[name]


@dataclass(frozen=True, slots=True)
class _Spec:
    """One NAME=ISO-TIME as typed, and where: "--event", or "PATH:LINE" for a line of --events-file."""

    text: str
    origin: str


def _parse_event(text: str) -> Given:
    name, sep, when = text.partition("=")
    if not sep or not name.strip() or not when.strip():
        raise CliError(f"{text!r}: expected NAME=ISO-TIME, for example conference_held=2026-12-17T14:00")
    at, time_given = parse_given(when, f"time for event {name.strip()}")
    return Given(Event(name.strip(), at), time_given)


def _specs(args: argparse.Namespace) -> list[_Spec]:
    specs = [_Spec(e, "--event") for e in args.event or []]
    if args.events_file:
        with open(args.events_file, encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if line.strip() and not line.lstrip().startswith("#"):
                    specs.append(_Spec(line.strip(), f"{args.events_file}:{number}"))
    return specs


def _at(origin: str, exc: object, format_error: bool = False) -> CliError:
    """The error, prefixed with the file and line it came from; a --event's own message names it."""
    if origin == "--event":
        return CliError(f"--event {exc}" if format_error else str(exc))
    return CliError(f"{origin}: {exc}")


def _checked_events(area: Area, process: str, specs: Sequence[_Spec]) -> list[Event]:
    """Parse and check each event (casework.event_checks), naming the line of a bad one."""
    given: list[Given] = []
    for spec in specs:
        try:
            given.append(_parse_event(spec.text))
        except CliError as exc:
            raise _at(spec.origin, exc, format_error=True) from None
        except CaseworkError as exc:
            raise _at(spec.origin, exc) from None
    for spec, one in zip(specs, given, strict=True):
        try:
            check_event(area, process, one, given)
        except EventNotUsed as exc:
            use = f" Use --process {' or '.join(exc.used_by)}." if exc.used_by else ""
            raise _at(spec.origin, f"{exc}.{use}") from None
        except CaseworkError as exc:
            raise _at(spec.origin, exc) from None
    try:
        check_sequence(area, process, given)
    except EventOrderError as exc:
        # The line of the event found out of order (its occurrence), when it came from a file.
        origin = next(
            (
                s.origin
                for s, g in zip(specs, given, strict=True)
                if (g.event.name, g.event.at) == (exc.event, exc.moment)
            ),
            "--event",
        )
        raise _at(origin, exc) from None
    return [g.event for g in given]


def _table(tl: Timeline) -> str:
    rows = [("ID", "KIND", "DUE (Europe/London)", "STATUS", "RESPONSIBLE", "SOURCE")]
    for d in tl.deadlines:
        due = d.due.astimezone(LONDON).strftime("%a %d %b %Y %H:%M") if d.due else "-"
        rows.append((d.id, d.rule.kind, due, d.status, d.rule.responsible, d.rule.source.split(" '")[0]))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [f"{tl.area.name}: {tl.process} process (times in Europe/London)", ""]
    for r in rows:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip())
    lines.append("")
    for d in tl.deadlines:
        lines.append(f"{d.id}: {d.title}")
        lines.append(f"    {d.explanation}")
    return "\n".join(lines)


def cmd_timeline(args: argparse.Namespace) -> int:
    area = _area(args.area)
    area.rules_for(args.process)  # an unknown process is named before any event is checked
    events = _checked_events(area, args.process, _specs(args))
    discretion = args.discretion or ()
    check_discretion(area, args.process, discretion)
    now = parse_time(args.now, "--now") if args.now else datetime.now(UTC)
    tl = evaluate(area, args.process, events, now, discretion)
    if args.json:
        print(json.dumps(tl.as_dict(), indent=2, ensure_ascii=False))
    else:
        print(_table(tl))
    return 0


def cmd_procedures(args: argparse.Namespace) -> int:
    from app.procedures import load_catalogue
    from app.settings import load_settings

    if args.action != "apply" and (args.area or args.dry_run):
        raise CliError("--area and --dry-run go with 'cpc procedures apply'")
    if args.action == "apply":
        return _apply_procedures(args)
    settings = load_settings()
    cat = load_catalogue(settings.extra_pack_dirs(), settings.meetings, settings.reference_pattern)
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


def _apply_procedures(args: argparse.Namespace) -> int:
    """``cpc procedures apply``: Casework.apply_rules over the chosen areas, with what it changed."""
    from casework.service import Casework
    from casework.wording import counted
    from store.sql import SqlStore

    areas = _catalogue_areas()
    for name in args.area or []:
        if name not in areas:
            raise UnknownArea(name, list(areas))
    store = _store()
    assert isinstance(store, SqlStore)
    try:
        done = Casework(store, areas, lambda: datetime.now(UTC)).apply_rules(args.area, dry_run=args.dry_run)
    finally:
        store.close()
    where = f"in all {len(done.areas)} areas" if args.area is None else f"in {', '.join(done.areas)}"
    cases = f"{counted(done.replanned, 'case')} {where}"
    if done.dry_run:
        print(
            f"Dry run, nothing written. {cases}: {done.open:,} would be open ({done.opened:,} of them closed now), "
            f"{done.closed:,} open now would close, {counted(done.due_at_once, 'reminder')} would go at once."
        )
    else:
        print(
            f"Applied the current rules to {cases}: {done.open:,} open, {done.opened:,} opened again, "
            f"{done.closed:,} closed."
        )
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
    if args.action == "roles":
        return _db_roles(url, args.app_role, args.password_env)
    if args.app_role is not None or args.password_env is not None:
        raise CliError("--app-role and --password-env are options of 'cpc db roles', not of 'cpc db upgrade'")
    upgrade(url)
    print("database is at the latest revision")
    return 0


def _db_roles(url: str, role: str | None, password_env: str | None) -> int:
    """``cpc db roles``: the application's least-privilege login role (store.roles), run as the owner.

    The password comes from an environment variable named on the command line, never from the
    command line itself, which other users of the machine can read in the process list.
    """
    from sqlalchemy.exc import DBAPIError

    from store.engine import describe
    from store.roles import DEFAULT_APP_ROLE, grant_app_role

    password = None
    if password_env is not None:
        password = os.environ.get(password_env)
        if not password:
            raise CliError(f"--password-env {password_env}: that environment variable is not set, or is empty")
    try:
        done = grant_app_role(url, DEFAULT_APP_ROLE if role is None else role, password)
    except DBAPIError as exc:
        print(f"cpc: error: db roles: {describe(exc)}", file=sys.stderr)
        return 1
    state = "created" if done.created else "already existed"
    secret = ", password set" if done.password_set else ""
    print(f"role {done.role} {state}{secret}; granted in database {done.database}, schema {done.schema}:")
    for table, privileges in done.tables.items():
        print(f"  {table}: {', '.join(privileges)}")
    print(f"  every sequence: {', '.join(done.sequences)}")
    print(f"append-only trigger on audit_log: {done.trigger}")
    for warning in done.warnings:
        print(f"warning: {warning}")
    print(f"run the service with CPC_DATABASE_URL naming {done.role}; rerun this after every 'cpc db upgrade'")
    return 0


def _mail(store: object) -> Any:
    """The bot's own outbox (the Graph mail queue with a tenant, files without), for a checkpoint's email."""
    from app.booking import build_ports
    from app.settings import load_settings
    from store.bookings import SqlBookings
    from store.sql import SqlStore

    assert isinstance(store, SqlStore)
    return build_ports(load_settings(), SqlBookings(store.engine)).outbox


def cmd_audit(args: argparse.Namespace) -> int:
    """``verify``: the hash chain, the keyed chain and every checkpoint (with ``--bundle FILE``: a case
    bundle's entries and content, needing only the key, no database); ``checkpoint``: write the head
    outside the database now."""
    if args.bundle:
        if args.action != "verify":
            raise CliError("--bundle goes with 'cpc audit verify'")
        from app.bundle_check import verify_bundle_file

        return verify_bundle_file(args.bundle)
    from app.audit import checkpoint_now, verdict, verify_log

    store = _store()
    if args.action == "checkpoint":
        print(checkpoint_now(store, _mail(store)))
        return 0
    problems, summary = verify_log(store)
    for p in problems:
        print(f"audit: {p}")
    print(verdict(problems, summary))
    return 1 if problems else 0


def cmd_digest(args: argparse.Namespace) -> int:
    """One complaints digest on demand: to the outbox, or with --dry-run the HTML on stdout."""
    from app.settings import load_settings
    from graph.outbox import FileOutbox
    from scheduler.digest import CAP, build_digest, previous_digest, render_digest
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
        digest = build_digest(store, area, now, previous_digest(area, today, at), None if args.all else CAP)
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
    if args.host is not None:
        settings.host = args.host
    if args.port is not None:
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

    pr = sub.add_parser(
        "procedures",
        help="list or validate the procedure packs; apply changed rules to every stored case",
        description="list: the packs; check: validate them; apply: after a pack changed, replan every "
        "stored case under the current rules, closed ones too, so each is judged open or closed again",
    )
    pr.add_argument("action", choices=["list", "check", "apply"])
    pr.add_argument("--area", action="append", metavar="AREA", help="apply: only this area (repeatable)")
    pr.add_argument("--dry-run", action="store_true", help="apply: say what would change, write nothing")
    pr.set_defaults(func=cmd_procedures)

    db = sub.add_parser("db", help="database administration")
    db.add_argument("action", choices=["upgrade", "roles"], help="upgrade: migrate; roles: the app's login role")
    db.add_argument(
        "--app-role",
        metavar="NAME",
        help="roles: the login role the service uses (default cpc_app); PostgreSQL only",
    )
    db.add_argument(
        "--password-env", metavar="VAR", help="roles: set the role's password from this environment variable"
    )
    db.set_defaults(func=cmd_db)

    au = sub.add_parser("audit", help="audit log")
    au.add_argument("action", choices=["verify", "checkpoint"])
    au.add_argument(
        "--bundle", metavar="FILE", help="verify a case bundle's JSON (cpc case export) instead of the database"
    )
    au.set_defaults(func=cmd_audit)

    from app.cli_case_parsers import add_parsers as add_case_parsers

    add_case_parsers(sub, _Parser)

    from app.cli_booking_parsers import add_parsers

    add_parsers(sub, _Parser)

    sv = sub.add_parser("serve", help="run the Teams bot (/api/messages, /healthz) and the scheduler")
    sv.add_argument("--host", help="bind address (default CPC_HOST or 127.0.0.1)")
    sv.add_argument("--port", type=_port, help="port (default CPC_PORT or 3978; 0 picks a free one)")
    sv.set_defaults(func=cmd_serve)

    dg = sub.add_parser("digest", help="a complaints manager's digest on demand")
    dg.add_argument("--to", required=True, metavar="EMAIL", help="the complaints manager's email")
    dg.add_argument("--area", help="one area (default: every area the person covers as complaints manager)")
    dg.add_argument("--dry-run", action="store_true", help="print the HTML to stdout instead of writing an email")
    dg.add_argument("--all", action="store_true", help="every item of each list (the email shows the first 25)")
    dg.set_defaults(func=cmd_digest)

    mf = sub.add_parser("manifest", help="the Teams app package")
    mf.add_argument("action", choices=["build"])
    mf.add_argument("--bot-id", help="the bot's Microsoft App ID (default CPC_APP_ID)")
    mf.add_argument("--out", default="var", help="zip path or directory (default var/)")
    mf.set_defaults(func=cmd_manifest)
    return p


def _raised_from(exc: BaseException, module: str, name: str) -> bool:
    """Whether ``exc`` is a ``module.name``, without importing it: `cpc timeline` never loads
    SQLAlchemy or the store, and a class that was never imported cannot have been raised."""
    loaded = sys.modules.get(module)
    cls = getattr(loaded, name, None) if loaded is not None else None
    return isinstance(cls, type) and isinstance(exc, cls)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except (CliError, CaseworkError, SettingsError) as exc:
        print(f"cpc: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except FileNotFoundError as exc:
        print(f"cpc: error: file not found: {exc.filename}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `cpc timeline | head`: the reader left; say nothing more (Python's own advice for SIGPIPE).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:
        if _raised_from(exc, "store.errors", "StoreError"):
            print(f"cpc: error: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        if _raised_from(exc, "sqlalchemy.exc", "SQLAlchemyError"):
            # The database could not be opened or answered with an error: one line, not a traceback.
            cause = exc.__cause__ or exc
            print(f"cpc: error: the database failed: {type(cause).__name__}: {cause}"[:300], file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
