"""The audit key, from the environment only, and the checkpoint file kept outside the database.

``CPC_AUDIT_KEY`` (or ``CPC_AUDIT_KEY_FILE``, a path such as a Key Vault secret mounted as a file)
is the current key; ``CPC_AUDIT_KEY_PREVIOUS`` (comma-separated, or ``CPC_AUDIT_KEY_PREVIOUS_FILE``
with one key a line) the earlier ones, needed to verify their segments and to rotate. The key is
never written to the database. With none set, a development key is made once under ``var/`` so that
``make run`` works on a fresh machine; ``cpc serve`` refuses that fallback when a bot app id is set.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from casework.audit_mac import AuditKeyError, AuditKeys, Checkpoint

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
DEV_KEY_FILE = ROOT / "var" / "audit.key"
DEFAULT_CHECKPOINT_FILE = ROOT / "var" / "audit-checkpoints.jsonl"


def _read_file(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise AuditKeyError(f"{what}: cannot read {path} ({exc.strerror})") from None


def key_configured(environ: Mapping[str, str] = os.environ) -> bool:
    return bool(environ.get("CPC_AUDIT_KEY") or environ.get("CPC_AUDIT_KEY_FILE"))


def _dev_key() -> str:
    """The development key, made once: written to a temporary file and linked into place, so two
    processes starting together end up with the same key (the link fails for the second)."""
    if DEV_KEY_FILE.exists():
        return DEV_KEY_FILE.read_text(encoding="utf-8").strip()
    DEV_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=DEV_KEY_FILE.parent, prefix=".audit.key.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, DEV_KEY_FILE)
            log.warning("no CPC_AUDIT_KEY set: made a development audit key in var/audit.key; set one in production")
        except FileExistsError:
            pass  # another process linked its key first: use that one
    finally:
        os.unlink(tmp)
    return DEV_KEY_FILE.read_text(encoding="utf-8").strip()


def load_audit_keys(environ: Mapping[str, str] = os.environ) -> AuditKeys:
    """The keys from the environment (see the module docstring)."""
    current = environ.get("CPC_AUDIT_KEY", "").strip()
    if not current and environ.get("CPC_AUDIT_KEY_FILE"):
        current = _read_file(environ["CPC_AUDIT_KEY_FILE"], "CPC_AUDIT_KEY_FILE")
    if not current:
        current = _dev_key()
    previous = [k.strip() for k in environ.get("CPC_AUDIT_KEY_PREVIOUS", "").split(",") if k.strip()]
    if environ.get("CPC_AUDIT_KEY_PREVIOUS_FILE"):
        text = _read_file(environ["CPC_AUDIT_KEY_PREVIOUS_FILE"], "CPC_AUDIT_KEY_PREVIOUS_FILE")
        previous += [line.strip() for line in text.splitlines() if line.strip()]
    return AuditKeys(current.encode("utf-8"), tuple(p.encode("utf-8") for p in previous))


def checkpoint_path(environ: Mapping[str, str] = os.environ) -> Path:
    return Path(environ.get("CPC_AUDIT_CHECKPOINT_FILE") or DEFAULT_CHECKPOINT_FILE)


def append_checkpoint(path: Path, cp: Checkpoint) -> str:
    """Append one line to the checkpoint file, in one write (O_APPEND), and return the line."""
    line = json.dumps(
        {"seq": cp.seq, "mac": cp.mac, "at": cp.at.astimezone(UTC).isoformat(), "key_id": cp.key_id},
        sort_keys=True,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    try:
        os.write(fd, (line + "\n").encode("ascii"))
    finally:
        os.close(fd)
    return line


def read_checkpoints(path: Path) -> list[Checkpoint]:
    """Every checkpoint in the file; a line that cannot be read is an error naming its line."""
    if not path.exists():
        return []
    out: list[Checkpoint] = []
    for n, line in enumerate(path.read_text(encoding="ascii").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            out.append(
                Checkpoint(int(raw["seq"]), str(raw["mac"]), datetime.fromisoformat(raw["at"]), str(raw["key_id"]))
            )
        except (ValueError, KeyError, TypeError):
            raise AuditKeyError(f"{path}:{n}: not a checkpoint line") from None
    return out
