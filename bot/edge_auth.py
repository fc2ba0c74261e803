"""Authenticating the channel: the Bot Connector's token, checked before the body is read.

Why our own validator rather than the Agents SDK's ``JwtTokenValidator`` (SDK-FACTS, checked again in
hosting/core/authorization/jwt/jwt_token_validator.py of 1.9.0): the SDK picks its key set from a fixed
URI for the Bot Framework issuer (no OpenID configuration to point at a test double or a sovereign
cloud), its issuer allow-list is opt-in, it checks no key endorsements, and it compares the
``serviceurl`` claim with the activity by host only. This module uses the same libraries the SDK
does (PyJWT and its ``PyJWKClient``) and adds each of those checks:

- the ``Authorization`` header is ``Bearer <jwt>`` and the token's header names RS256 (``alg=none``
  and an HS256 token "signed" with the public key are refused before any key is looked up);
- the key comes from the JWKS the OpenID configuration names; an unknown ``kid`` fetches the keys
  again once (a rotated key) and is then refused;
- the signature, ``exp``/``nbf`` (5 minutes of skew, as botbuilder allowed), the audience (our app
  id) and the issuer (an allow-list, always on) are checked;
- after the body is parsed, :func:`check_activity` requires the key to be endorsed for the
  activity's channel and the ``serviceurl`` claim to equal the activity's ``serviceUrl`` exactly.

Every failure is :class:`Unauthorized` (HTTP 401), never an exception the server would answer with 500.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from microsoft_agents.hosting.core.authorization import ClaimsIdentity

# The edge's one logger, whichever part of it logs.
log = logging.getLogger("bot.edge")

#: Where the Bot Connector publishes its OpenID configuration (public cloud), and who issues its tokens.
BOT_FRAMEWORK_OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
#: The one signing algorithm the Bot Connector uses: a token naming any other is refused unread.
ALGORITHMS = ("RS256",)
#: Clock skew allowed on ``exp`` and ``nbf`` (botbuilder's and the Agents SDK's figure).
LEEWAY_SECONDS = 300
#: How long the metadata and keys are kept before they are fetched again (keys rotate rarely).
METADATA_LIFETIME_SECONDS = 24 * 3600.0
#: The shortest gap between two key-set fetches caused by unknown ``kid`` values: a stream of forged
#: tokens must not become a stream of requests to Microsoft's key endpoint.
REFRESH_COOLDOWN_SECONDS = 30.0
#: How long a metadata or key fetch may take; validation as a whole waits at most ``AUTH_TIMEOUT_SECONDS``.
FETCH_TIMEOUT_SECONDS = 10.0
AUTH_TIMEOUT_SECONDS = 15.0


class Unauthorized(Exception):
    """The request's token was missing or invalid: answer 401, never 500."""

    def __init__(self, reason: str = "request is not authorized") -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ChannelToken:
    """A validated token: its claims (as the SDK's ClaimsIdentity) and the channels its key is endorsed for."""

    identity: ClaimsIdentity
    endorsements: frozenset[str]


def bearer_token(header: str | None) -> str:
    """The JWT from ``Authorization: Bearer <jwt>``; Unauthorized for anything else."""
    parts = (header or "").split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        raise Unauthorized("the Authorization header is not 'Bearer <token>'")
    return parts[1]


def _fetch_json(url: str, timeout: float) -> Any:
    """A JSON document over HTTP(S), blocking: called on a worker thread only."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # configured https URL, or loopback in tests
        return json.loads(response.read(1_000_000))


@dataclass
class TokenValidator:
    """Validates Bot Connector tokens for one app id against one OpenID configuration."""

    app_id: str
    metadata_url: str = BOT_FRAMEWORK_OPENID_METADATA_URL
    issuers: tuple[str, ...] = (BOT_FRAMEWORK_ISSUER,)
    refresh_cooldown: float = REFRESH_COOLDOWN_SECONDS
    fetch_timeout: float = FETCH_TIMEOUT_SECONDS
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _client: jwt.PyJWKClient | None = field(default=None, repr=False)
    _client_born: float = field(default=0.0, repr=False)

    def _keys(self) -> jwt.PyJWKClient:
        """The key client for the JWKS the OpenID configuration names, refreshed daily."""
        with self._lock:
            if self._client is None or time.monotonic() - self._client_born > METADATA_LIFETIME_SECONDS:
                metadata = _fetch_json(self.metadata_url, self.fetch_timeout)
                jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, Mapping) else None
                if not isinstance(jwks_uri, str) or not jwks_uri:
                    raise Unauthorized("the OpenID configuration names no jwks_uri")
                self._client = jwt.PyJWKClient(
                    jwks_uri,
                    lifespan=METADATA_LIFETIME_SECONDS,
                    timeout=self.fetch_timeout,
                    cooldown_duration=self.refresh_cooldown,
                )
                self._client_born = time.monotonic()
            return self._client

    def validate_blocking(self, token: str) -> ChannelToken:
        """The whole check, blocking (key fetches use urllib): run it on a worker thread."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"not a JWT: {exc}") from exc
        if header.get("alg") not in ALGORITHMS:
            raise Unauthorized(f"signing algorithm {header.get('alg')!r} is not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("the token names no key")
        try:
            key = self._keys().get_signing_key(kid)  # an unknown kid refetches the set once, then fails
        except jwt.PyJWKClientError as exc:
            raise Unauthorized(f"unknown signing key: {exc}") from exc
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=list(ALGORITHMS),
                audience=self.app_id,
                issuer=list(self.issuers),
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "aud", "iss"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"{type(exc).__name__}: {exc}") from exc
        raw = getattr(key, "_jwk_data", {})
        endorsements = raw.get("endorsements") if isinstance(raw, Mapping) else None
        channels = frozenset(e for e in endorsements or () if isinstance(e, str))
        return ChannelToken(ClaimsIdentity(claims, "Bearer", security_token=token), channels)

    async def validate(self, header: str | None, *, timeout: float = AUTH_TIMEOUT_SECONDS) -> ChannelToken:
        """Validate the ``Authorization`` header's token off the event loop; Unauthorized on any failure."""
        token = bearer_token(header)
        try:
            return await asyncio.wait_for(asyncio.to_thread(self.validate_blocking, token), timeout)
        except Unauthorized as exc:
            log.info("rejected request: %s", exc.reason)
            raise
        except Exception as exc:  # a key endpoint that fails or hangs: refuse, never 500
            log.info("rejected request: %s", type(exc).__name__)
            raise Unauthorized(f"the token could not be checked ({type(exc).__name__})") from exc


def check_activity(token: ChannelToken, channel_id: str | None, service_url: str | None) -> None:
    """The checks that need the activity: the key is endorsed for its channel, and the token was
    issued for its ``serviceUrl`` (compared whole, not by host: a token for one Teams region's
    service must not post to another path or port on the same host)."""
    if not channel_id or channel_id not in token.endorsements:
        raise Unauthorized(f"the signing key is not endorsed for channel {channel_id!r}")
    claimed = token.identity.get_claim_value("serviceurl")
    if not isinstance(claimed, str) or not service_url or _normal_url(claimed) != _normal_url(service_url):
        raise Unauthorized("the token's serviceurl does not match the activity")


def _normal_url(url: str) -> str:
    return url.strip().rstrip("/").casefold()


def allowed_hosts(hosts: Iterable[str]) -> frozenset[str]:
    """Host names as the service URL check compares them."""
    return frozenset(h.strip().casefold() for h in hosts if h.strip())
