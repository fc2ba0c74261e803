"""The delivery rate limiter queues in order: each caller gets its slot when it asks, and the slots keep
the rate in every window. Run on a fake clock: no real sleep, no timing assertion."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from scheduler.delivery import RateLimiter


class FakeTime:
    """A clock that moves only when every task is waiting on :meth:`sleep`: then to the earliest wake-up."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps = 0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._seq), future))
        await future

    async def settle(self) -> None:
        for _ in range(10):  # let every runnable task run up to its next sleep
            await asyncio.sleep(0)

    async def advance_to(self, at: float) -> None:
        """Wake every sleeper due by ``at``, in time order, then stand at ``at``."""
        await self.settle()
        while self._sleepers and self._sleepers[0][0] <= at:
            when, _, future = heapq.heappop(self._sleepers)
            self.now = when
            if not future.cancelled():
                future.set_result(None)
            await self.settle()
        self.now = max(self.now, at)

    async def run_out(self) -> None:
        await self.advance_to(float("inf"))


def limiter(fake: FakeTime, rate: float, per: float = 1.0) -> RateLimiter:
    return RateLimiter(rate, per, clock=fake.clock, sleep=fake.sleep)


Grants = list[tuple[int, float]]


def caller(fake: FakeTime, lim: RateLimiter, i: int, grants: Grants) -> Callable[[], Coroutine[Any, Any, None]]:
    async def go() -> None:
        await lim.acquire()
        grants.append((i, fake.now))

    return go


def test_callers_start_in_the_order_they_asked_at_the_rate() -> None:
    async def scenario() -> Grants:
        fake = FakeTime()
        lim = limiter(fake, 3)
        grants: Grants = []
        tasks = [asyncio.create_task(caller(fake, lim, i, grants)()) for i in range(10)]
        await fake.run_out()
        await asyncio.gather(*tasks)
        return grants

    grants = asyncio.run(scenario())
    assert [i for i, _ in grants] == list(range(10))
    assert [t for _, t in grants] == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3]


def test_a_newcomer_waits_behind_everyone_already_waiting() -> None:
    """The retry loop let a caller who arrived as a slot freed take it before the caller asleep for it."""

    async def scenario() -> Grants:
        fake = FakeTime()
        lim = limiter(fake, 1)
        grants: Grants = []
        waiting = [asyncio.create_task(caller(fake, lim, i, grants)()) for i in range(3)]
        await fake.settle()
        fake.now = 1.0  # the first waiter's slot has come, and it has not been woken yet
        late = asyncio.create_task(caller(fake, lim, 99, grants)())
        await fake.run_out()
        await asyncio.gather(*waiting, late)
        return grants

    assert asyncio.run(scenario()) == [(0, 0.0), (1, 1.0), (2, 2.0), (99, 3.0)]


def test_each_waiting_caller_sleeps_once_until_its_own_slot() -> None:
    async def scenario() -> int:
        fake = FakeTime()
        lim = limiter(fake, 2)
        grants: Grants = []
        tasks = [asyncio.create_task(caller(fake, lim, i, grants)()) for i in range(20)]
        await fake.run_out()
        await asyncio.gather(*tasks)
        return fake.sleeps

    assert asyncio.run(scenario()) == 18  # the first two start at once; no one is woken to try again


@pytest.mark.parametrize("rate", [1, 3, 7, 0.5])
def test_no_window_of_per_seconds_holds_more_than_the_rate(rate: float) -> None:
    rng = random.Random(12)
    arrivals = sorted(rng.uniform(0, 10) for _ in range(80))

    async def scenario() -> tuple[list[float], list[int]]:
        fake = FakeTime()
        lim = limiter(fake, rate)
        grants: Grants = []
        tasks: list[asyncio.Task[None]] = []
        for i, at in enumerate(arrivals):
            await fake.advance_to(at)
            tasks.append(asyncio.create_task(caller(fake, lim, i, grants)()))
        await fake.run_out()
        await asyncio.gather(*tasks)
        return [t for _, t in grants], [i for i, _ in grants]

    times, order = asyncio.run(scenario())
    assert order == list(range(len(arrivals)))
    assert all(t >= a for t, a in zip(times, arrivals, strict=True))
    capacity, window = max(1, int(rate)), max(1, int(rate)) / rate
    for k in range(capacity, len(times)):
        assert times[k] >= times[k - capacity] + window - 1e-9
    # and no slower than it must be: the limit is reached, not undershot
    assert times[-1] <= arrivals[-1] + window * (len(times) / capacity)


def test_a_cancelled_waiter_does_not_let_the_next_start_early() -> None:
    async def scenario() -> Grants:
        fake = FakeTime()
        lim = limiter(fake, 1)
        grants: Grants = []
        tasks = [asyncio.create_task(caller(fake, lim, i, grants)()) for i in range(4)]
        await fake.settle()
        tasks[1].cancel()
        await fake.run_out()
        await asyncio.gather(*tasks, return_exceptions=True)
        return grants

    assert asyncio.run(scenario()) == [(0, 0.0), (2, 2.0), (3, 3.0)]


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0)
