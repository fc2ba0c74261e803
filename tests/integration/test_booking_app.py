"""The composition of panel booking: Graph or files by settings, the polling job, the CLI subcommands."""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from app.booking import PollResponsesJob, build_booker, build_ports
from app.cli_booking_parsers import add_parsers
from app.procedures import load_catalogue
from app.settings import Settings
from casework.errors import InvalidInput
from graph.graph_calendar import GraphCalendar
from graph.mail_queue import QueuedOutbox
from graph.outbox import LocalCalendar
from store.bookings import SqlBookings
from store.sql import open_store
from tests.e2e.fake_graph import FakeCredential, FakeGraph
from tests.integration.graph_world import ORGANISER, REFERENCE, ROOM, SENDER, seed_case
from tests.integration.test_graph_booking import MEMBERS, at


def settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'cpc.sqlite3'}", outbox_dir=str(tmp_path / "outbox"), **kw)  # type: ignore[arg-type]


def test_without_credentials_the_ports_are_files(tmp_path: Path) -> None:
    s = settings(tmp_path)
    store = open_store(s.database_url)
    try:
        ports = build_ports(s, SqlBookings(store.engine))
        assert ports.mode == "files" and isinstance(ports.calendar, LocalCalendar)
        assert ports.calendar.limitation is not None
    finally:
        store.close()


def test_graph_settings_without_mailboxes_are_refused(tmp_path: Path) -> None:
    s = settings(tmp_path, graph_tenant_id="t", graph_client_id="c", graph_client_secret="x")
    store = open_store(s.database_url)
    try:
        with pytest.raises(InvalidInput, match="CPC_ORGANISER_MAILBOX"):
            build_ports(s, SqlBookings(store.engine))
    finally:
        store.close()


def test_a_decline_reaches_the_complaints_manager_by_email_through_send_mail(tmp_path: Path) -> None:
    with FakeGraph() as fake:
        s = settings(tmp_path, graph_base_url=fake.base_url, organiser_mailbox=ORGANISER, sender_mailbox=SENDER)
        store = open_store(s.database_url)
        try:
            seed_case(store)
            bookings = SqlBookings(store.engine)
            ports = build_ports(s, bookings, credential=FakeCredential())
            assert ports.mode == "graph" and isinstance(ports.calendar, GraphCalendar)
            assert isinstance(ports.outbox, QueuedOutbox)
            clock = [at(2027, 1, 5, 8)]
            booker = build_booker(s, store, load_catalogue().areas, lambda: clock[0], ports, bookings)
            cards: list[tuple[str, str]] = []

            async def no_teams(prompt: object, pid: str) -> bool:
                cards.append((getattr(prompt, "reference", ""), pid))
                return False

            async def run() -> None:
                booking = await booker.book(
                    "cm", REFERENCE, "panel", MEMBERS, ROOM, at(2027, 1, 7, 9), timedelta(minutes=90)
                )
                assert booking.event_id is not None
                fake.respond(booking.event_id, "sm-health@council.example", "declined")
                job = PollResponsesJob(booker, store, ports.outbox, no_teams)
                assert len(await job.run()) == 1
                assert await job.run() == []  # acknowledged: not again
                await ports.mail.drain()

            asyncio.run(run())
            assert cards == [(REFERENCE, "cm")]
            (sent,) = fake.sent
            assert sent.to == ["cm@council.example"] and sent.user == SENDER
            assert (
                "declined" in sent.subject and "sm-health@council.example declined" in sent.content
            )  # no name on record: the email address
        finally:
            store.close()


def test_cli_panel_commands_in_file_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    s = settings(tmp_path)
    monkeypatch.setenv("CPC_DATABASE_URL", s.database_url)
    monkeypatch.setenv("CPC_OUTBOX_DIR", s.outbox_dir)
    store = open_store(s.database_url)
    seed_case(store)
    store.close()
    parser = argparse.ArgumentParser(prog="cpc")
    add_parsers(parser.add_subparsers(dest="command", required=True))

    def run(*argv: str) -> int:
        args = parser.parse_args(list(argv))
        code: int = args.func(args)
        return code

    members = [x for m in MEMBERS for x in ("--member", m)]
    assert run("panel", "propose", "--ref", REFERENCE, "--as", "cm", *members) == 0
    assert "chair: sm-health (suggested: least involved agency)" in capsys.readouterr().out
    # The statutory window (to Mon 18 Jan 2027) is in the future of the real clock only until then;
    # --by a date far ahead keeps this test independent of today's date.
    code = run(
        "panel", "slots", "--ref", REFERENCE, "--as", "cm", *members, "--room", ROOM, "--json", "--by", "2075-12-31"
    )
    out = capsys.readouterr().out
    assert '"limitation": "No Microsoft Graph tenant is configured' in out
    assert code in (0, 1)
    assert run("graph", "check", "--no-probe") == 1
    assert "no Graph credentials are set" in capsys.readouterr().out
