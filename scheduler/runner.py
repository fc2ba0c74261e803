"""The scheduler's life is the web app's: started on startup, shut down on cleanup.

Jobs keep no state of their own (ARCHITECTURE: Flows 4): the work lives in our own rows, so the
job store is in memory and a restart loses nothing. Misfires are not dropped: APScheduler's default
grace time of one second would silently skip a job that was due while the process was busy or down
(SDK-FACTS: APScheduler), so jobs get a generous grace time and coalesce. The reminder sweep also
runs once at start, so reminders that fell due while no instance was running go out at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

Job = Callable[[], Awaitable[None]]
JOB_DEFAULTS = {"coalesce": True, "misfire_grace_time": 3600, "max_instances": 1}
TIMEZONE = "Europe/London"


@dataclass
class IntervalJob:
    name: str
    func: Job
    seconds: float
    run_at_start: bool = False


@dataclass
class CronJob:
    """A job at a wall-clock time in Europe/London, e.g. the working-day digest (mon-fri 08:00; the
    job itself skips bank holidays, which are per area)."""

    name: str
    func: Job
    hour: int
    minute: int
    day_of_week: str = "mon-fri"


@dataclass
class Scheduler:
    jobs: list[IntervalJob | CronJob] = field(default_factory=list)
    scheduler: AsyncIOScheduler | None = None

    def add(self, job: IntervalJob | CronJob) -> None:
        self.jobs.append(job)

    @property
    def running(self) -> bool:
        """True while the jobs are scheduled (``/readyz`` reports it)."""
        return self.scheduler is not None and bool(self.scheduler.running)

    def start(self) -> None:
        self.scheduler = AsyncIOScheduler(job_defaults=JOB_DEFAULTS, timezone=TIMEZONE)
        for job in self.jobs:
            if isinstance(job, IntervalJob):
                trigger = IntervalTrigger(seconds=job.seconds, timezone=TIMEZONE)
                first = datetime.now(UTC) if job.run_at_start else None
                extra = {"next_run_time": first} if first is not None else {}
                self.scheduler.add_job(job.func, trigger, id=job.name, name=job.name, **extra)
            else:
                trigger = CronTrigger(day_of_week=job.day_of_week, hour=job.hour, minute=job.minute, timezone=TIMEZONE)
                self.scheduler.add_job(job.func, trigger, id=job.name, name=job.name)
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
