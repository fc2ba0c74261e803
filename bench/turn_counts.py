"""How many SQL statements and transactions one turn costs: ``dissent`` and ``status``, per backend.

Why (issue 12 item 3): a turn's latency under load follows its round trips and its write locks more
than its Python. Timing a single turn hides that; counting does not, and a count is the same on every
machine, so a test can hold it (tests/integration/test_turn_statements.py) where a time could not.

What is counted is the turn's work once the person is known (the identity is cached and the
conversation reference already stored, as on every turn after a person's first): ``Turns.command``
for the typed command, as the handler runs it on a worker thread. :class:`Counted` listens on the
engine: ``before_cursor_execute`` for statements (our own ``BEGIN`` on SQLite is a transaction, not a
statement) and ``begin``/``commit``/``rollback`` for transactions.

    .venv/bin/python bench/turn_counts.py [--postgres-url URL] [--statements]
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Engine, create_engine, event, text

from bench.backends import DEFAULT_POSTGRES, postgres_schema
from bench.dissent import REASON, reachable
from bot.commands import parse
from bot.turns import Turns
from casework.clock import parse_time
from casework.records import Attendee, CaseEvent, Conference, Person
from casework.service import Casework
from store.sql import SqlStore, open_store
from tests.e2e import fakes
from tests.e2e.test_reminder_delivery import conversation_ref

NOW = "2026-12-18T10:00"


@dataclass
class Counted:
    """Statements and transactions on one engine while the block runs (any thread)."""

    engine: Engine
    statements: list[str] = field(default_factory=list)
    begins: int = 0
    commits: int = 0
    rollbacks: int = 0

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if statement.lstrip().upper().startswith("BEGIN"):
            return  # store/engine.py's SQLite BEGIN hook: counted as the transaction's begin
        self.statements.append(" ".join(statement.split())[:160])

    def _begin(self, _conn: Any) -> None:
        self.begins += 1

    def _commit(self, _conn: Any) -> None:
        self.commits += 1

    def _rollback(self, _conn: Any) -> None:
        self.rollbacks += 1

    def _hooks(self) -> list[tuple[str, Callable[..., None]]]:
        return [
            ("before_cursor_execute", self._statement),
            ("begin", self._begin),
            ("commit", self._commit),
            ("rollback", self._rollback),
        ]

    def __enter__(self) -> Self:
        for name, fn in self._hooks():
            event.listen(self.engine, name, fn)
        return self

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        for name, fn in self._hooks():
            event.remove(self.engine, name, fn)

    @property
    def writes(self) -> int:
        return sum(1 for s in self.statements if s.split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"))

    def line(self, what: str) -> str:
        return (
            f"{what:22} {len(self.statements):3} statements ({self.writes} writes) in {self.begins:2} transactions "
            f"({self.commits} commits, {self.rollbacks} rollbacks)"
        )


def seed(store: SqlStore) -> None:
    """A case held an hour ago with two attendees and a chair who has talked to the bot."""
    held = parse_time(NOW) - timedelta(hours=1)
    for pid, agency in (("chair", "social_care"), ("pro-1", "police"), ("pro-2", "health")):
        store.upsert_person(Person(pid, f"{pid}@example.org", pid, agency))
    attendees = (Attendee("pro-1", "police"), Attendee("pro-2", "health"))
    store.add_conference(Conference("CPC-1", "sussex", "initial", held_at=held, chair_id="chair", attendees=attendees))
    store.record_event(CaseEvent("CPC-1", "conference_held", held, "bench"))


def turn_counts(store: SqlStore) -> dict[str, Counted]:
    """Count a dissent turn and a status turn on a seeded store (the status after the dissent)."""
    from app.procedures import load_catalogue

    now = parse_time(NOW)
    casework = Casework(store, load_catalogue().areas, lambda: now)
    turns = Turns(casework, lambda: now)
    person = store.get_person("pro-1")
    assert person is not None
    out: dict[str, Counted] = {}
    for what, words in (("dissent", f"dissent CPC-1 {REASON}"), ("status", "status CPC-1")):
        with Counted(store.engine) as counted:
            # A one-to-one chat: the handler passes no chat id (it is never a conference's chat).
            turns.command(person, parse(words), None)
        out[what] = counted
    return out


def served_counts(tmp: Path) -> Counted:
    """A dissent through the real server in all: the HTTP turn and the delivery of the chair's prompt
    it queues (what the kick sets going), from the request until the notice is marked sent."""
    from tests.e2e.server import BotServer, Clock

    with fakes.FakeTeamsChannel() as channel, BotServer(tmp, Clock(NOW)) as server:
        store = server.store
        assert store is not None
        seed(store)
        store.save_conversation_ref("chair", conversation_ref(channel.service_url, "chair"))
        url = channel.service_url
        server.post(fakes.message("help", "a:pro-1", "29:pro-1", "pro-1", url))  # identity and reference
        watch = create_engine(store.engine.url)  # polled apart, so that the polling is not counted
        try:
            with Counted(store.engine) as counted:
                server.post(fakes.message(f"dissent CPC-1 {REASON}", "a:pro-1", "29:pro-1", "pro-1", url))
                deadline = time.monotonic() + 30
                while _undelivered(watch) and time.monotonic() < deadline:
                    time.sleep(0.01)
                time.sleep(0.2)  # whatever the delivery does after its mark
        finally:
            watch.dispose()
    return counted


def _undelivered(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM notices WHERE state = 'pending'")).scalar_one())


def report(name: str, url: str, show: bool) -> dict[str, Counted]:
    store = open_store(url)
    try:
        seed(store)
        counts = turn_counts(store)
    finally:
        store.close()
    for what, counted in counts.items():
        print(f"  {name:10} {counted.line(what)}")
        if show:
            for s in counted.statements:
                print(f"      {s}")
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="statements and transactions per turn")
    ap.add_argument("--postgres-url", default=os.environ.get("CPC_TEST_POSTGRES_URL") or DEFAULT_POSTGRES)
    ap.add_argument("--statements", action="store_true", help="print every statement")
    args = ap.parse_args(argv)
    os.environ.setdefault("CPC_AUDIT_KEY", "0" * 64)
    print("one turn once the person is known (Turns.command on the worker thread)")
    with tempfile.TemporaryDirectory() as tmp:
        report("sqlite", f"sqlite:///{tmp}/counts.sqlite3", args.statements)
        served = served_counts(Path(tmp))
        print(f"  {'sqlite':10} {served.line('dissent in all')}  (the served turn and its notice's delivery)")
        if args.statements:
            for s in served.statements:
                print(f"      {s}")
    pg = args.postgres_url.replace("postgresql://", "postgresql+psycopg://", 1)
    why = reachable(pg)
    if why is not None:
        print(f"  postgresql unreachable ({why}): skipped")
        return 0
    url, drop = postgres_schema(pg)
    try:
        report("postgresql", url, args.statements)
    finally:
        drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
