"""Who may post to ``/api/messages``: every check an activity passes before a turn runs.

In order, each refusal a short JSON answer and nothing stored:

1. Unauthenticated mode (no app id) is for the Agents Playground on this machine: only loopback
   peers, no browser ``Origin`` other than a configured Playground's, and a JSON content type (a
   cross-site ``text/plain`` POST needs no CORS preflight, so without these a web page the user
   visits could record a dissent in their name).
2. Authenticated mode: the ``Authorization`` header's token is checked *before the body is read*
   (:mod:`bot.edge_auth`), so an anonymous caller cannot make the server parse anything.
3. The body is read within :data:`BODY_TIMEOUT` (a slow upload is 408), and must be a well-formed
   activity (400, never a 500: 1,000 nested brackets included).
4. The token's key is endorsed for the activity's channel and its ``serviceurl`` equals the activity's.
5. The ``serviceUrl`` is one the bot may post to: loopback in unauthenticated mode, a Teams service
   host otherwise (the bot stores it and posts reminders to it later).
6. The tenant (``channelData.tenant.id``) is one of the allowed tenants (403 otherwise).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

from bot import edge
from bot.edge_auth import TokenValidator

#: How long the client may take to send the body once the headers have arrived.
BODY_TIMEOUT = 10.0
MAX_BODY = 256 * 1024


class Refused(Exception):
    """An activity refused at the gate, with the HTTP status and a short reason for the caller."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason

    def response(self) -> web.Response:
        return web.json_response({"error": self.reason}, status=self.status)


def _hosts(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v.strip().casefold() for v in values if v.strip())


def is_loopback_host(host: str | None) -> bool:
    import ipaddress

    if not host:
        return False
    if host.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0]).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Gate:
    validator: TokenValidator | None
    tenants: frozenset[str]
    service_hosts: frozenset[str]
    origins: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: object) -> Gate:
        def listed(name: str) -> list[str]:
            return [v for v in str(getattr(settings, name, "") or "").split(",") if v.strip()]

        tenants_of = getattr(settings, "tenants", None)
        tenants = frozenset(tenants_of()) if callable(tenants_of) else frozenset()
        return cls(
            edge.make_validator(settings),  # type: ignore[arg-type]  # app.settings.Settings, by shape
            tenants,
            _hosts(listed("teams_service_hosts")),
            frozenset(o.strip().rstrip("/").casefold() for o in listed("playground_origins")),
        )

    @property
    def authenticated(self) -> bool:
        return self.validator is not None

    async def admit(self, request: web.Request) -> tuple[edge.Activity, edge.ClaimsIdentity]:
        """The activity and the claims to run its turn with; :class:`Refused` otherwise."""
        token: edge.ChannelToken | None = None
        if self.validator is None:
            self._loopback_only(request)
        else:
            try:
                token = await self.validator.validate(request.headers.get("Authorization"))
            except edge.Unauthorized:
                raise Refused(401, "unauthorized") from None
        activity = await self._activity(request)
        if token is not None:
            try:
                edge.check_activity(token, edge.channel_of(activity), activity.service_url)
            except edge.Unauthorized:
                raise Refused(401, "unauthorized") from None
        self._service_url(activity.service_url)
        tenant = edge.tenant_id(activity)
        if self.tenants and (tenant or "").casefold() not in self.tenants:
            edge.log.info("refused an activity from a tenant that is not allowed")
            raise Refused(403, "this tenant is not allowed to use this bot")
        if token is None:
            return activity, edge.ClaimsIdentity({}, "anonymous")
        return activity, token.identity

    def _loopback_only(self, request: web.Request) -> None:
        if not is_loopback_host(request.remote):
            raise Refused(401, "unauthenticated mode accepts loopback traffic only")
        origin = request.headers.get("Origin")
        if origin is not None and origin.strip().rstrip("/").casefold() not in self.origins:
            raise Refused(403, "requests from a web page are not accepted in unauthenticated mode")
        if request.content_type != "application/json":
            raise Refused(415, "expected Content-Type: application/json")

    async def _activity(self, request: web.Request) -> edge.Activity:
        if request.content_length is not None and request.content_length > MAX_BODY:
            raise Refused(413, "request too large")
        try:
            raw = await asyncio.wait_for(request.read(), BODY_TIMEOUT)
        except TimeoutError:
            raise Refused(408, "the request body did not arrive in time") from None
        except web.HTTPRequestEntityTooLarge:
            raise Refused(413, "request too large") from None
        try:
            return edge.parse_activity(json.loads(raw))
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise Refused(400, "expected a Bot Framework activity as JSON") from None

    def _service_url(self, service_url: str | None) -> None:
        try:
            parts = urlsplit(service_url or "")
            host = parts.hostname
        except ValueError:
            host = None
        if self.validator is None:
            ok = host is not None and is_loopback_host(host) and parts.scheme in ("http", "https")
        else:
            ok = host is not None and parts.scheme == "https" and host.casefold() in self.service_hosts
            ok = ok or (host is not None and host.casefold() in self.service_hosts and is_loopback_host(host))
        if not ok:
            edge.log.info("refused an activity naming a serviceUrl the bot may not post to")
            raise Refused(403, "the activity's serviceUrl is not one this bot posts to")
