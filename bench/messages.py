"""Benchmark: ``status <ref>`` at 50 concurrent conversations against a minimal echo bot.

Both bots run on the same stack (aiohttp, botbuilder CloudAdapter through ``bot/edge.py``, replies
to a fake Teams channel over loopback HTTP), one after the other in the same run. Prints requests
per second and p50/p99 latency for each and the throughput ratio (target: status >= 0.7 x echo).

    .venv/bin/python bench/messages.py [--conversations 50] [--requests 20]
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse
import asyncio
import multiprocessing
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import aiohttp
from aiohttp import web
from botbuilder.core import ActivityHandler, MessageFactory, TurnContext

from app.serve import build
from app.settings import Settings
from bot import edge
from casework.clock import parse_time
from casework.records import Attendee, CaseEvent, Conference, Person
from tests.e2e import fakes


class Echo(ActivityHandler):  # type: ignore[misc]
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(MessageFactory.text(turn_context.activity.text or ""))


def echo_app(settings: Settings) -> web.Application:
    adapter = edge.make_adapter(settings)
    bot = Echo()

    async def messages(request: web.Request) -> web.StreamResponse:
        activity = edge.parse_activity(await request.json())
        auth = await edge.authenticate(adapter, activity, request.headers.get("Authorization"))
        await edge.process(adapter, auth, activity, bot.on_turn)
        return web.Response(status=201)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    return app


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/api/messages"


async def load(
    url: str, make: Callable[[int], dict[str, Any]], conversations: int, per: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=conversations)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def conversation(i: int) -> None:
            body = make(i)
            for _ in range(per):
                t = time.perf_counter()
                async with session.post(url, json=body) as resp:
                    await resp.read()
                    if resp.status >= 300:
                        raise RuntimeError(f"HTTP {resp.status}")
                latencies.append(time.perf_counter() - t)

        t0 = time.perf_counter()
        await asyncio.gather(*(conversation(i) for i in range(conversations)))
        elapsed = time.perf_counter() - t0
    return conversations * per / elapsed, latencies


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * q))] * 1000


def _channel_process(conn: Connection) -> None:
    """The fake Teams channel in a process of its own: in production the channel is remote, so
    its work (parsing each reply) must not compete with the bot for this process's CPU."""
    channel = fakes.FakeTeamsChannel().start()
    conn.send(channel.service_url)
    conn.recv()  # until told to stop
    channel.stop()


class RemoteChannel:
    def __init__(self) -> None:
        self._conn, child = multiprocessing.Pipe()
        self._proc = multiprocessing.get_context("spawn").Process(target=_channel_process, args=(child,), daemon=True)
        self._proc.start()
        self.service_url: str = self._conn.recv()

    def stop(self) -> None:
        self._conn.send("stop")
        self._proc.join(10)


async def main_async(args: argparse.Namespace) -> int:
    channel = RemoteChannel()
    try:
        tmp = Path(tempfile.mkdtemp(prefix="cpc-bench-"))
        now = parse_time("2026-12-18T10:00")
        settings = Settings(database_url=f"sqlite:///{tmp / 'b.sqlite3'}", outbox_dir=str(tmp / "outbox"))
        app, store = build(settings, lambda: now)
        held = parse_time("2026-12-17T14:00")
        # Each conversation is a professional asking about a case they attended: 50 cases of 8
        # attendees (a conference's usual size), each with the conference and a dissent on record.
        for i in range(args.conversations):
            store.upsert_person(Person(f"oid-{i}", f"p{i}@example.org", f"p{i}", "police"))
        for i in range(args.conversations):
            ref = f"CPC-{1000 + i}"
            attendees = tuple(Attendee(f"oid-{(i + k) % args.conversations}", "police") for k in range(8))
            store.add_conference(
                Conference(ref, "sussex", "initial", held_at=held, chair_id="oid-0", attendees=attendees)
            )
            store.record_event(CaseEvent(ref, "conference_held", held, "bench"))
            store.record_event(CaseEvent(ref, "dissent_raised", parse_time("2026-12-17T16:00"), "bench"))

        def status_msg(i: int) -> dict[str, Any]:
            return fakes.message(f"status CPC-{1000 + i}", f"a:{i}", f"29:{i}", f"oid-{i}", channel.service_url)

        results: dict[str, tuple[float, list[float]]] = {}
        for name, application in (("echo", echo_app(settings)), ("status", app)):
            runner, url = await serve(application)
            try:
                await load(url, status_msg, args.conversations, 2)  # warm up
                results[name] = await load(url, status_msg, args.conversations, args.requests)
            finally:
                await runner.cleanup()
        print(
            f"{args.conversations} concurrent conversations x {args.requests} requests, "
            "loopback (channel in its own process):"
        )
        for name, (rps, lat) in results.items():
            label = "echo bot (reference)" if name == "echo" else "status <ref>"
            print(f"  {label:22} {rps:8.1f} req/s   p50 {pct(lat, 0.5):7.1f} ms   p99 {pct(lat, 0.99):7.1f} ms")
        ratio = results["status"][0] / results["echo"][0]
        print(f"  throughput ratio status/echo: {ratio:.2f}   (target >= 0.70)")
        store.close()
        return 0
    finally:
        channel.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="status <ref> throughput against an echo bot")
    ap.add_argument("--conversations", type=int, default=50)
    ap.add_argument("--requests", type=int, default=20)
    return asyncio.run(main_async(ap.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
