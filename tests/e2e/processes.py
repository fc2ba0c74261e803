"""Real ``cpc serve`` processes for e2e tests that race or kill them, on one database.

Built on the helpers of ``test_reminders_multi`` (its :class:`Instance`, ``free_port``, ``wait_until``):
:class:`Serve` takes its settings from the test and can be SIGKILLed and started again on the same port
and database, as an orchestrator restarts a dead container. Also: a fresh database of either backend,
posting activities from many threads, and ``cpc`` commands run against the same database.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from tests.e2e.test_reminders_multi import ROOT, Instance, free_port, wait_until
from tests.integration.conftest import _unavailable, postgres_url

__all__ = ["Response", "Serve", "cpc", "database", "post", "wait_until"]

# Fast enough for a test: a sweep every second, leases of two seconds (a killed process's rows go
# again two seconds after it died), no rate limit worth the name.
FAST: Mapping[str, str] = {
    "CPC_SWEEP_INTERVAL_SECONDS": "1",
    "CPC_REMINDER_LEASE_SECONDS": "2",
    "CPC_REMINDER_BATCH": "20",
    "CPC_REMINDER_RATE_GLOBAL": "500",
    "CPC_REMINDER_RATE_PER_CONVERSATION": "500",
}


def environment(url: str, tmp: Path, settings: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a ``cpc`` process on ``url``: none of the caller's own CPC_ settings but the
    audit key, which every process on one log must share (the test's own, from tests/conftest.py)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CPC_")}
    env.update(
        {
            "CPC_AUDIT_KEY": os.environ["CPC_AUDIT_KEY"],
            "CPC_AUDIT_CHECKPOINT_FILE": str(tmp / "checkpoints.jsonl"),
            "CPC_DATABASE_URL": url,
            "CPC_OUTBOX_DIR": str(tmp / "outbox"),
            "PYTHONPATH": str(ROOT),
            **FAST,
            **(settings or {}),
        }
    )
    return env


class Serve(Instance):
    """``cpc serve`` on loopback, with ``settings`` (CPC_ variables) over :data:`FAST`.

    :meth:`kill` sends SIGKILL (no cleanup runs, as when a container is killed); :meth:`start` starts
    it again on the same port and database. ``pids`` lists every process it ran, so a test can find
    the leases a dead one left (lease owners are ``host:pid:random``).
    """

    def __init__(self, url: str, tmp: Path, name: str, settings: Mapping[str, str] | None = None) -> None:
        self.url = url
        self.tmp = tmp
        self.name = name
        self.env = environment(url, tmp, settings)
        self.port = free_port()
        self.pids: list[int] = []
        self.log = tmp / f"serve-{name}-0.log"
        self.start()

    def start(self) -> None:
        self.log = self.tmp / f"serve-{self.name}-{len(self.pids) + 1}.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port)],
                cwd=self.tmp,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.pids.append(self.proc.pid)

    def kill(self) -> int:
        """SIGKILL; returns the dead process's id."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        return self.proc.pid

    def restart(self) -> None:
        if self.proc.poll() is None:
            self.kill()
        self.start()
        self.wait_healthy()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass(frozen=True)
class Response:
    status: int
    body: Any


def post(port: int, activity: Mapping[str, Any], timeout: float = 60) -> Response:
    """POST an activity to ``/api/messages``; an HTTP error status is a Response, a dead server raises OSError."""
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/messages",
        data=json.dumps(activity).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = raw.decode(errors="replace")
    return Response(status, body)


def cpc(url: str, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a ``cpc`` command (``cpc audit verify``) against the database the servers use."""
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=tmp,
        env=environment(url, tmp),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@contextmanager
def database(backend: str, tmp: Path) -> Iterator[str]:
    """An empty database: a SQLite file under ``tmp``, or a fresh schema on the PostgreSQL test server
    (dropped afterwards; unreachable, it skips, or fails when ``CI=true``)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'cpc.sqlite3'}"
        return
    admin = create_engine(postgres_url(), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        admin.dispose()
        _unavailable(str(exc.orig).strip() or type(exc.orig).__name__)
    schema = f"cpc_e2e_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_url()).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
