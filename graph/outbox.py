"""The file outbox: emails as RFC 5322 ``.eml`` files under ``var/outbox/`` when no tenant is set.

Also the place a notice goes when Teams cannot deliver it, so that nothing is dropped. Writes are
atomic (temporary file then rename) and named by an idempotency key, so a retry never doubles one.
"""

from __future__ import annotations

import os
import re
import tempfile
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

_SAFE = re.compile(r"[^A-Za-z0-9._-]")


class FileOutbox:
    def __init__(self, directory: str | Path, sender: str = "conference-challenge-bot@localhost") -> None:
        self.directory = Path(directory)
        self.sender = sender

    def send_email(self, to: str, subject: str, text: str, html_body: str | None, key: str) -> Path:
        """Write one message; the same ``key`` twice writes it once."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{_SAFE.sub('_', key)[:120]}.eml"
        if path.exists():
            return path
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = format_datetime(datetime.now(UTC))
        msg["Message-ID"] = make_msgid(domain="conference-challenge-bot.local")
        msg["X-Idempotency-Key"] = key
        msg.set_content(text)
        if html_body is not None:
            msg.add_alternative(html_body, subtype="html")
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(bytes(msg))
        os.replace(tmp, path)
        return path
