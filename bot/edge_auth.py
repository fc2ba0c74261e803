"""Authenticating an incoming request: the Bot Framework token checks, made safe (see :mod:`bot.edge`).

Token validation fetches the OpenID metadata with a *blocking* ``requests.get`` and several bad
tokens raise arbitrary exceptions (500s). :func:`authenticate` runs the validation on a worker
thread and turns every failure into :class:`Unauthorized`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult, BotFrameworkAuthentication

# The edge's one logger, whichever part of it logs (its name predates the split of bot/edge.py).
log = logging.getLogger("bot.edge")

#: How long ``authenticate`` waits for the metadata fetch and validation (requests has no timeout).
AUTH_TIMEOUT_SECONDS = 30.0


class Unauthorized(Exception):
    """The request's token was missing or invalid: answer 401, never 500."""

    def __init__(self, reason: str = "request is not authorized") -> None:
        super().__init__(reason)
        self.reason = reason


def _validate_on_fresh_loop(auth: BotFrameworkAuthentication, activity: Activity, header: str | None) -> Any:
    """Run the SDK's async validation to completion on this (worker) thread's own event loop.

    The SDK's coroutine calls ``requests.get`` inside it, so awaiting it on the server's loop would
    block every other request while the metadata downloads.
    """
    return asyncio.run(auth.authenticate_request(activity, header))


async def authenticate(
    adapter_or_auth: CloudAdapter | BotFrameworkAuthentication,
    activity: Activity,
    auth_header: str | None,
    *,
    timeout: float = AUTH_TIMEOUT_SECONDS,
) -> AuthenticateRequestResult:
    """Validate the request's token for real; raise ``Unauthorized`` for every failure mode.

    Covers a missing header when an app id is set, malformed or expired tokens, unknown keys, wrong
    signature, audience, issuer, endorsement or ``serviceurl`` claim. The SDK raises PermissionError
    for some of these and IndexError, AttributeError, jwt errors or plain Exception for others.
    """
    auth = getattr(adapter_or_auth, "bot_framework_authentication", adapter_or_auth)
    # The parameterized SDK path tests ``header is None`` but an empty string crashes it (500).
    header = (auth_header or "").strip() or None
    try:
        if header is None and getattr(adapter_or_auth, "cpc_auth_disabled", False):
            # Auth disabled (loopback only) and no token: the SDK's anonymous path does no I/O, so it
            # runs here rather than on a worker thread whose GIL traffic slowed every other request.
            result = await auth.authenticate_request(activity, header)
        else:
            result = await asyncio.wait_for(asyncio.to_thread(_validate_on_fresh_loop, auth, activity, header), timeout)
    except Exception as exc:
        log.info("rejected request: %s: %s", type(exc).__name__, exc)
        raise Unauthorized(f"{type(exc).__name__}: {exc}") from exc
    identity = getattr(result, "claims_identity", None)
    if identity is None or not identity.is_authenticated:
        raise Unauthorized("no authenticated identity")
    return result
