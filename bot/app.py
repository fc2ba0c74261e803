"""The aiohttp application: ``/api/messages`` for the Bot Framework channel, ``/healthz`` and ``/readyz``.

No request produces a 5xx or a traceback: the gate (:mod:`bot.gate`) answers 401 for a failed token
check (before the body is read), 400 for a body that is not an activity, 403 for a tenant or
``serviceUrl`` the bot does not serve; an error inside a turn is answered in the conversation and
logged by type only. The answer does not claim
that nothing changed: the action may have committed before the failure (its reply could not be drawn),
and every action is idempotent, so trying again is safe and says what is on record.
The one deliberate 5xx is ``/readyz``'s 503, which a load balancer reads as "send traffic elsewhere".

``/healthz`` is liveness: it touches nothing, so it answers while the database is stuck. ``/readyz``
is readiness: the database answers (off the event loop, within a short limit), its schema is at the
migrations' head, and the scheduler runs. Blocking calls (the store, token validation) go to the
loop's default executor, which the app replaces on startup with one sized to the connection pool.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, Protocol

from aiohttp import web

from bot import edge
from bot.gate import MAX_BODY, Gate, Refused, is_loopback_host
from bot.handler import ChallengeBot, Delivery
from casework.ports import EmailOutbox
from casework.service import Casework

log = logging.getLogger("cpc.http")

BOT_KEY: web.AppKey[ChallengeBot] = web.AppKey("bot", ChallengeBot)


class Background(Protocol):
    """The scheduler's part of the app (``scheduler.runner.Scheduler``), known to the bot only by this
    shape, so that adapters do not import each other."""

    @property
    def running(self) -> bool: ...
    def lifecycle(self, app: web.Application) -> AsyncIterator[None]: ...


SCHEDULER_KEY: web.AppKey[Background] = web.AppKey("scheduler", Background)
# How much longer than the database check's own limit /readyz waits before it gives up on it.
READY_GRACE = 1.0


class DatabaseCheck(Protocol):
    """The database's part of readiness (``store.engine.Readiness``): ``check()`` blocks, and returns
    None when ready or the problem in plain words; it gives up by itself after about ``timeout``."""

    timeout: float

    def check(self) -> str | None: ...


def is_loopback(host: str | None) -> bool:
    return is_loopback_host(host)


def create_app(
    settings: Any,
    casework: Casework,
    outbox: EmailOutbox,
    now: Callable[[], datetime],
    token_source: Any = None,
    scheduler: Background | None = None,
    database: DatabaseCheck | None = None,
) -> web.Application:
    adapter = edge.make_adapter(settings, token_source)
    bot = ChallengeBot(
        casework, Delivery(adapter, settings.app_id, outbox), now, settings.home_tenant(), settings.admin_contact
    )
    gate = Gate.from_settings(settings)
    unauthenticated = not gate.authenticated

    async def messages(request: web.Request) -> web.StreamResponse:
        try:
            activity, identity = await gate.admit(request)
        except Refused as refused:
            return refused.response()
        try:
            response = await edge.process(adapter, identity, activity, bot.on_turn)
        except Exception as exc:  # never a 5xx: the channel would retry and the user would see nothing
            log.error("activity not processed: %s", type(exc).__name__)
            return web.json_response({"error": "not processed"}, status=200)
        if response is None:
            return web.Response(status=201 if activity.type != "invoke" else 200)
        status, payload = edge.invoke_response_json(response)
        if status >= 500:  # the SDK's "no handler answered" (501): never a 5xx to the channel
            status, payload = 200, None
        return web.json_response(payload, status=status)

    async def healthz(_request: web.Request) -> web.StreamResponse:
        return web.json_response({"status": "ok", "authenticated": not unauthenticated})

    async def readyz(_request: web.Request) -> web.StreamResponse:
        problems = []
        if database is not None:
            problems.append(await _database_problem(database))
        if scheduler is not None and not scheduler.running:
            problems.append("scheduler not running")
        found = [p for p in problems if p]
        if found:
            return web.json_response({"status": "not ready", "reason": "; ".join(found)}, status=503)
        return web.json_response({"status": "ready"})

    app = web.Application(client_max_size=MAX_BODY)
    app[BOT_KEY] = bot
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    # First in, so last out: the executor outlives the scheduler's jobs that use it.
    app.cleanup_ctx.append(_executor_lifecycle(settings.executor_threads()))
    app.cleanup_ctx.append(_adapter_lifecycle(adapter))
    if scheduler is not None:
        app[SCHEDULER_KEY] = scheduler
        app.cleanup_ctx.append(scheduler.lifecycle)
    return app


def _adapter_lifecycle(adapter: edge.CloudAdapter) -> Callable[[web.Application], AsyncIterator[None]]:
    """Close the adapter's shared connection pool when the app stops."""

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        yield
        await edge.close(adapter)

    return lifecycle


async def _database_problem(database: DatabaseCheck) -> str | None:
    """Run the blocking check in the executor, and stop waiting for it a little after its own limit."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(database.check), database.timeout + READY_GRACE)
    except TimeoutError:
        return f"database not answering within {database.timeout:g} seconds"
    except Exception as exc:  # never a traceback from a probe
        log.error("readiness check failed: %s", type(exc).__name__)
        return f"database check failed ({type(exc).__name__})"


def _executor_lifecycle(threads: int) -> Callable[[web.Application], AsyncIterator[None]]:
    """aiohttp cleanup context: the loop's default executor (``asyncio.to_thread``,
    ``run_in_executor(None, ...)``) gets ``threads`` workers, one per connection the pool may open,
    so store calls queue for a thread rather than for a connection; shut down on cleanup."""

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="cpc-store")
        loop.set_default_executor(executor)
        try:
            yield
        finally:
            await _shutdown(executor)

    return lifecycle


async def _shutdown(executor: ThreadPoolExecutor) -> None:
    """Wait for running calls (each bounded by the database's own time limits) without blocking the
    loop, and drop queued ones: the shutdown runs on a thread of its own, as asyncio's does."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def finished() -> None:
        if not done.done():
            done.set_result(None)

    def run() -> None:
        try:
            executor.shutdown(wait=True, cancel_futures=True)
        finally:
            loop.call_soon_threadsafe(finished)

    threading.Thread(target=run, name="cpc-store-shutdown", daemon=True).start()
    await done
