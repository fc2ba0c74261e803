"""The aiohttp application: ``/api/messages`` for the Bot Framework channel and ``/healthz``.

No request produces a 5xx or a traceback: bad JSON is 400, a failed token check is 401, and an
error inside a turn is answered in the conversation ("nothing was changed") and logged by type only.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web
from botbuilder.core import TurnContext

from bot import edge
from bot.handler import ChallengeBot, Delivery
from casework.service import Casework
from graph.outbox import FileOutbox
from scheduler.runner import Scheduler

log = logging.getLogger("cpc.http")

MAX_BODY = 256 * 1024
BOT_KEY: web.AppKey[ChallengeBot] = web.AppKey("bot", ChallengeBot)


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


async def _turn_error(turn_context: TurnContext, error: Exception) -> None:
    log.error("turn failed: %s", type(error).__name__)
    try:
        await turn_context.send_activity("Sorry, something went wrong and nothing was changed. Please try again.")
    except Exception:  # the channel may be the thing that failed
        log.warning("could not tell the user about a failed turn")


def create_app(
    settings: Any,
    casework: Casework,
    outbox: FileOutbox,
    now: Callable[[], datetime],
    credentials_factory: Any = None,
    scheduler: Scheduler | None = None,
) -> web.Application:
    adapter = edge.make_adapter(settings, credentials_factory)
    adapter.on_turn_error = _turn_error
    bot = ChallengeBot(casework, Delivery(adapter, settings.app_id, casework, outbox), now)
    unauthenticated = not settings.app_id

    async def messages(request: web.Request) -> web.StreamResponse:
        if unauthenticated and not is_loopback(request.remote):
            return web.json_response({"error": "unauthenticated mode accepts loopback traffic only"}, status=401)
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.json_response({"error": "request too large"}, status=413)
        try:
            body = await request.json()
            activity = edge.parse_activity(body)
        except (ValueError, UnicodeDecodeError):
            return web.json_response({"error": "expected a Bot Framework activity as JSON"}, status=400)
        try:
            auth = await edge.authenticate(adapter, activity, request.headers.get("Authorization"))
        except edge.Unauthorized:
            return web.json_response({"error": "unauthorized"}, status=401)
        try:
            response = await edge.process(adapter, auth, activity, bot.on_turn)
        except Exception as exc:  # never a 5xx: the channel would retry and the user would see nothing
            log.error("activity not processed: %s", type(exc).__name__)
            return web.json_response({"error": "not processed"}, status=200)
        if response is None:
            return web.Response(status=201)
        status, payload = edge.invoke_response_json(response)
        return web.json_response(payload, status=status)

    async def healthz(_request: web.Request) -> web.StreamResponse:
        return web.json_response({"status": "ok", "authenticated": not unauthenticated})

    app = web.Application(client_max_size=MAX_BODY)
    app[BOT_KEY] = bot
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    if scheduler is not None:
        app.cleanup_ctx.append(scheduler.lifecycle)
    return app
