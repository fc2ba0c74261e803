"""Every test process, and every ``cpc serve`` it starts, signs the audit log with a test key and keeps
its checkpoints in a temporary file: never a developer's ``var/``."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("CPC_AUDIT_KEY", "test-audit-key-" + "0123456789abcdef" * 3)
os.environ.setdefault(
    "CPC_AUDIT_CHECKPOINT_FILE", os.path.join(tempfile.mkdtemp(prefix="cpc-checkpoints-"), "checkpoints.jsonl")
)
