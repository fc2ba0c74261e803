"""Benchmark: ``dissent <ref> <reason>`` at 50 concurrent conversations, on SQLite and PostgreSQL.

Why this exists (issue 12 item 3): a dissent turn is the dearest write a professional makes, and it
queues the chair's prompt. The turn must answer in well under a second while the prompts go out
behind it. What runs, on each backend in one run:

- the real server (:func:`app.serve.build`: gate, **real token validation** against a local OpenID
  configuration and JWKS, the Agents SDK adapter, casework, the store, the scheduler and its sweep),
  with the access log on;
- the fake Teams channel (:mod:`tests.e2e.fakes`) in a process of its own, taking both the replies
  and the chairs' prompts;
- the client in a process of its own: ``conversations`` professionals, each in their own 1:1 chat,
  each raising a dissent on a case of their own (a fresh case every round), all at once.

Every conversation says ``help`` once first (key fetch, first connections, the stored conversation
reference), which is not timed. Prints p50/p95/p99 of the dissent turn per backend, and how long
after the last reply every chair's prompt had been delivered (from the notice rows).

    .venv/bin/python bench/dissent.py [--conversations 50] [--rounds 3] [--require-postgres]
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse
import asyncio
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import create_engine, make_url, text

from app.serve import build
from bench.backends import DEFAULT_POSTGRES, postgres_schema
from bench.messages import APP_ID, TENANT, Worker, _channel_process, _client_process, pct, secured_settings, serve
from casework.clock import parse_time
from casework.records import Attendee, CaseEvent, Conference, Person
from store.sql import SqlStore
from tests.e2e import fakes
from tests.e2e.test_reminder_delivery import conversation_ref

REASON = "The threshold for a child protection plan is not met on the evidence given"
NOW = "2026-12-18T10:00"


def seed(store: SqlStore, service_url: str, conversations: int, rounds: int) -> None:
    """One professional per conversation and one case per professional per round, held an hour ago
    (the dissent window is open); each case's chair has talked to the bot, so its prompt goes to Teams."""
    held = parse_time(NOW) - timedelta(hours=1)
    chairs = max(1, conversations // 5)
    for c in range(chairs):
        store.upsert_person(Person(f"chair-{c}", f"chair{c}@example.org", f"Chair {c}", "social_care"))
        store.save_conversation_ref(f"chair-{c}", conversation_ref(service_url, f"chair-{c}"))
    for i in range(conversations):
        store.upsert_person(Person(f"pro-{i}", f"pro{i}@example.org", f"Professional {i}", "police"))
    for r in range(rounds):
        for i in range(conversations):
            ref = case(r, i)
            attendees = (Attendee(f"pro-{i}", "police"), Attendee(f"pro-{(i + 1) % conversations}", "health"))
            chair = f"chair-{i % chairs}"
            store.add_conference(
                Conference(ref, "sussex", "initial", held_at=held, chair_id=chair, attendees=attendees)
            )
            store.record_event(CaseEvent(ref, "conference_held", held, "bench"))


def case(round_: int, i: int) -> str:
    return f"CPC-{10000 + round_ * 1000 + i}"


def notices_left(store: SqlStore) -> tuple[int, int]:
    """(notices not yet delivered, all notices)."""
    with store.engine.connect() as conn:
        left = conn.execute(text("SELECT count(*) FROM notices WHERE state NOT IN ('sent', 'emailed')")).scalar_one()
        total = conn.execute(text("SELECT count(*) FROM notices")).scalar_one()
    return int(left), int(total)


async def run_backend(
    name: str, url: str, args: argparse.Namespace, service_url: str, client: Worker, openid: fakes.OpenIdServer
) -> list[float]:
    tmp = Path(tempfile.mkdtemp(prefix="cpc-bench-dissent-"))
    now = parse_time(NOW)
    settings = secured_settings(url, tmp, openid)
    app, store = build(settings, lambda: now, fakes.FixedTokenSource())
    n = args.conversations
    seed(store, service_url, n, args.rounds)

    def body(i: int, words: str) -> dict[str, Any]:
        return fakes.message(words, f"a:pro-{i}", f"29:pro-{i}", f"pro-{i}", service_url, tenant_id=TENANT)

    tokens = [openid.token(APP_ID, serviceurl=service_url, exp_in=3600) for _ in range(n)]
    runner, endpoint = await serve(app)
    latencies: list[float] = []
    try:
        client.conn.send((endpoint, [body(i, "help") for i in range(n)], tokens, 1))
        await asyncio.to_thread(client.conn.recv)
        for r in range(args.rounds):
            client.conn.send((endpoint, [body(i, f"dissent {case(r, i)} {REASON}") for i in range(n)], tokens, 1))
            _rate, round_latencies = await asyncio.to_thread(client.conn.recv)
            latencies.extend(round_latencies)
        replied = time.perf_counter()
        left, total = await asyncio.to_thread(notices_left, store)
        while left and time.perf_counter() - replied < args.notice_timeout:
            await asyncio.sleep(0.05)
            left, total = await asyncio.to_thread(notices_left, store)
        drained = time.perf_counter() - replied
    finally:
        await runner.cleanup()
        store.close()
    print(
        f"  {name:10} dissent   p50 {pct(latencies, 0.5):7.1f} ms   p95 {pct(latencies, 0.95):7.1f} ms   "
        f"p99 {pct(latencies, 0.99):7.1f} ms   ({len(latencies)} turns)   "
        f"chair prompts delivered: {total - left}/{total}, all {drained:.2f} s after the last reply"
    )
    if left:
        raise RuntimeError(f"{left} notices were not delivered within {args.notice_timeout} s")
    if total != n * args.rounds:
        raise RuntimeError(f"expected {n * args.rounds} chair prompts, found {total}")
    return latencies


def reachable(pg: str) -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        probe = create_engine(pg, connect_args={"connect_timeout": 5})
        with probe.connect() as conn:
            conn.execute(text("SELECT 1"))
        probe.dispose()
    except Exception as exc:
        return type(exc).__name__
    return None


async def main_async(args: argparse.Namespace) -> int:
    os.environ.setdefault("CPC_AUDIT_KEY", secrets.token_hex(32))  # an authenticated server needs one
    pg_url = make_url(args.postgres_url)
    if pg_url.drivername == "postgresql":
        pg_url = pg_url.set(drivername="postgresql+psycopg")
    pg = pg_url.render_as_string(hide_password=False)
    why = reachable(pg)
    if why is not None and args.require_postgres:
        print(f"postgresql unreachable: {why}", file=sys.stderr)
        return 1
    access = logging.getLogger("aiohttp.access")
    access.setLevel(logging.INFO)
    access.addHandler(logging.FileHandler(Path(tempfile.mkdtemp(prefix="cpc-bench-access-")) / "access.log"))
    access.propagate = False
    channel = Worker(_channel_process)
    service_url: str = channel.conn.recv()
    client = Worker(_client_process)
    print(
        f"dissent at {args.conversations} concurrent conversations x {args.rounds} rounds (each turn on its own case); "
        "real token validation; access log on; client and fake Teams channel in their own processes"
    )
    backends: list[tuple[str, Callable[[], tuple[str, Callable[[], None]]]]] = []
    sqlite_dir = tempfile.mkdtemp(prefix="cpc-bench-sqlite-")
    if args.only in (None, "sqlite"):
        backends.append(("sqlite", lambda: (f"sqlite:///{sqlite_dir}/bench.sqlite3", lambda: None)))
    if why is None and args.only in (None, "postgresql"):
        backends.append(("postgresql", lambda: postgres_schema(pg)))
    elif why is not None:
        print(f"  postgresql unreachable ({why}): skipped")
    try:
        with fakes.OpenIdServer() as openid:
            for name, make in backends:
                url, drop = make()
                try:
                    await run_backend(name, url, args, service_url, client, openid)
                finally:
                    drop()
    finally:
        client.stop(None)
        channel.stop("stop")
    print("  target: p99 under 1000 ms on both")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="dissent turns at many concurrent conversations")
    ap.add_argument("--conversations", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--notice-timeout", type=float, default=120.0, help="seconds to wait for every chair's prompt")
    ap.add_argument("--postgres-url", default=os.environ.get("CPC_TEST_POSTGRES_URL") or DEFAULT_POSTGRES)
    ap.add_argument("--only", choices=["sqlite", "postgresql"], help="one backend only")
    ap.add_argument("--require-postgres", action="store_true", help="fail rather than skip without PostgreSQL")
    return asyncio.run(main_async(ap.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
