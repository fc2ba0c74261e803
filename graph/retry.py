"""Our own retries for Graph calls; the SDK's retry handler is switched off on every request.

Why not the SDK's: it retries POST too (a retried ``sendMail`` after a 503 can send twice) and waits
at least three seconds per retry (SDK-FACTS: Retries). Here every call carries
``RetryHandlerOption(max_retries=0)`` and the caller decides: reads, PATCHes and creates that carry a
``transactionId`` are retried by :class:`RetryPolicy`; ``sendMail`` is never retried in the call but
through the mail outbox, by idempotency key. A 429's ``Retry-After`` is honoured in both.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

log = logging.getLogger("cpc.graph")

T = TypeVar("T")

#: Statuses worth another try: throttled, unavailable, gateway timeout.
TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})


def no_sdk_retry(headers: Mapping[str, str] | None = None) -> Any:
    """A ``RequestConfiguration`` with the SDK's retry handler off and the given headers."""
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from kiota_http.middleware.options import RetryHandlerOption

    config: Any = RequestConfiguration(options=[RetryHandlerOption(max_retries=0)])
    for name, value in (headers or {}).items():
        config.headers.add(name, value)
    return config


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if value is None or not value.strip():
        return None
    v = value.strip()
    try:
        return max(0.0, float(v))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(v)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def status_of(exc: BaseException) -> int | None:
    code = getattr(exc, "response_status_code", None)
    return code if isinstance(code, int) else None


def error_code(exc: BaseException) -> str | None:
    """Graph's ``error.code`` (``ErrorDuplicateTransactionId``, ``ErrorAccessDenied``...), if any."""
    err = getattr(exc, "error", None)
    code = getattr(err, "code", None)
    return code if isinstance(code, str) else None


def retry_after_of(exc: BaseException) -> float | None:
    headers = getattr(exc, "response_headers", None) or {}
    for k, v in dict(headers).items():
        if str(k).lower() == "retry-after":
            return parse_retry_after(str(v[0] if isinstance(v, (list, tuple)) else v))
    return None


def is_transport_failure(exc: BaseException) -> bool:
    """A timeout or a connection failure: whether the server acted on the request is unknown."""
    import httpx

    return isinstance(exc, (httpx.TimeoutException, httpx.TransportError, asyncio.TimeoutError))


def is_transient(exc: BaseException) -> bool:
    return status_of(exc) in TRANSIENT_STATUSES or is_transport_failure(exc)


def describe(exc: BaseException) -> str:
    """A log-safe description: status and Graph error code only (no bodies, which may hold addresses)."""
    status = status_of(exc)
    if status is not None:
        code = error_code(exc)
        return f"HTTP {status}" + (f" {code}" if code else "")
    return type(exc).__name__


async def _sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


@dataclass
class RetryPolicy:
    """Retries transient failures with exponential backoff; a 429's Retry-After wins over the backoff."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 300.0
    sleep: Callable[[float], Awaitable[None]] = field(default=_sleep)

    def delay(self, attempt: int, exc: BaseException) -> float:
        after = retry_after_of(exc)
        if after is not None:
            return min(after, self.max_retry_after)
        return min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))

    async def run(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        attempt = 1
        while True:
            try:
                return await call()
            except Exception as exc:
                if attempt >= self.attempts or not is_transient(exc):
                    raise
                wait = self.delay(attempt, exc)
                log.warning("graph %s failed (%s); retry %d in %.2f s", what, describe(exc), attempt, wait)
                await self.sleep(wait)
                attempt += 1
