"""Delivering one reminder: Teams first, within Teams' limits, then email; never dropped.

- Rate limits: at most ``per_conversation`` sends per second into one conversation and
  ``global_rate`` in all (Teams: 7 per second per conversation, about 50 per second per tenant;
  SDK-FACTS: Teams rate limits). The limits hold per instance.
- Retries: 429, 412, 502, 504 and network errors are retried with exponential backoff and full
  jitter, never sooner than the channel's ``Retry-After`` (SDK-FACTS: "retry ... with exponential
  backoff and jitter"). A wait longer than ``max_wait`` is not slept through: the row goes back to
  the store with that time, releasing its lease.
- Fallback: a 403 (the person blocked or uninstalled the bot) or no conversation reference sends the
  reminder by email at once; after ``failure_threshold`` failed attempts in all (across sweeps and
  instances: the count lives in the row) it goes by email and the admin is told.

Emails go through the email outbox (``casework.ports.EmailOutbox``: files or Graph mail), keyed by
the reminder's idempotency key, so a retry after a crash writes the same message once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from casework.ports import EmailOutbox, ProactiveSender, SendFailed

log = logging.getLogger("cpc.reminders")

Sleep = Callable[[float], Awaitable[None]]


class RateLimiter:
    """At most ``capacity`` starts in any window of ``per`` seconds, granted in arrival order.

    Why a queue and not a retry loop: the old limiter woke every waiter when a slot freed and let
    them race for it, so a caller could wait behind newcomers for ever (no order) and every wake-up
    cost each waiter a turn of the loop. Here each caller reserves its slot the moment it asks,
    without awaiting first: the slot is the earliest time that keeps the window's limit given the
    slots already handed out, so callers start in the order they asked (FIFO), and each sleeps
    once, exactly until its own slot. A caller cancelled while it waits leaves its slot unused,
    which can only lower the rate, never raise it.
    """

    def __init__(
        self,
        rate: float,
        per: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        # A fractional rate (0.5 per second) becomes 1 per 2 seconds.
        self.capacity = max(1, int(rate))
        self.per = per * self.capacity / rate
        self._clock = clock
        self._sleep = sleep
        # The last ``capacity`` slots handed out, oldest first: the next slot is at least a window
        # after the oldest of them.
        self._slots: deque[float] = deque(maxlen=self.capacity)
        self.last_used = clock()

    def reserve(self) -> float:
        """The start time of the next slot, taken now (the caller must wait until then)."""
        now = self._clock()
        slot = now
        if len(self._slots) == self.capacity:
            slot = max(now, self._slots[0] + self.per)
        if self._slots:
            slot = max(slot, self._slots[-1])  # never before a slot already handed out: FIFO
        self._slots.append(slot)
        self.last_used = slot
        return slot

    async def acquire(self) -> None:
        wait = self.reserve() - self._clock()
        if wait > 0:
            await self._sleep(wait)


def conversation_id(reference_json: str) -> str:
    """The conversation a stored reference points at (the key of the per-conversation limit)."""
    try:
        data = json.loads(reference_json)
        conv = data.get("conversation") or {}
        return str(conv.get("id") or "")
    except (ValueError, AttributeError):
        return ""


@dataclass(frozen=True)
class TeamsResult:
    """How a Teams send went: ``activity_id`` when delivered; else the failures it cost, whether the
    person blocked the bot, the last error (a status, nothing personal) and the channel's wait."""

    activity_id: str | None
    failures: int = 0
    blocked: bool = False
    error: str = ""
    retry_after: float | None = None


@dataclass
class ReminderDelivery:
    sender: ProactiveSender
    outbox: EmailOutbox
    per_conversation: float = 7.0
    global_rate: float = 30.0
    retries: int = 3
    failure_threshold: int = 5
    admin_email: str = ""
    base_delay: float = 0.5
    max_wait: float = 30.0
    sleep: Sleep = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)
    _global: RateLimiter | None = field(default=None, repr=False)
    _conversations: dict[str, RateLimiter] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._global = RateLimiter(self.global_rate, sleep=self.sleep)

    def _limiter(self, conversation: str) -> RateLimiter:
        limiter = self._conversations.get(conversation)
        if limiter is None:
            if len(self._conversations) > 10_000:  # forget conversations idle for a minute
                cutoff = time.monotonic() - 60
                for k in [k for k, v in self._conversations.items() if v.last_used < cutoff]:
                    del self._conversations[k]
            limiter = self._conversations[conversation] = RateLimiter(self.per_conversation, sleep=self.sleep)
        return limiter

    async def _slot(self, reference_json: str) -> None:
        assert self._global is not None
        await self._limiter(conversation_id(reference_json)).acquire()
        await self._global.acquire()

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with full jitter, never below the channel's Retry-After."""
        ceiling = self.base_delay * (2**attempt)
        return max(retry_after or 0.0, self.rng.uniform(0, ceiling))

    async def _attempts(self, reference_json: str, call: Callable[[], Awaitable[str | None]]) -> TeamsResult:
        failures = 0
        last: SendFailed | None = None
        for attempt in range(self.retries):
            await self._slot(reference_json)
            try:
                result = await call()
                return TeamsResult(result or "", failures)
            except SendFailed as exc:
                failures += 1
                last = exc
                error = f"HTTP {exc.status}" if exc.status is not None else "no response"
                if exc.blocked:
                    return TeamsResult(None, failures, True, error)
                if not exc.retryable or attempt == self.retries - 1:
                    return TeamsResult(None, failures, False, error, exc.retry_after)
                wait = self.backoff(attempt, exc.retry_after)
                if wait > self.max_wait:
                    return TeamsResult(None, failures, False, error, wait)
                await self.sleep(wait)
            except ValueError:  # a corrupt stored reference: no point retrying it
                return TeamsResult(None, failures + 1, True, "bad conversation reference")
        assert last is not None
        return TeamsResult(None, failures, False, str(last.status))

    async def send(self, reference_json: str, card: dict[str, Any]) -> TeamsResult:
        async def call() -> str | None:
            return await self.sender.send(reference_json, card)

        return await self._attempts(reference_json, call)

    async def update(self, reference_json: str, activity_id: str, card: dict[str, Any]) -> TeamsResult:
        async def call() -> str | None:
            await self.sender.update(reference_json, activity_id, card)
            return activity_id

        return await self._attempts(reference_json, call)

    async def email(self, to: str, subject: str, text: str, key: str, html_body: str | None = None) -> None:
        await asyncio.to_thread(self.outbox.send_email, to, subject, text, html_body, key)

    async def alert_admin(self, subject: str, text: str, key: str) -> None:
        """Tell the admin (ids, kinds and statuses only: nothing personal)."""
        log.warning("%s: %s", subject, text)
        if self.admin_email:
            await self.email(self.admin_email, subject, text, f"alert-{key}")
