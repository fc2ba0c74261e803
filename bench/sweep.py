"""Benchmark: the database side of one reminder sweep, with 1,000 rows due among 10,000 and among
1,000,000 stored.

For each backend (PostgreSQL and SQLite) it fills a fresh database with one bulk ``INSERT ... SELECT``
(PostgreSQL ``generate_series``, SQLite a recursive CTE): the due rows, and around them rows already
delivered (no work left) and rows due later, as a store looks after months of use, plus a tenth as
many notices, all delivered. It then times everything a sweep asks of the database
(``scheduler.sweep.Sweep``): the notice claim (none due), and the claims of the due reminders in the
sweep's own batch size, each claim bringing its rows' contacts and taking over the rows of a crashed
instance whose lease ran out (50 such rows each time). Median of several sweeps after one untimed
warm-up, the leases cleared between them. The sends and their marks are left out: one UPDATE by
primary key per row sent, the same at any size.
On PostgreSQL the same statements, recorded from a sweep, are also replayed through psycopg alone
(autocommit, no SQLAlchemy, no records built), in interleaved rounds: the floor that the database
and its driver set on this machine, against which the store's own overhead shows.
Printed: milliseconds per sweep for each size and the ratio large/small. Targets: the larger store
costs at most 1.5 times the smaller, and under 60 ms on PostgreSQL. Reported, never asserted in the
test suite.

    .venv/bin/python bench/sweep.py [--small] [--postgres-url URL] [--require-postgres]
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, select, text, update

from bench.backends import analyze, fresh_store, postgres_url, unreachable
from scheduler.sweep import Sweep
from store.engine import without_limits
from store.rows import REMINDERS
from store.sql import SqlStore

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
BATCH: int = Sweep.__dataclass_fields__["batch"].default  # type: ignore[assignment]  # the sweep's own
STUCK = 50  # rows whose lease expired (a crashed instance) at the start of each timed sweep
PEOPLE = 5000

# Reminders: ``due`` rows due now; of the rest, one in five due later and four in five delivered.
_REMINDER_SELECT = """
INSERT INTO reminders (key, reference, area, process, rule_id, kind, person_id, audience, send_at, due_at,
                       state, next_attempt_at, attempts)
SELECT 'k' || i, 'CPC-' || (i / 5), 'sussex', 'dissent', 'dissent-decision', 'before-1', 'p' || (i % 5000),
       'responsible', {at}, {at_plus_day},
       CASE WHEN i < :due OR i % 5 = 0 THEN 'pending' ELSE 'sent' END,
       CASE WHEN i < :due OR i % 5 = 0 THEN {at} ELSE NULL END, 0
FROM {series}
"""
_NOTICE_SELECT = """
INSERT INTO notices (key, kind, person_id, reference, occasion, state, created_at, attempts, sent_at)
SELECT 'n' || i, 'chair_prompt', 'p' || (i % 5000), 'CPC-' || i, '', 'sent', {at}, 1, {at}
FROM {series}
"""
_PEOPLE_SELECT = """
INSERT INTO people (id, email, display_name, agency)
SELECT 'p' || i, 'p' || i || '@example.org', 'Person ' || i, 'police' FROM {series}
"""


def _sql(template: str, dialect: str, count: int) -> str:
    """A bulk fill statement for the dialect: ``i`` runs over 0..count-1; times are relative to :now."""
    if dialect == "postgresql":
        series = f"generate_series(0, {count - 1}) AS g(i)"
        minutes = "CAST(:now AS timestamptz) - make_interval(mins => 1 + i % 600)"
        later = "CAST(:now AS timestamptz) + make_interval(mins => 1 + i % 100000)"
        days = "CAST(:now AS timestamptz) - make_interval(days => 1 + i % 365)"
        day = " + interval '1 day'"
    else:
        series = (
            f"(WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {count - 1}) SELECT i FROM s)"
        )

        def shift(amount: str, unit: str, extra: str = "") -> str:
            # The store keeps naive UTC text with microseconds in SQLite (store.models.UTCDateTime).
            return f"strftime('%Y-%m-%d %H:%M:%S', :now, {amount} || ' {unit}'{extra}) || '.000000'"

        minutes = shift("-(1 + i % 600)", "minutes")
        later = shift("(1 + i % 100000)", "minutes")
        days = shift("-(1 + i % 365)", "days")
        day = ""
    at = f"CASE WHEN i < :due THEN {minutes} WHEN i % 5 = 0 THEN {later} ELSE {days} END"
    if dialect == "postgresql":
        at_plus_day = f"({at}){day}"
    else:
        at_plus_day = at.replace("' minutes'", "' minutes', '+1 day'").replace("' days'", "' days', '+1 day'")
    return template.format(at=at, at_plus_day=at_plus_day, series=series)


def seed(store: SqlStore, total: int, due: int) -> float:
    """Fill the reminders (``total``), notices (a tenth) and people; returns the seconds it took."""
    started = time.perf_counter()
    engine = without_limits(store.engine)  # a bulk fill of a million rows is not a request
    dialect = engine.dialect.name
    now: Any = NOW if dialect == "postgresql" else NOW.strftime("%Y-%m-%d %H:%M:%S")
    with engine.begin() as conn:
        conn.execute(text(_sql(_REMINDER_SELECT, dialect, total)), {"now": now, "due": due})
        conn.execute(text(_sql(_NOTICE_SELECT, dialect, max(total // 10, 1))), {"now": now, "due": due})
        conn.execute(text(_sql(_PEOPLE_SELECT, dialect, PEOPLE)), {"now": now, "due": due})
    analyze(store)
    return time.perf_counter() - started


def one_sweep(store: SqlStore, owner: str, batch: int = BATCH) -> int:
    """Everything a sweep asks of the database (scheduler.sweep.Sweep), without the sends and marks:
    claims of each queue until one comes back short, each claim with its rows' contacts and taking
    over the rows whose lease ran out."""
    lease = NOW + timedelta(minutes=2)
    store.claim_notices(NOW, owner, batch, lease)
    claimed = 0
    while True:
        got = store.claim_reminders(NOW, owner, batch, lease)
        claimed += len(got.rows)
        if len(got.rows) < batch:
            break
    return claimed


def reset_leases(store: SqlStore) -> None:
    """Clear this round's leases, and leave ``STUCK`` due rows leased by a crashed instance."""
    with store.engine.begin() as conn:
        conn.execute(
            update(REMINDERS).where(REMINDERS.c.lease_owner.is_not(None)).values(lease_owner=None, lease_until=None)
        )
        stuck = select(REMINDERS.c.id).where(REMINDERS.c.key.in_([f"k{i}" for i in range(STUCK)]))
        conn.execute(
            update(REMINDERS)
            .where(REMINDERS.c.id.in_(stuck))
            .values(lease_owner="crashed", lease_until=NOW - timedelta(minutes=1))
        )


def record_sweep(store: SqlStore, batch: int) -> list[tuple[str, Any]]:
    """The statements and parameters one sweep sends, as the driver gets them (pings left out)."""
    sent: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if statement.strip() not in ("", ";", "SELECT 1"):
            sent.append((statement, parameters))

    reset_leases(store)
    event.listen(store.engine, "before_cursor_execute", keep)
    try:
        one_sweep(store, "recorded", batch)
    finally:
        event.remove(store.engine, "before_cursor_execute", keep)
    return sent


def replay(store: SqlStore, sent: list[tuple[str, Any]]) -> None:
    """The reference: the same statements through psycopg alone, in autocommit, with no SQLAlchemy,
    no conversion to records and no pool: what the database and the driver cost by themselves."""
    raw = store.engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        driver.autocommit = True
        for statement, parameters in sent:
            driver.execute(statement, parameters).fetchall()
    finally:
        raw.close()


def time_claims(store: SqlStore, repeats: int, batch: int) -> tuple[float, float | None, int]:
    """Median milliseconds of one sweep's database work, the same statements replayed through psycopg
    alone (PostgreSQL; rounds interleaved), and how many due rows a sweep claimed."""
    ours: list[float] = []
    alone: list[float] = []
    postgres = store.engine.dialect.name == "postgresql"
    sent = record_sweep(store, batch) if postgres else []  # also the warm-up: the first sweep pays for caches
    found = 0
    for n in range(repeats):
        reset_leases(store)
        started = time.perf_counter()
        found = one_sweep(store, f"bench-{n}", batch)
        ours.append((time.perf_counter() - started) * 1000)
        if postgres:
            reset_leases(store)
            started = time.perf_counter()
            replay(store, sent)
            alone.append((time.perf_counter() - started) * 1000)
    return statistics.median(ours), (statistics.median(alone) if alone else None), found


def run_backend(name: str, sizes: list[int], due: int, repeats: int, pg_url: str | None, batch: int) -> list[float]:
    results: list[float] = []
    for total in sizes:
        with fresh_store(name, pg_url) as store:
            seconds = seed(store, total, due)
            ms, alone, found = time_claims(store, repeats, batch)
        results.append(ms)
        reference = f"   psycopg alone {alone:6.1f} ms (ours/alone {ms / alone:.2f})" if alone else ""
        filled = f"(filled in {seconds:.1f} s)"
        print(f"{name:10} {total:>10,} stored {found:>6,} due   sweep {ms:8.1f} ms{reference}   {filled}")
    ratio = results[-1] / results[0] if results[0] else float("inf")
    print(f"{name:10} ratio largest/smallest store: {ratio:.2f} (target <= 1.5)")
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    ap.add_argument("--small", action="store_true", help="tiny sizes (a smoke test)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--batch", type=int, default=BATCH, help=f"rows a claim takes (the sweep's: {BATCH})")
    ap.add_argument("--postgres-url", default=None)
    ap.add_argument("--require-postgres", action="store_true", help="fail rather than skip without PostgreSQL")
    args = ap.parse_args(argv)
    if args.batch < 1:
        ap.error("--batch must be at least 1")
    sizes, due = ([2_000, 20_000], 100) if args.small else ([10_000, 1_000_000], 1_000)
    pg = postgres_url(args.postgres_url)
    problem = unreachable(pg)
    if problem and args.require_postgres:
        print(f"postgresql unreachable: {problem}", file=sys.stderr)
        return 1
    if problem:
        print(f"postgresql unreachable ({problem}): skipped")
    have_pg = problem is None
    chosen = "" if args.batch == BATCH else f" (CPC_REMINDER_BATCH; the sweep's default is {BATCH})"
    print(
        f"one sweep's database work: the notice claim, then claims of {due:,} due reminders in the sweep's "
        f"batches of {args.batch}{chosen}, each with its contacts and taking over {STUCK} rows of a crashed instance "
        f"(median of {args.repeats}); sizes {sizes}"
    )
    if have_pg:
        pg_results = run_backend("postgresql", sizes, due, args.repeats, pg, args.batch)
        verdict = "met" if pg_results[-1] < 60 and pg_results[-1] <= 1.5 * pg_results[0] else "NOT met"
        print(f"postgresql target (<= 1.5x and < 60 ms at the largest size): {verdict}")
    run_backend("sqlite", sizes, due, args.repeats, None, args.batch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
