"""The real bot server (``app.serve.build``) on loopback in a background thread, for e2e tests."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Self

from aiohttp import web

from app.serve import SWEEP_KEY, build
from app.settings import Settings
from casework.clock import parse_time
from scheduler.sweep import Sweep, SweepReport
from store.sql import SqlStore


class Clock:
    """A settable clock shared by the test and the server."""

    def __init__(self, at: str) -> None:
        self.at = parse_time(at)

    def __call__(self) -> datetime:
        return self.at

    def set(self, at: str) -> None:
        self.at = parse_time(at)


@dataclass
class Response:
    status: int
    body: Any


@dataclass
class BotServer:
    tmp: Path
    clock: Clock
    app_id: str = ""
    token_source: Any = None
    graph_credential: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
    store: SqlStore | None = None
    sweep: Sweep | None = None
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _runner: web.AppRunner | None = None
    app: web.Application | None = None

    @property
    def settings(self) -> Settings:
        return Settings(
            database_url=f"sqlite:///{self.tmp / 'cpc.sqlite3'}",
            outbox_dir=str(self.tmp / "outbox"),
            app_id=self.app_id,
            app_password="secret" if self.app_id else "",
            app_type="MultiTenant",
            host="127.0.0.1",
            **{**self._auth_extra(), **self.extra},
        )

    def _auth_extra(self) -> dict[str, Any]:
        """With an app id: the fake channel's tenant and loopback host are the allowed ones."""
        return {"allowed_tenants": "tenant-1", "teams_service_hosts": "127.0.0.1"} if self.app_id else {}

    def start(self) -> Self:
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)

            async def boot() -> None:
                app, store = build(self.settings, self.clock, self.token_source, self.graph_credential)
                self.app = app
                self.store = store
                self.sweep = app[SWEEP_KEY]
                runner = web.AppRunner(app)
                await runner.setup()
                site = web.TCPSite(runner, "127.0.0.1", 0)
                await site.start()
                self._runner = runner
                self.port = int(runner.addresses[0][1])

            try:
                loop.run_until_complete(boot())
            except BaseException as exc:
                errors.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            assert self._runner is not None
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(30)
        if errors:
            raise errors[0]
        # The scheduler sweeps once at start: let that finish, so that it cannot take rows a test
        # plans next and means to sweep itself.
        deadline = time.monotonic() + 30
        while self.sweep is not None and self.sweep.completed == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        if self.store is not None:
            self.store.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def run_sweep(self, timeout: float = 60) -> SweepReport:
        """Run one reminder sweep on the server's own loop (as its scheduler does) and wait for it."""
        assert self._loop is not None and self.sweep is not None
        return asyncio.run_coroutine_threadsafe(self.sweep.run(), self._loop).result(timeout)

    def run(self, coro: Any) -> Any:
        """Run a coroutine on the server's own event loop (where its adapters and clients live)."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(60)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def post(self, activity: Any, headers: dict[str, str] | None = None, raw: bytes | None = None) -> Response:
        data = raw if raw is not None else json.dumps(activity).encode()
        req = urllib.request.Request(
            f"{self.url}/api/messages",
            data=data,
            headers={"Content-Type": "application/json", **(headers or {})},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                body = resp.read()
                status = resp.status
        except urllib.error.HTTPError as exc:
            body = exc.read()
            status = exc.code
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = body.decode(errors="replace")
        return Response(status, parsed)

    def get(self, path: str) -> Response:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=10) as resp:
            return Response(resp.status, json.loads(resp.read()))
