"""Benchmark: ``status <ref>`` at 50 concurrent conversations against an echo agent, on one stack.

What is compared, in one run, so that the ratio is fair (issue 11, issue 12 item 6):

- Both agents run on the same stack: aiohttp, the gate (:mod:`bot.gate`) with **real token validation**
  (RS256 tokens checked against a local OpenID configuration and JWKS, the tenant and ``serviceUrl``
  checks), the Agents SDK's ``CloudAdapter`` and ``AgentApplication``, and replies posted over loopback
  HTTP to a fake Teams channel running in a process of its own.
- Both write an access log (aiohttp's, to a file).
- The load comes from a client in its own process (so its work does not compete with the bot's),
  one bearer token per conversation, as the Bot Connector reuses a token for its lifetime.
- The ``status`` askers are a mix: attendees, the chair of their case and reviewing managers (who see
  a case through their area role, the dearest lookup).
- Rounds are interleaved (echo, status, echo, status, ...) and the median of the rounds is reported.

Prints requests per second and p50/p99 latency for each, and the throughput ratio (target >= 0.85).

    .venv/bin/python bench/messages.py [--conversations 50] [--requests 20] [--rounds 3]
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
import multiprocessing
import statistics
import tempfile
import time
from multiprocessing.connection import Connection
from typing import Any

import aiohttp
from aiohttp import web
from microsoft_agents.hosting.core import AgentApplication, ApplicationOptions, MemoryStorage, TurnState

from app.serve import build
from app.settings import Settings
from bot import edge
from bot.gate import Gate, Refused
from casework.clock import parse_time
from casework.records import Attendee, CaseEvent, Conference, Person, RoleGrant
from tests.e2e import fakes

APP_ID = "00000000-0000-0000-0000-0000000be7c4"
TENANT = "tenant-1"


class _NoSignIn:
    def _refuse(self, *_a: Any, **_k: Any) -> Any:
        raise RuntimeError("no sign-in")

    get_connection = get_default_connection = get_token_provider = _refuse
    get_token_provider_from_activity = get_default_connection_configuration = _refuse


def secured_settings(database_url: str, tmp: Path, openid: fakes.OpenIdServer) -> Settings:
    """A benchmark server's settings: authenticated, tokens checked against the local ``openid``
    server, the fake channel's tenant and loopback host the allowed ones."""
    return Settings(
        database_url=database_url,
        outbox_dir=str(tmp / "outbox"),
        app_id=APP_ID,
        app_password="unused",
        app_type="MultiTenant",
        openid_metadata_url=openid.metadata_url,
        token_issuer=fakes.BOT_FRAMEWORK_ISSUER,
        allowed_tenants=TENANT,
        teams_service_hosts="127.0.0.1",
    )


def echo_app(settings: Settings) -> web.Application:
    """The reference: the same gate, adapter and SDK application, answering with the text."""
    adapter = edge.make_adapter(settings, fakes.FixedTokenSource())
    gate = Gate.from_settings(settings)
    agent: AgentApplication[TurnState] = AgentApplication(
        ApplicationOptions(storage=MemoryStorage(), start_typing_timer=False), connection_manager=_NoSignIn()
    )

    @agent.activity("message")
    async def on_message(context: edge.TurnContext, _state: TurnState) -> None:
        await context.send_activity(edge.text_activity(context.activity.text or ""))

    async def messages(request: web.Request) -> web.StreamResponse:
        try:
            activity, identity = await gate.admit(request)
        except Refused as refused:
            return refused.response()
        await edge.process(adapter, identity, activity, agent.on_turn)
        return web.Response(status=201)

    async def close(_app: web.Application) -> None:
        await edge.close(adapter)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    app.on_cleanup.append(close)
    return app


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)  # with aiohttp's access log, written by the handler set up in main
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/api/messages"


# -- the client, in its own process -----------------------------------------------------------------


async def _load(url: str, bodies: list[dict[str, Any]], tokens: list[str], per: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=len(bodies))
    async with aiohttp.ClientSession(connector=connector) as session:

        async def conversation(i: int) -> None:
            headers = {"Authorization": f"Bearer {tokens[i]}"}
            for _ in range(per):
                t = time.perf_counter()
                async with session.post(url, json=bodies[i], headers=headers) as resp:
                    await resp.read()
                    if resp.status >= 300:
                        raise RuntimeError(f"HTTP {resp.status}")
                latencies.append(time.perf_counter() - t)

        t0 = time.perf_counter()
        await asyncio.gather(*(conversation(i) for i in range(len(bodies))))
        elapsed = time.perf_counter() - t0
    return len(bodies) * per / elapsed, latencies


def _client_process(conn: Connection) -> None:
    while True:
        job = conn.recv()
        if job is None:
            return
        conn.send(asyncio.run(_load(*job)))


def _channel_process(conn: Connection) -> None:
    """The fake Teams channel in a process of its own: in production the channel is remote."""
    channel = fakes.FakeTeamsChannel(tenant_id=TENANT).start()
    conn.send(channel.service_url)
    conn.recv()  # until told to stop
    channel.stop()


class Worker:
    def __init__(self, target: Any) -> None:
        self.conn, child = multiprocessing.Pipe()
        self.proc = multiprocessing.get_context("spawn").Process(target=target, args=(child,), daemon=True)
        self.proc.start()

    def stop(self, message: Any) -> None:
        self.conn.send(message)
        self.proc.join(10)


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * q))] * 1000


def seed(store: Any, conversations: int) -> list[str]:
    """People and cases: every third asker is a chair of their case, every third a reviewing manager
    (area role), the rest attendees. 50 cases of 8 attendees, each with a dissent on record."""
    held = parse_time("2026-12-17T14:00")
    kinds = []
    for i in range(conversations):
        kind = ("attendee", "chair", "manager")[i % 3]
        kinds.append(kind)
        store.upsert_person(Person(f"oid-{i}", f"p{i}@example.org", f"Person {i}", "police"))
        if kind == "manager":
            store.grant_role(RoleGrant(f"oid-{i}", "head_of_safeguarding", "sussex"))
    for i in range(conversations):
        ref = f"CPC-{1000 + i}"
        attendees = tuple(Attendee(f"oid-{(i + k) % conversations}", "police") for k in range(8) if (i + k) % 3 == 0)
        chair = f"oid-{i}" if kinds[i] == "chair" else "oid-1"
        store.add_conference(Conference(ref, "sussex", "initial", held_at=held, chair_id=chair, attendees=attendees))
        store.record_event(CaseEvent(ref, "conference_held", held, "bench"))
        store.record_event(CaseEvent(ref, "dissent_raised", parse_time("2026-12-17T16:00"), "bench"))
    return kinds


async def main_async(args: argparse.Namespace) -> int:
    import os
    import secrets

    os.environ.setdefault("CPC_AUDIT_KEY", secrets.token_hex(32))  # an authenticated server needs one
    channel = Worker(_channel_process)
    service_url: str = channel.conn.recv()
    client = Worker(_client_process)
    tmp = Path(tempfile.mkdtemp(prefix="cpc-bench-"))
    access = logging.getLogger("aiohttp.access")
    access.setLevel(logging.INFO)
    access.addHandler(logging.FileHandler(tmp / "access.log"))
    access.propagate = False
    try:
        with fakes.OpenIdServer() as openid:
            now = parse_time("2026-12-18T10:00")
            settings = secured_settings(f"sqlite:///{tmp / 'b.sqlite3'}", tmp, openid)
            app, store = build(settings, lambda: now, fakes.FixedTokenSource())
            kinds = seed(store, args.conversations)
            bodies = [
                fakes.message(f"status CPC-{1000 + i}", f"a:{i}", f"29:{i}", f"oid-{i}", service_url, tenant_id=TENANT)
                for i in range(args.conversations)
            ]
            tokens = [openid.token(APP_ID, serviceurl=service_url, exp_in=3600) for _ in bodies]
            runners = []
            urls = {}
            for name, application in (("echo", echo_app(settings)), ("status", app)):
                runner, urls[name] = await serve(application)
                runners.append(runner)
            results: dict[str, list[tuple[float, list[float]]]] = {"echo": [], "status": []}
            try:
                for name in urls:  # warm up both (key fetch, first connections)
                    client.conn.send((urls[name], bodies, tokens, 2))
                    await asyncio.to_thread(client.conn.recv)
                for _ in range(args.rounds):
                    for name in ("echo", "status"):
                        client.conn.send((urls[name], bodies, tokens, args.requests))
                        results[name].append(await asyncio.to_thread(client.conn.recv))
            finally:
                for runner in runners:
                    await runner.cleanup()
            mix = {k: kinds.count(k) for k in ("attendee", "chair", "manager")}
            print(
                f"{args.conversations} concurrent conversations x {args.requests} requests, {args.rounds} interleaved "
                f"rounds; real token validation on both; access log on; client and channel in their own processes; "
                f"askers: {mix}"
            )
            medians = {}
            for name, rounds in results.items():
                rates = [r for r, _ in rounds]
                latencies = [x for _, lat in rounds for x in lat]
                medians[name] = statistics.median(rates)
                label = "echo agent (reference)" if name == "echo" else "status <ref>"
                print(
                    f"  {label:24} median {medians[name]:7.1f} req/s (rounds {', '.join(f'{r:.0f}' for r in rates)})"
                    f"   p50 {pct(latencies, 0.5):6.1f} ms   p99 {pct(latencies, 0.99):6.1f} ms"
                )
            print(f"  throughput ratio status/echo: {medians['status'] / medians['echo']:.2f}   (target >= 0.85)")
            store.close()
            return 0
    finally:
        client.stop(None)
        channel.stop("stop")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="status <ref> throughput against an echo agent")
    ap.add_argument("--conversations", type=int, default=50)
    ap.add_argument("--requests", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    return asyncio.run(main_async(ap.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
