"""Composition of panel booking: Graph or files, the Booker, its jobs and its command-line subcommands.

With Graph credentials (``CPC_GRAPH_*``) availability and events go through Microsoft Graph and mail
through ``sendMail`` from ``CPC_SENDER_MAILBOX`` (queued by idempotency key in ``<outbox>/mail-queue``);
without them, invitations and emails are ``.ics`` and ``.eml`` files under ``CPC_OUTBOX_DIR`` and slot
finding sees only the bot's own bookings (and says so). ``msgraph`` is imported only when Graph is used.

``add_parsers`` registers ``cpc graph check`` and ``cpc panel ...`` on the main parser; ``cpc serve``
adds :class:`PollResponsesJob` and :class:`MailDrainJob` to the scheduler.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from app.settings import Settings
from casework.booking import Booker, DeclinePrompt
from casework.errors import InvalidInput
from casework.packs import Area
from casework.ports import CaseStore
from casework.ports_graph import Calendar, Mailer
from casework.slots import WorkingHours
from graph.client import GraphConfig
from graph.mail_queue import MailOutbox, QueuedOutbox
from graph.outbox import FileMailer, FileOutbox, LocalCalendar
from store.bookings import SqlBookings

log = logging.getLogger("cpc.booking")

DEFAULT_ORGANISER = "complaints-panels@localhost"


@dataclass
class GraphPorts:
    """The adapters in use: ``mode`` is ``graph`` or ``files``."""

    mode: str
    calendar: Calendar
    mailer: Mailer
    mail: MailOutbox
    outbox: FileOutbox  # a drop-in for the bot's, reminders' and digest's FileOutbox
    organiser: str
    client: Any = None


def graph_config(settings: Settings) -> GraphConfig:
    return GraphConfig.from_settings(settings)


def build_ports(settings: Settings, bookings: SqlBookings, credential: Any = None) -> GraphPorts:
    """Graph when credentials are configured (or a test credential is given), files otherwise."""
    cfg = graph_config(settings)
    outdir = Path(settings.outbox_dir)
    if cfg.configured or credential is not None:
        from graph.client import build_client
        from graph.graph_calendar import GraphCalendar
        from graph.graph_mail import GraphMailer

        problems = [p for p in cfg.problems() if "credentials" not in p]
        if problems:
            raise InvalidInput("Microsoft Graph is configured but " + "; ".join(problems))
        client = build_client(cfg, credential=credential)
        mailer: Mailer = GraphMailer(client, cfg.sender)
        queue = MailOutbox(outdir / "mail-queue", mailer)
        return GraphPorts(
            "graph",
            GraphCalendar(client, cfg.organiser),
            mailer,
            queue,
            QueuedOutbox(outdir, queue),
            cfg.organiser,
            client,
        )
    files = FileOutbox(outdir)
    organiser = cfg.organiser or DEFAULT_ORGANISER
    file_mailer = FileMailer(files)
    return GraphPorts(
        "files",
        LocalCalendar(bookings, files, organiser),
        file_mailer,
        MailOutbox(outdir / "mail-queue", file_mailer),
        files,
        organiser,
    )


def build_booker(
    settings: Settings,
    store: CaseStore,
    areas: Mapping[str, Area],
    now: Callable[[], datetime],
    ports: GraphPorts,
    bookings: SqlBookings,
) -> Booker:
    return Booker(
        store=store,
        bookings=bookings,
        calendar=ports.calendar,
        areas=areas,
        now=now,
        hours=WorkingHours.parse(settings.working_hours),
        organiser=ports.organiser,
    )


# -- scheduler jobs --------------------------------------------------------------------------------

CardSender = Callable[[DeclinePrompt, str], Awaitable[bool]]


@dataclass
class PollResponsesJob:
    """Reads invitation answers; each decline (or lost event) prompts the complaints managers.

    ``send_card(prompt, person_id)`` delivers the Teams card (replace the member or rebook) and returns
    False when the person cannot be reached there; the prompt then goes by email. A prompt is
    acknowledged only after delivery, so a crash in between prompts again rather than never.
    """

    booker: Booker
    store: CaseStore
    outbox: FileOutbox
    send_card: CardSender | None = None

    async def run(self) -> list[DeclinePrompt]:
        from graph.templates import decline_email

        prompts = await self.booker.poll_responses()
        for prompt in prompts:
            for pid in prompt.notify:
                delivered = False
                if self.send_card is not None:
                    try:
                        delivered = await self.send_card(prompt, pid)
                    except Exception as exc:  # a Teams failure must not lose the prompt
                        log.warning("decline prompt card for %s failed: %s", prompt.reference, type(exc).__name__)
                if not delivered:
                    person = self.store.get_person(pid)
                    if person is not None:
                        email = decline_email(prompt, (person.email,))
                        keyed = replace(email, key=f"{email.key}-{pid}")
                        await asyncio.to_thread(self.outbox.write_email, keyed)
            self.booker.acknowledge(prompt)
        return prompts

    async def job(self) -> None:
        try:
            prompts = await self.run()
        except Exception as exc:
            log.error("invitation response polling failed: %s", type(exc).__name__)
            return
        if prompts:
            log.info("invitation responses: %d prompt(s) delivered", len(prompts))


@dataclass
class MailDrainJob:
    mail: MailOutbox

    async def job(self) -> None:
        report = await self.mail.drain()
        if report.sent or report.failed or report.throttled_for:
            log.info(
                "mail outbox: %d sent, %d deferred, %d failed%s",
                len(report.sent),
                len(report.deferred),
                len(report.failed),
                f", throttled for {report.throttled_for:g} s" if report.throttled_for else "",
            )


# -- command line ----------------------------------------------------------------------------------
