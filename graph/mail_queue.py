"""The mail outbox: a durable queue of outgoing emails, each sent once by its idempotency key.

Digests and notifications are :meth:`MailOutbox.enqueue`\\ d, then :meth:`MailOutbox.drain` hands them
to the mail port (Graph ``sendMail``, or ``.eml`` files) one attempt at a time:

* the same key enqueued twice is stored once, and a key once sent is never sent again;
* 429: nothing was sent; the message waits for the ``Retry-After`` and the whole mailbox pauses;
* 503/504, a timeout, a dropped connection: tried again later with exponential backoff, up to
  ``max_attempts``, then kept under ``failed/`` (never dropped) for :meth:`retry_failed`;
* a permanent refusal goes straight to ``failed/`` with its reason.

State is files under one directory, written atomically: ``keys/`` holds each message (created with
``os.link``, which fails if the key exists), ``pending/`` its attempts and next time, ``sending/`` a
claim (taken by ``rename``, so two workers never send the same message), ``sent/`` and ``failed/``
the outcomes. A claim left by a crashed worker is given back after ``stale_after`` seconds, so a
message is lost never; it may, in that one case, be sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from casework.ports_graph import Mailer, MailRejected, MailThrottled, MailTransient, OutgoingEmail
from graph.outbox import FileOutbox

log = logging.getLogger("cpc.mail")

_SAFE = re.compile(r"[^A-Za-z0-9._-]")
STATES = ("pending", "sending", "sent", "failed")


def _name(key: str) -> str:
    return _SAFE.sub("_", key)[:150] + ".json"


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def _sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


@dataclass
class DrainReport:
    sent: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    throttled_for: float | None = None


class MailOutbox:
    def __init__(
        self,
        directory: str | Path,
        mailer: Mailer,
        *,
        now: Callable[[], datetime] = _utcnow,
        sleep: Callable[[float], Awaitable[None]] = _sleep,
        max_attempts: int = 8,
        base_delay: float = 30.0,
        max_delay: float = 3600.0,
        stale_after: float = 900.0,
    ) -> None:
        self.root = Path(directory)
        self.mailer = mailer
        self.now = now
        self.sleep = sleep
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.stale_after = stale_after
        self._paused_until: float = 0.0
        for d in ("keys", *STATES):
            (self.root / d).mkdir(parents=True, exist_ok=True)

    # -- files ----------------------------------------------------------------------------------

    def _path(self, state: str, name: str) -> Path:
        return self.root / state / name

    def _write(self, state: str, name: str, data: dict[str, Any]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.root, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, self._path(state, name))

    def _read(self, path: Path) -> dict[str, Any] | None:
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (FileNotFoundError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _email(self, name: str) -> OutgoingEmail | None:
        data = self._read(self._path("keys", name))
        if data is None:
            return None
        return OutgoingEmail(tuple(data["to"]), data["subject"], data["text"], data.get("html"), data["key"])

    # -- public ---------------------------------------------------------------------------------

    def enqueue(self, email: OutgoingEmail) -> bool:
        """Queue one message; False (and nothing changes) when its key was queued before."""
        name = _name(email.key)
        fd, tmp = tempfile.mkstemp(dir=self.root, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({**asdict(email), "to": list(email.to)}, fh)
            try:
                os.link(tmp, self._path("keys", name))
            except FileExistsError:
                return False
        finally:
            os.unlink(tmp)
        self._write("pending", name, {"attempts": 0, "not_before": 0.0, "last_error": None})
        return True

    def state_of(self, key: str) -> str | None:
        name = _name(key)
        for state in STATES:
            if self._path(state, name).exists():
                return state
        return "pending" if self._path("keys", name).exists() else None

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for p in (self.root / s).iterdir() if p.suffix == ".json") for s in STATES}

    def retry_failed(self) -> int:
        """Give every failed message another round of attempts (after the cause was fixed)."""
        n = 0
        for p in sorted((self.root / "failed").glob("*.json")):
            self._write("pending", p.name, {"attempts": 0, "not_before": 0.0, "last_error": None})
            p.unlink(missing_ok=True)
            n += 1
        return n

    def _recover(self) -> None:
        """Messages whose state file was never written (a crash in enqueue), and stale claims."""
        now = self.now().timestamp()
        known = {p.name for s in STATES for p in (self.root / s).glob("*.json")}
        for p in (self.root / "keys").glob("*.json"):
            if p.name not in known:
                self._write("pending", p.name, {"attempts": 0, "not_before": 0.0, "last_error": None})
        for p in (self.root / "sending").glob("*.json"):
            try:
                age = now - p.stat().st_mtime
            except FileNotFoundError:
                continue
            if age > self.stale_after:
                log.warning("mail %s: claim abandoned %.0f s ago, queued again", p.stem, age)
                with contextlib.suppress(FileNotFoundError):
                    os.rename(p, self._path("pending", p.name))

    def _due(self) -> tuple[list[Path], float | None]:
        now = self.now().timestamp()
        if now < self._paused_until:
            return [], self._paused_until
        due: list[tuple[float, Path]] = []
        nxt: float | None = None
        for p in (self.root / "pending").glob("*.json"):
            data = self._read(p)
            if data is None:
                continue
            at = float(data.get("not_before") or 0.0)
            if at <= now:
                due.append((p.stat().st_mtime if p.exists() else 0.0, p))
            elif nxt is None or at < nxt:
                nxt = at
        return [p for _, p in sorted(due)], nxt

    async def drain(self, *, wait_up_to: float = 0.0, limit: int | None = None) -> DrainReport:
        """Send what is due. With ``wait_up_to`` seconds, wait (Retry-After, backoff) for what becomes
        due within that time and send it too."""
        report = DrainReport()
        self._recover()
        budget = wait_up_to
        while True:
            due, nxt = self._due()
            if not due:
                if nxt is None:
                    return report
                delay = max(0.0, nxt - self.now().timestamp())
                if delay > budget:
                    return report
                await self.sleep(delay)
                budget -= delay
                continue
            for p in due:
                if limit is not None and len(report.sent) + len(report.failed) >= limit:
                    return report
                outcome = await self._attempt(p, report)
                if outcome == "throttled":
                    break

    async def _attempt(self, pending: Path, report: DrainReport) -> str:
        name = pending.name
        state = self._read(pending) or {"attempts": 0}
        claim = self._path("sending", name)
        try:
            os.rename(pending, claim)
        except FileNotFoundError:
            return "taken"  # another worker claimed it
        stamp = self.now().timestamp()
        os.utime(claim, (stamp, stamp))  # when it was claimed, on the outbox's clock
        email = self._email(name)
        if email is None:
            claim.unlink(missing_ok=True)
            return "missing"
        if self._path("sent", name).exists():
            claim.unlink(missing_ok=True)
            return "sent"
        attempts = int(state.get("attempts", 0)) + 1
        now = self.now().timestamp()
        try:
            where = await self.mailer.send(email)
        except MailThrottled as exc:
            self._paused_until = now + exc.retry_after
            self._write(
                "pending", name, {"attempts": attempts - 1, "not_before": now + exc.retry_after, "last_error": "429"}
            )
            claim.unlink(missing_ok=True)
            report.deferred.append(email.key)
            report.throttled_for = exc.retry_after
            log.warning("mail %s throttled; waiting %.1f s (Retry-After)", email.key, exc.retry_after)
            return "throttled"
        except MailRejected as exc:
            self._write("failed", name, {"attempts": attempts, "last_error": str(exc)})
            claim.unlink(missing_ok=True)
            report.failed.append(email.key)
            log.error("mail %s refused: %s", email.key, exc)
            return "failed"
        except (MailTransient, Exception) as exc:
            err = str(exc) if isinstance(exc, MailTransient) else type(exc).__name__
            if not isinstance(exc, MailTransient):
                log.error("mail %s: unexpected %s from the mail port; treated as transient", email.key, err)
            if attempts >= self.max_attempts:
                self._write("failed", name, {"attempts": attempts, "last_error": err})
                claim.unlink(missing_ok=True)
                report.failed.append(email.key)
                log.error("mail %s failed after %d attempts: %s", email.key, attempts, err)
                return "failed"
            delay = min(self.max_delay, self.base_delay * 2 ** (attempts - 1))
            self._write("pending", name, {"attempts": attempts, "not_before": now + delay, "last_error": err})
            claim.unlink(missing_ok=True)
            report.deferred.append(email.key)
            log.warning("mail %s: %s; attempt %d, next in %.1f s", email.key, err, attempts, delay)
            return "deferred"
        self._write("sent", name, {"attempts": attempts, "at": now, "where": where.split(":", 1)[0]})
        claim.unlink(missing_ok=True)
        report.sent.append(email.key)
        return "ok"


class QueuedOutbox(FileOutbox):
    """A drop-in for :class:`graph.outbox.FileOutbox` whose emails go to the Graph mail outbox.

    ``send_email`` (used by the bot's notices, the reminder delivery and the digest) enqueues the
    message by its key instead of writing an ``.eml`` file; :meth:`MailOutbox.drain` sends it.
    Invitations (``write_invitation``) are still files: with a tenant, events go through Graph.
    """

    def __init__(self, directory: str | Path, queue: MailOutbox) -> None:
        super().__init__(directory)
        self.queue = queue

    def write_email(self, email: OutgoingEmail) -> Path:
        self.queue.enqueue(email)
        return self.queue.root / "keys" / _name(email.key)
