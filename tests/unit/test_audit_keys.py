"""The audit key comes from the environment (or a mounted file); a development key is made once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from casework.audit_mac import AuditKeyError, key_id
from store import audit_keys


def test_keys_from_the_environment_and_files(tmp_path: Path) -> None:
    current, old = "c" * 40, "o" * 40
    keys = audit_keys.load_audit_keys({"CPC_AUDIT_KEY": current, "CPC_AUDIT_KEY_PREVIOUS": f"{old}, "})
    assert keys.current == current.encode() and keys.previous == (old.encode(),)
    (tmp_path / "key").write_text(current + "\n")
    (tmp_path / "old").write_text(f"{old}\n\n")
    keys = audit_keys.load_audit_keys(
        {"CPC_AUDIT_KEY_FILE": str(tmp_path / "key"), "CPC_AUDIT_KEY_PREVIOUS_FILE": str(tmp_path / "old")}
    )
    assert keys.current_id == key_id(current.encode()) and keys.previous == (old.encode(),)
    with pytest.raises(AuditKeyError, match="at least 32 bytes"):
        audit_keys.load_audit_keys({"CPC_AUDIT_KEY": "short"})
    with pytest.raises(AuditKeyError, match="CPC_AUDIT_KEY_FILE: cannot read"):
        audit_keys.load_audit_keys({"CPC_AUDIT_KEY_FILE": str(tmp_path / "missing")})


def test_the_development_key_is_made_once_even_by_processes_starting_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_keys, "DEV_KEY_FILE", tmp_path / "var" / "audit.key")
    with ThreadPoolExecutor(8) as pool:
        made = set(pool.map(lambda _: audit_keys.load_audit_keys({}).current, range(32)))
    assert len(made) == 1 and len(made.pop()) == 64
    assert [p.name for p in (tmp_path / "var").iterdir()] == ["audit.key"]  # no temporary file left
    assert (tmp_path / "var" / "audit.key").stat().st_mode & 0o777 == 0o600
