"""``cpc serve``: the composition root for the running bot (SQLite and the file outbox by default)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Any

from aiohttp import web

from app.audit import CheckpointJob
from app.booking import MailDrainJob, PollResponsesJob, build_booker, build_ports
from app.drawings import BotDrawings, BotSender
from app.listen import CannotListen, bound_port, listen
from app.procedures import load_catalogue
from app.settings import Settings
from bot.app import BOT_KEY, create_app, is_loopback
from casework.service import Casework
from scheduler.delivery import ReminderDelivery
from scheduler.digest import DigestJob
from scheduler.runner import CronJob, IntervalJob, Scheduler
from scheduler.sweep import Sweep
from store.audit_keys import key_configured
from store.bookings import SqlBookings
from store.engine import Readiness
from store.sql import SqlStore, open_store

log = logging.getLogger("cpc.serve")
SWEEP_KEY: web.AppKey[Sweep] = web.AppKey("sweep", Sweep)


class RefusedToStart(Exception):
    """A configuration that must not run (unauthenticated on a public address)."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def build(
    settings: Settings,
    now: Callable[[], datetime] = utc_now,
    token_source: Any = None,
    graph_credential: Any = None,
) -> tuple[web.Application, SqlStore]:
    if not settings.app_id and not is_loopback(settings.host):
        raise RefusedToStart(
            f"refusing to start without authentication on {settings.host}: set CPC_APP_ID and CPC_APP_PASSWORD, "
            "or bind to 127.0.0.1"
        )
    if settings.app_id and not settings.tenants():
        raise RefusedToStart(
            "refusing to start with a bot app id but no tenant: set CPC_APP_TENANT_ID (the home tenant) "
            "or CPC_ALLOWED_TENANTS, so that activities from other tenants are refused"
        )
    if settings.app_id and not key_configured():
        raise RefusedToStart(
            "refusing to start with a bot app id but no audit key: set CPC_AUDIT_KEY (or CPC_AUDIT_KEY_FILE) "
            "in the environment; the development key under var/ is for loopback only"
        )
    catalogue = load_catalogue(settings.extra_pack_dirs(), settings.meetings, settings.reference_pattern)
    if catalogue.errors:
        raise RefusedToStart(f"{catalogue.errors[0]} (run 'cpc procedures check')")
    digest_at = parse_clock_time(settings.digest_time)
    store = open_store(settings.database_url, **settings.engine_options())
    casework = Casework(store, catalogue.areas, now)
    # Microsoft Graph when credentials are configured, the file outbox and a local calendar otherwise.
    bookings = SqlBookings(store.engine)
    ports = build_ports(settings, bookings, graph_credential)
    outbox = ports.outbox
    scheduler = Scheduler()
    readiness = Readiness(store.engine, settings.db_ready_timeout)
    app = create_app(settings, casework, outbox, now, token_source, scheduler, readiness)
    bot = app[BOT_KEY]
    bot.booker = build_booker(settings, store, catalogue.areas, now, ports, bookings)
    scheduler.add(
        IntervalJob(
            "invitation-responses",
            PollResponsesJob(bot.booker, store, outbox, bot.send_decline_card).job,
            settings.response_poll_seconds,
        )
    )
    scheduler.add(IntervalJob("mail-outbox", MailDrainJob(ports.mail).job, 60))
    # The reminder sweep sends through the bot's own adapter (its credentials, its edge).
    adapter = bot.delivery.adapter
    delivery = ReminderDelivery(
        BotSender(adapter, settings.app_id),
        outbox,
        per_conversation=settings.reminder_rate_per_conversation,
        global_rate=settings.reminder_rate_global,
        retries=settings.reminder_retries,
        failure_threshold=settings.reminder_failure_threshold,
        admin_email=settings.admin_email,
    )
    sweep = Sweep(
        store,
        catalogue.areas,
        delivery,
        now,
        BotDrawings(casework),
        batch=settings.reminder_batch,
        lease_seconds=settings.reminder_lease_seconds,
    )
    app[SWEEP_KEY] = sweep
    bot.delivery.teams = delivery.send  # decline cards share the reminders' rate limits and retries
    bot.kick = sweep.kick  # notices committed by a turn go out at once, not at the next minute

    async def drain_notices(_app: web.Application) -> None:
        await sweep.drain()

    # Before the cleanup contexts close the executor and the adapter the delivery uses.
    app.on_shutdown.append(drain_notices)
    scheduler.add(IntervalJob("reminder-sweep", sweep.job, settings.sweep_interval_seconds, run_at_start=True))
    digest = DigestJob(store, catalogue.areas, outbox, now, digest_at)
    scheduler.add(CronJob("complaints-digest", digest.job, digest_at.hour, digest_at.minute))

    async def replan_open_cases() -> None:
        try:
            count = await asyncio.to_thread(casework.replan_open_cases)
        except Exception as exc:  # a failed replan is retried tomorrow; the sweep goes on meanwhile
            log.error("replanning open cases failed: %s", type(exc).__name__)
            return
        log.info("replanned reminders of %d cases", count)

    # Before the 09:00 reminders, every working morning.
    scheduler.add(CronJob("replan-open-cases", replan_open_cases, 6, 30))
    # The audit head, outside the database, so that a rewritten or emptied log shows (issue 13).
    checkpoints = CheckpointJob(store, outbox)
    scheduler.add(IntervalJob("audit-checkpoint", checkpoints.job, settings.audit_checkpoint_minutes * 60))
    return app, store


def parse_clock_time(text: str) -> time:
    """HH:MM (Europe/London) for CPC_DIGEST_TIME; RefusedToStart names the setting when it is not one."""
    try:
        if len(text.strip()) != 5:
            raise ValueError
        return time.fromisoformat(text.strip())
    except ValueError:
        raise RefusedToStart(f"CPC_DIGEST_TIME {text!r}: expected a time HH:MM such as 08:00") from None


def serve(settings: Settings) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # The Agents SDK logs each send at INFO with conversation ids, and a turn nobody routed with its
    # text: our own log lines say what happened, without content.
    logging.getLogger("microsoft_agents").setLevel(logging.ERROR)
    try:
        sockets = listen(settings.host, settings.port)
    except CannotListen as exc:
        raise RefusedToStart(str(exc)) from None
    try:
        app, _store = build(settings)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    settings.port = bound_port(sockets)
    mode = (
        "authenticated (Bot Connector tokens are validated)"
        if settings.app_id
        else "UNAUTHENTICATED: no CPC_APP_ID is set, so only loopback traffic is accepted (Agents Playground)"
    )
    print(f"cpc serve: http://{settings.host}:{settings.port}/api/messages, {mode}", flush=True)
    web.run_app(app, sock=sockets, print=None)
    return 0
