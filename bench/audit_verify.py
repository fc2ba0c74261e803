"""Benchmark: ``cpc audit verify`` over 10,000, 100,000 and 1,000,000 audit entries.

The log is filled in bulk (Core ``executemany``, 5,000 rows a statement) with entries chained by the
store's own code (``casework.audit_mac.chain_next``, the function ``append_audit`` uses, and the
store's canonical detail), so that verification has a correct hash chain, MAC chain and head to
check, as a store gives after years of use. Each size extends the same log, then ``cpc audit verify``
runs as a separate process, as an operator runs it: its wall time, and its peak resident memory as
the kernel accounts it for that child (``os.wait4``), with its CPU seconds (user and system), which
a busy machine disturbs less than the wall time. It must exit 0 and report every entry.
Printed: seconds and MiB for each size, and the growth from the smallest size to the largest.
Target: under 150 MB at 1,000,000 entries. Reported, never asserted in the test suite.

    .venv/bin/python bench/audit_verify.py [--sizes 10000,100000,1000000] [--small] [--postgres] [--postgres-url URL]
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse
import os
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, delete, insert, make_url, text

from casework.audit_mac import AuditKeys, Link, chain_next
from store.models import AuditHeadRow, AuditRow
from store.rows import _canonical_detail
from store.sql import SqlStore, open_store

ROOT = _HERE.parent
KEY = "bench-audit-key-" + "0" * 48
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
FILL_CHUNK = 5_000
T0 = datetime(2016, 1, 4, 9, 0, tzinfo=UTC)
ACTIONS = ("conference.recorded", "event.recorded", "dissent.raised", "decision.recorded", "complaint.opened")


@dataclass(frozen=True, slots=True)
class Run:
    entries: int
    seconds: float
    cpu_seconds: float
    peak_mib: float
    summary: str


def entries(start: int, stop: int) -> Iterator[tuple[datetime, str, str, str, dict[str, Any]]]:
    """Entries ``start`` to ``stop - 1`` (0-based): a case's worth of steps by a few hundred people."""
    for i in range(start, stop):
        detail = {"event": ACTIONS[i % len(ACTIONS)], "n": i, "process": "dissent", "by": f"role-{i % 7}"}
        yield T0 + timedelta(seconds=30 * i), f"aad-{i % 400}", ACTIONS[i % len(ACTIONS)], f"CPC-{i // 25}", detail


def fill(store: SqlStore, keys: AuditKeys, last: Link | None, count: int, upto: int) -> Link | None:
    """Append entries ``count + 1`` to ``upto`` in bulk, chained to ``last``; move the head anchor."""
    batch: list[dict[str, Any]] = []
    with store.engine.begin() as conn:
        for at, actor, action, reference, detail in entries(count, upto):
            stored, hashed = _canonical_detail(detail)
            c = chain_next(last, at, actor, action, reference, hashed, keys)
            batch.append(
                {
                    "seq": c.seq,
                    "at": at,
                    "actor": actor,
                    "action": action,
                    "reference": reference,
                    "detail": stored,
                    "prev_hash": c.prev_hash,
                    "hash": c.hash,
                    "mac": c.mac,
                    "key_id": c.key_id,
                    "cross_mac": c.cross_mac,
                }
            )
            last = c.link()
            if len(batch) == FILL_CHUNK:
                conn.execute(insert(AuditRow), batch)
                batch = []
        if batch:
            conn.execute(insert(AuditRow), batch)
        if last is not None:
            conn.execute(delete(AuditHeadRow))
            conn.execute(insert(AuditHeadRow), [{"id": 1, "seq": last.seq, "hash": last.hash}])
    return last


def verify(url: str, checkpoints: Path) -> Run:
    """``cpc audit verify`` in its own process: wall seconds and that process's peak RSS."""
    env = dict(os.environ)
    env.update(
        {"CPC_DATABASE_URL": url, "CPC_AUDIT_KEY": KEY, "CPC_AUDIT_CHECKPOINT_FILE": str(checkpoints)},
    )
    env.pop("CPC_AUDIT_KEY_PREVIOUS", None)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "audit", "verify"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 or "audit log intact" not in out:
        raise SystemExit(f"cpc audit verify failed (exit {proc.returncode}):\n{out}")
    cpu = usage.ru_utime + usage.ru_stime
    return Run(0, seconds, cpu, usage.ru_maxrss / 1024, out.strip().splitlines()[-1])


def postgres_schema(url: str) -> tuple[str, Callable[[], None]]:
    """A fresh schema for this run (dropped afterwards), and the URL that uses it."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    schema = f"cpc_audit_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return scoped.render_as_string(hide_password=False), drop


def run_backend(name: str, url: str, sizes: list[int], checkpoints: Path) -> list[Run]:
    keys = AuditKeys(KEY.encode())
    store = open_store(url)
    runs: list[Run] = []
    last: Link | None = None
    count = 0
    try:
        for size in sizes:
            started = time.perf_counter()
            last = fill(store, keys, last, count, size)
            filled = time.perf_counter() - started
            count = size
            if name == "postgresql":
                with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text("VACUUM ANALYZE audit_log"))
            run = verify(url, checkpoints)
            run = Run(size, run.seconds, run.cpu_seconds, run.peak_mib, run.summary)
            runs.append(run)
            print(
                f"{name:10} {size:>10,} entries   verify {run.seconds:7.2f} s wall, {run.cpu_seconds:7.2f} s cpu"
                f"   peak {run.peak_mib:6.1f} MiB"
                f"   (filled in {filled:.1f} s)",
                flush=True,
            )
    finally:
        store.close()
    if len(runs) > 1:
        first, end = runs[0], runs[-1]
        print(
            f"{name:10} from {first.entries:,} to {end.entries:,} entries: time x{end.seconds / first.seconds:.1f}, "
            f"peak memory x{end.peak_mib / first.peak_mib:.2f}"
        )
    print(f"{name:10} last verdict: {runs[-1].summary}")
    return runs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    ap.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated entry counts, ascending")
    ap.add_argument("--small", action="store_true", help="500 and 2,000 entries (a smoke test)")
    ap.add_argument("--postgres", action="store_true", help="also run on PostgreSQL")
    ap.add_argument("--postgres-url", default=os.environ.get("CPC_TEST_POSTGRES_URL") or DEFAULT_POSTGRES)
    args = ap.parse_args(argv)
    sizes = [500, 2_000] if args.small else sorted(int(s.replace("_", "")) for s in args.sizes.split(","))
    print(f"cpc audit verify as its own process; wall time and peak RSS (os.wait4); sizes {sizes}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        checkpoints = Path(tmp) / "no-checkpoints.jsonl"
        sqlite_runs = run_backend("sqlite", f"sqlite:///{tmp}/audit.sqlite3", sizes, checkpoints)
        results = {"sqlite": sqlite_runs}
        if args.postgres:
            url, drop = postgres_schema(args.postgres_url)
            try:
                results["postgresql"] = run_backend("postgresql", url, sizes, checkpoints)
            finally:
                drop()
    for name, runs in results.items():
        peak = runs[-1]
        met = "met" if peak.entries < 1_000_000 or peak.peak_mib * 1.048576 < 150 else "NOT met"
        print(f"{name:10} target (peak under 150 MB at 1,000,000 entries): {met}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
