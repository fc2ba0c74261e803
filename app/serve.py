"""``cpc serve``: the composition root for the running bot (SQLite and the file outbox by default)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from app.procedures import load_catalogue
from app.settings import Settings
from bot.app import create_app, is_loopback
from casework.service import Casework
from graph.outbox import FileOutbox
from scheduler.runner import Scheduler
from store.sql import SqlStore, open_store


class RefusedToStart(Exception):
    """A configuration that must not run (unauthenticated on a public address)."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def build(
    settings: Settings, now: Callable[[], datetime] = utc_now, credentials_factory: Any = None
) -> tuple[web.Application, SqlStore]:
    if not settings.app_id and not is_loopback(settings.host):
        raise RefusedToStart(
            f"refusing to start without authentication on {settings.host}: set CPC_APP_ID and CPC_APP_PASSWORD, "
            "or bind to 127.0.0.1"
        )
    catalogue = load_catalogue(settings.extra_pack_dirs(), settings.meetings)
    if catalogue.errors:
        raise RefusedToStart(f"{catalogue.errors[0]} (run 'cpc procedures check')")
    store = open_store(settings.database_url)
    casework = Casework(store, catalogue.areas, now)
    app = create_app(settings, casework, FileOutbox(settings.outbox_dir), now, credentials_factory, Scheduler())
    return app, store


def serve(settings: Settings) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app, _store = build(settings)
    mode = (
        "authenticated (Bot Framework tokens are validated)"
        if settings.app_id
        else "UNAUTHENTICATED: no CPC_APP_ID is set, so only loopback traffic is accepted (Agents Playground)"
    )
    print(f"cpc serve: http://{settings.host}:{settings.port}/api/messages, {mode}", flush=True)
    web.run_app(app, host=settings.host, port=settings.port, print=None)
    return 0
