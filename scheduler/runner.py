"""The scheduler's life is the web app's: started on startup, shut down on cleanup.

Jobs keep no state of their own (ARCHITECTURE: Flows 4): the work lives in our own rows, so the
job store is in memory and a restart loses nothing. Misfires are not dropped: APScheduler's default
grace time of one second would silently skip a job that was due while the process was busy or down
(SDK-FACTS: APScheduler), so jobs get a generous grace time and coalesce.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

Job = Callable[[], Awaitable[None]]
JOB_DEFAULTS = {"coalesce": True, "misfire_grace_time": 3600, "max_instances": 1}


@dataclass
class IntervalJob:
    name: str
    func: Job
    seconds: float


@dataclass
class Scheduler:
    jobs: list[IntervalJob] = field(default_factory=list)
    scheduler: AsyncIOScheduler | None = None

    def start(self) -> None:
        self.scheduler = AsyncIOScheduler(job_defaults=JOB_DEFAULTS, timezone="Europe/London")
        for job in self.jobs:
            self.scheduler.add_job(job.func, "interval", seconds=job.seconds, id=job.name, name=job.name)
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        self.scheduler = None

    async def lifecycle(self, _app: web.Application) -> AsyncIterator[None]:
        """aiohttp cleanup context: start with the app, stop with it."""
        self.start()
        yield
        self.stop()
