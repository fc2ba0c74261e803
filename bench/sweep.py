"""Benchmark: one reminder sweep's claim of 1,000 due rows among 10,000 and among 1,000,000 stored.

For each backend (PostgreSQL and SQLite) it seeds a fresh database with bulk inserts (PostgreSQL
``COPY``, SQLite ``executemany``): the due rows, and around them rows already delivered (no work
left) and rows due later, as a store looks after months of use. It then times
``SqlStore.claim_reminders`` taking all the due rows at once (the database side of a sweep; what is
sent afterwards does not depend on the store's size), median of several claims, releasing the
leases between them. Printed: milliseconds per claim for each size and the ratio large/small.
Targets: the larger store costs at most twice the smaller, and under 100 ms on PostgreSQL. Reported,
never asserted in the test suite.

    .venv/bin/python bench/sweep.py [--small] [--postgres-url URL] [--require-postgres]
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, make_url, text, update

from store.rows import REMINDERS
from store.sql import SqlStore, open_store

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
COLUMNS = (
    "key",
    "reference",
    "area",
    "process",
    "rule_id",
    "kind",
    "person_id",
    "audience",
    "send_at",
    "due_at",
    "state",
    "next_attempt_at",
    "attempts",
)
NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


def rows(total: int, due: int) -> Iterator[tuple[Any, ...]]:
    """``due`` rows due now; of the rest, four in five delivered and one in five due later."""
    for i in range(total):
        person = f"p{i % 5000}"
        if i < due:
            at, state, work = NOW - timedelta(minutes=1 + i % 600), "pending", True
        elif i % 5 == 0:
            at, state, work = NOW + timedelta(minutes=1 + i % 100_000), "pending", True
        else:
            at, state, work = NOW - timedelta(days=1 + i % 365), "sent", False
        yield (
            f"k{i}",
            f"CPC-{i // 5}",
            "sussex",
            "dissent",
            "dissent-decision",
            "before-1",
            person,
            "responsible",
            at,
            at + timedelta(days=1),
            state,
            at if work else None,
            0,
        )


def seed(store: SqlStore, total: int, due: int) -> float:
    started = time.perf_counter()
    engine = store.engine
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            with cur.copy(f"COPY reminders ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows(total, due):
                    copy.write_row(row)
            raw.commit()
            raw.set_autocommit(True)
            raw.cursor().execute("VACUUM ANALYZE reminders")
        finally:
            raw.close()
    else:
        raw = engine.raw_connection()
        try:
            placeholders = ", ".join("?" for _ in COLUMNS)
            sql = f"INSERT INTO reminders ({', '.join(COLUMNS)}) VALUES ({placeholders})"

            def naive(row: tuple[Any, ...]) -> tuple[Any, ...]:  # the store keeps naive UTC in SQLite
                return tuple(v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v for v in row)

            cur = raw.cursor()
            cur.execute("BEGIN")
            cur.executemany(sql, [naive(r) for r in rows(total, due)])
            cur.execute("COMMIT")
            cur.execute("ANALYZE")
        finally:
            raw.close()
    return time.perf_counter() - started


def time_claims(store: SqlStore, due: int, repeats: int) -> tuple[float, int]:
    """Median milliseconds of one sweep's database work (lease release and the claim), and how many it found."""
    times: list[float] = []
    found = 0
    for n in range(repeats):
        started = time.perf_counter()
        # The whole database side of a sweep: releasing expired leases (both queues) and the claim.
        store.release_expired_leases(NOW)
        store.release_expired_notice_leases(NOW)
        claimed = store.claim_reminders(NOW, f"bench-{n}", due, NOW + timedelta(minutes=2))
        times.append((time.perf_counter() - started) * 1000)
        found = len(claimed)
        with store.engine.begin() as conn:  # release for the next round
            conn.execute(
                update(REMINDERS).where(REMINDERS.c.lease_owner.is_not(None)).values(lease_owner=None, lease_until=None)
            )
    return statistics.median(times), found


def postgres_schema(url: str) -> tuple[str, Any]:
    admin = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    schema = f"cpc_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return scoped.render_as_string(hide_password=False), drop


def run_backend(name: str, sizes: list[int], due: int, repeats: int, pg_url: str | None) -> list[float]:
    results: list[float] = []
    for total in sizes:
        cleanup: Any = None
        tmp: tempfile.TemporaryDirectory[str] | None = None
        if name == "postgresql":
            assert pg_url is not None
            url, cleanup = postgres_schema(pg_url)
        else:
            tmp = tempfile.TemporaryDirectory()
            url = f"sqlite:///{tmp.name}/bench.sqlite3"
        store = open_store(url)
        try:
            seconds = seed(store, total, due)
            ms, found = time_claims(store, due, repeats)
        finally:
            store.close()
            if cleanup:
                cleanup()
            if tmp:
                tmp.cleanup()
        results.append(ms)
        print(f"{name:10} {total:>10,} stored {found:>6,} due   claim {ms:8.1f} ms   (seeded in {seconds:.1f} s)")
    ratio = results[-1] / results[0] if results[0] else float("inf")
    print(f"{name:10} ratio largest/smallest store: {ratio:.2f} (target <= 2)")
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    ap.add_argument("--small", action="store_true", help="tiny sizes (a smoke test)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--postgres-url", default=os.environ.get("CPC_TEST_POSTGRES_URL") or DEFAULT_POSTGRES)
    ap.add_argument("--require-postgres", action="store_true", help="fail rather than skip without PostgreSQL")
    args = ap.parse_args(argv)
    sizes, due = ([2_000, 20_000], 100) if args.small else ([10_000, 1_000_000], 1_000)
    pg_url = make_url(args.postgres_url)
    if pg_url.drivername == "postgresql":
        pg_url = pg_url.set(drivername="postgresql+psycopg")
    pg = pg_url.render_as_string(hide_password=False)
    try:
        probe = create_engine(pg, connect_args={"connect_timeout": 5})
        with probe.connect() as conn:
            conn.execute(text("SELECT 1"))
        probe.dispose()
        have_pg = True
    except Exception as exc:
        if args.require_postgres:
            print(f"postgresql unreachable: {type(exc).__name__}", file=sys.stderr)
            return 1
        print(f"postgresql unreachable ({type(exc).__name__}): skipped")
        have_pg = False
    print(f"one claim of {due:,} due reminders (median of {args.repeats}); sizes {sizes}")
    if have_pg:
        pg_results = run_backend("postgresql", sizes, due, args.repeats, pg)
        verdict = "met" if pg_results[-1] < 100 and pg_results[-1] <= 2 * pg_results[0] else "NOT met"
        print(f"postgresql target (<= 2x and < 100 ms at the largest size): {verdict}")
    run_backend("sqlite", sizes, due, args.repeats, None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
