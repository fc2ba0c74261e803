"""``cpc audit verify`` and checkpoints: the keyed chain checked against copies kept elsewhere.

A checkpoint (the head's position, MAC, time and key id) is appended to a file outside the database
(``CPC_AUDIT_CHECKPOINT_FILE``, default ``var/audit-checkpoints.jsonl``) every
``CPC_AUDIT_CHECKPOINT_MINUTES`` while the bot runs, and on demand; with
``CPC_AUDIT_CHECKPOINT_MAILTO`` each is also emailed, through the mail queue, so that a copy lives in
another system. Someone who can rewrite the database cannot rewrite those.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from typing import Any

from casework.audit import ChainCheck
from casework.audit_mac import Checkpoint, MacCheck
from casework.ports import EmailOutbox
from store.audit_keys import append_checkpoint, checkpoint_path, read_checkpoints
from store.sql import SqlStore

log = logging.getLogger(__name__)


def checkpoint_now(store: Any, mail: EmailOutbox | None = None, now: datetime | None = None) -> str:
    """Write the head outside the database; return what was written (or that the log is empty)."""
    assert isinstance(store, SqlStore)
    last = store.audit_last()
    if last is None or last.mac is None or last.key_id is None:
        return "audit log has no signed entry yet: no checkpoint written"
    cp = Checkpoint(last.seq, last.mac, now or datetime.now(UTC), last.key_id)
    path = checkpoint_path()
    line = append_checkpoint(path, cp)
    to = os.environ.get("CPC_AUDIT_CHECKPOINT_MAILTO", "").strip()
    if to and mail is not None:
        text = (
            "Audit checkpoint of the conference challenge bot. Keep this message: `cpc audit verify` "
            f"compares the log with it.\n\n{line}\n"
        )
        mail.send_email(
            to, f"Audit checkpoint at entry {cp.seq}", text, None, f"audit-checkpoint-{cp.seq}-{cp.mac[:16]}"
        )
    return f"checkpoint written to {path}: entry {cp.seq}, MAC {cp.mac[:16]}…"


def verify_log(store: Any, page: int | None = None) -> tuple[list[str], str]:
    """Every problem, first position first, and a one-line summary.

    One pass over the log, streamed a page at a time (``page`` rows; the store's default when None),
    feeds both checks, the hash chain and the keyed chain; memory stays flat however long the log.
    The anchored head and the checkpoints are read first, as before.
    """
    assert isinstance(store, SqlStore)
    head = store.audit_head()
    checkpoints = read_checkpoints(checkpoint_path())
    chain, macs = ChainCheck(), MacCheck(store.audit_keys(), checkpoints)
    for entry in store.iter_audit(page):
        chain.add(entry)
        macs.add(entry)
    report = macs.finish()
    problems = chain.finish(head, check_head=True)
    problems = report.problems + [p for p in problems if p not in report.problems]
    if report.entries == 0 and not checkpoints:
        return problems, "audit log is empty"
    summary = (
        f"{report.entries} entries, {report.keyed} signed in {report.segments} key segment(s), "
        f"checked against {report.checkpoints} checkpoint(s); head {report.last_seq}:{report.last_mac[:16]}"
    )
    return problems, summary


def verdict(problems: list[str], summary: str) -> str:
    """The one line ``cpc audit verify`` ends with, and the case bundle quotes."""
    if problems:
        return f"audit log FAILED verification: {len(problems)} problem(s); {summary}"
    return f"audit log intact: {summary}"


class CheckpointJob:
    """The scheduler's periodic checkpoint; a failure is logged and tried again next time."""

    def __init__(self, store: SqlStore, mail: EmailOutbox | None) -> None:
        self.store, self.mail = store, mail

    async def job(self) -> None:
        import asyncio

        try:
            message = await asyncio.to_thread(checkpoint_now, self.store, self.mail)
        except Exception as exc:  # the next interval tries again; the log itself is unaffected
            log.error("writing the audit checkpoint failed: %s", type(exc).__name__)
            return
        log.info("%s", message)
