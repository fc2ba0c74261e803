"""Benchmark: what ``deadlines``, the 06:30 replan and the digest cost as the stored history grows.

For each backend (SQLite and PostgreSQL) and each size (100, 1,000 and 10,000 stored cases in one
area) it fills a fresh store in bulk, as an authority's store looks after ten years: most cases long
closed (some with a dissent decided, some with a complaint closed), and the open work fixed from
1,000 cases up: 200 cases whose dissent awaits the head of safeguarding's decision and 300 open
complaints (at 100 cases, a fifth and three tenths of them). It then times, on the project's own
store and casework:

- ``deadlines`` for a professional who attended one case with nothing due for them (median of 20),
- ``deadlines`` for the head of safeguarding, who has the 200 decisions due (median of 5),
- the replan of open cases (``Casework.replan_open_cases``): the first, which writes every plan
  (the filled store has no reminder rows), and the next, which finds them unchanged,
- building the complaints digest (median of 3) and the size of its HTML.

It prints each figure, and for each the growth factor per tenfold (100 to 1,000, 1,000 to 10,000).
Targets at 10,000 cases: ``deadlines`` one case < 20 ms, manager < 200 ms, growth 1,000 to 10,000
at most 1.5x; the replan < 5 s on PostgreSQL; the digest < 500 ms and < 200 KB. Reported, never
asserted in the test suite (a smoke test runs ``--small``).

    .venv/bin/python bench/scale.py [--small] [--postgres-url URL] [--require-postgres]
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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import insert, update

from app.procedures import load_catalogue
from bench.backends import analyze, fresh_store, postgres_url, unreachable
from casework.service import Casework
from scheduler.digest import build_digest, previous_digest, render_digest
from store.models import (
    AttendeeRow,
    CaseEventRow,
    ComplaintRow,
    ConferenceRow,
    DissentRow,
    PersonRow,
    RoleGrantRow,
)
from store.sql import SqlStore

# Wed 13 Jan 2027, 08:00 (GMT): a working day, the digest's time.
NOW = datetime(2027, 1, 13, 8, 0, tzinfo=UTC)
AREA = "sussex"
SIZES = (100, 1_000, 10_000)
SMALL_SIZES = (40, 100)
YEARS = 10


@dataclass
class Filled:
    cases: int
    open_decisions: int
    open_complaints: int
    open_refs: list[str] = field(default_factory=list)

    @property
    def open_total(self) -> int:
        return self.open_decisions + self.open_complaints


def fill(store: SqlStore, cases: int) -> Filled:
    """Bulk-insert ``cases`` cases (see the module docstring); each row as the store itself writes it."""
    shape = Filled(cases, min(200, cases * 2 // 10), min(300, cases * 3 // 10))
    people = [f"pro{i}" for i in range(200)] + [f"chair{i}" for i in range(50)] + ["hos", "cm", "solo"]
    conferences: list[dict[str, Any]] = []
    attendees: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    dissents: list[dict[str, Any]] = []
    complaints: list[dict[str, Any]] = []

    def event(ref: str, name: str, at: datetime) -> None:
        events.append({"reference": ref, "name": name, "at": at, "recorded_by": "bench"})

    def complaint(ref: str, received: datetime, stage: str) -> None:
        complaints.append(
            {
                "reference": ref,
                "area": AREA,
                "received_at": received,
                "complainant_role": "parent",
                "grounds": "decision",
                "summary": "",
                "stage": stage,
                "received_time_given": True,
                "repeat": 0,
            }
        )

    for i in range(cases):
        ref = f"CPC-{i:06d}"
        decision = i < shape.open_decisions
        open_complaint = shape.open_decisions <= i < shape.open_total
        if decision:
            held = NOW - timedelta(days=1 + i % 10, hours=2)
        elif open_complaint:
            held = NOW - timedelta(days=70)
        else:
            held = NOW - timedelta(days=90) - timedelta(days=365 * YEARS * i / cases)
        pros = [f"pro{(2 * i) % 200}", f"pro{(2 * i + 1) % 200}"] + (["solo"] if i == shape.open_decisions else [])
        conferences.append(
            {
                "reference": ref,
                "area": AREA,
                "type": "initial",
                "held_at": held,
                "chair_id": f"chair{i % 50}",
                "is_open": decision or open_complaint,
            }
        )
        attendees.extend({"reference": ref, "person_id": p, "agency": "police"} for p in pros)
        event(ref, "conference_held", held)
        if decision or i % 10 == 0:
            event(ref, "dissent_raised", held + timedelta(hours=1))
            event(ref, "dissent_recorded", held + timedelta(hours=2))
            if not decision:
                event(ref, "dissent_not_upheld", held + timedelta(days=5))
            dissents.append(
                {
                    "reference": ref,
                    "person_id": pros[0],
                    "agency": "police",
                    "reason": "the threshold is not met",
                    "raised_at": held + timedelta(hours=1),
                    "late": False,
                    "state": "recorded" if decision else "not_upheld",
                    "decided_at": None if decision else held + timedelta(days=5),
                }
            )
        if open_complaint:
            received = NOW - timedelta(days=1 + i % 40)
            event(ref, "complaint_received", received)
            if i % 3 == 0:
                event(ref, "managers_informed", received + timedelta(hours=2))
            complaint(ref, received, "stage1")
        elif not decision and i % 5 == 1:
            received = held + timedelta(days=5)
            for n, name in enumerate(
                ("complaint_received", "managers_informed", "stage1_meeting_held", "stage1_response_sent", "closed")
            ):
                event(ref, name, received + timedelta(days=n))
            complaint(ref, received, "closed:confirmed")
        if decision or open_complaint:
            shape.open_refs.append(ref)
    with store.engine.begin() as conn:
        conn.execute(
            insert(PersonRow),
            [{"id": p, "email": f"{p}@example.org", "display_name": p, "agency": "police"} for p in people],
        )
        conn.execute(
            insert(RoleGrantRow),
            [
                {"person_id": "hos", "role": "head_of_safeguarding", "area": AREA},
                {"person_id": "cm", "role": "complaints_manager", "area": AREA},
            ],
        )
        for model, rows in (
            (ConferenceRow, conferences),
            (AttendeeRow, attendees),
            (CaseEventRow, events),
            (DissentRow, dissents),
            (ComplaintRow, complaints),
        ):
            if rows:
                conn.execute(insert(model), rows)
    analyze(store)
    return shape


def check_flags(store: SqlStore, cw: Casework, shape: Filled) -> None:
    """The open flags as filled are casework's own judgement: mark every case open, replan, compare."""
    with store.engine.begin() as conn:
        conn.execute(update(ConferenceRow).values(is_open=True))
    cw.replan_open_cases()
    judged = store.open_cases_in()
    if judged != shape.open_refs:
        raise SystemExit(f"the filled open flags disagree with casework: {len(judged)} open, {shape.open_total} built")
    print(f"  open flags as filled agree with casework's judgement ({shape.open_total} open of {shape.cases})")


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(store: SqlStore, cases: int, check: bool) -> dict[str, float]:
    """Every figure for one store of ``cases`` cases, printed as it is taken."""
    started = time.perf_counter()
    shape = fill(store, cases)
    cw = Casework(store, load_catalogue().areas, lambda: NOW)
    area = cw.areas[AREA]
    print(f"  {cases:,} cases filled in {time.perf_counter() - started:.1f} s, {shape.open_total} open")
    if check:
        check_flags(store, cw, shape)
    solo = cw.deadlines_for("solo")
    manager = cw.deadlines_for("hos")
    if solo or len([d for d in manager if d.kind == "duty"]) != shape.open_decisions:
        raise SystemExit(f"unexpected deadlines: solo {len(solo)}, manager {len(manager)}")
    out: dict[str, float] = {}
    out["deadlines one-case ms"] = median_ms(lambda: cw.deadlines_for("solo"), 20)
    out["deadlines manager ms"] = median_ms(lambda: cw.deadlines_for("hos"), 5)
    print(f"  deadlines: one case {out['deadlines one-case ms']:.1f} ms (nothing due), ", end="")
    print(f"manager {out['deadlines manager ms']:.1f} ms ({len(manager)} items)")
    t0 = time.perf_counter()
    replanned = cw.replan_open_cases()
    out["replan first s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    cw.replan_open_cases()
    out["replan next s"] = time.perf_counter() - t0
    print(f"  replan of {replanned} open cases: first {out['replan first s']:.2f} s (plans written), ", end="")
    print(f"next {out['replan next s']:.2f} s (unchanged)")
    since = previous_digest(area, NOW.date(), NOW.time())
    digest = build_digest(store, area, NOW, since)
    out["digest ms"] = median_ms(lambda: build_digest(store, area, NOW, since), 3)
    html, text = render_digest(digest)
    out["digest KB"] = len(html.encode()) / 1024
    print(f"  digest: built in {out['digest ms']:.1f} ms, {digest.open_total} open, ", end="")
    print(f"{len(digest.overdue)} overdue, HTML {out['digest KB']:.1f} KB, text {len(text.encode()) / 1024:.1f} KB")
    return out


TARGETS: dict[str, tuple[float, str]] = {
    "deadlines one-case ms": (20, "< 20 ms"),
    "deadlines manager ms": (200, "< 200 ms"),
    "digest ms": (500, "< 500 ms"),
    "digest KB": (200, "< 200 KB"),
}


def report(backend: str, sizes: tuple[int, ...], figures: list[dict[str, float]]) -> None:
    """Growth per tenfold for each figure, and the targets at the largest size."""
    for key in figures[0]:
        values = [f[key] for f in figures]
        growth = ", ".join(
            f"{a:,}->{b:,}: {values[i + 1] / values[i]:.2f}x" if values[i] else f"{a:,}->{b:,}: -"
            for i, (a, b) in enumerate(pairwise(sizes))
        )
        shown = " / ".join(f"{v:.1f}" if "ms" in key or "KB" in key else f"{v:.2f}" for v in values)
        verdict = ""
        if key in TARGETS:
            limit, words = TARGETS[key]
            verdict = f"   target {words}: {'met' if values[-1] < limit else 'NOT met'}"
        elif key == "replan first s" and backend == "postgresql":
            verdict = f"   target < 5 s: {'met' if values[-1] < 5 else 'NOT met'}"
        print(f"{backend:10} {key:22} {shown:>28}   growth {growth}{verdict}")
    for key in ("deadlines one-case ms", "deadlines manager ms"):
        if len(figures) >= 2:
            last = figures[-1][key] / figures[-2][key] if figures[-2][key] else float("inf")
            print(f"{backend:10} {key} growth at the last tenfold (open work fixed from 1,000): {last:.2f}x ", end="")
            print(f"(target <= 1.5x: {'met' if last <= 1.5 else 'NOT met'})")


def run_backend(backend: str, sizes: tuple[int, ...], pg_url: str | None) -> None:
    figures = []
    for n, cases in enumerate(sizes):
        print(f"{backend} at {cases:,} stored cases")
        with fresh_store(backend, pg_url) as store:
            figures.append(measure(store, cases, check=n == 0))
    report(backend, sizes, figures)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    ap.add_argument("--small", action="store_true", help="tiny sizes (a smoke test)")
    ap.add_argument("--postgres-url", default=None)
    ap.add_argument("--require-postgres", action="store_true", help="fail rather than skip without PostgreSQL")
    args = ap.parse_args(argv)
    sizes = SMALL_SIZES if args.small else SIZES
    pg = postgres_url(args.postgres_url)
    problem = unreachable(pg)
    if problem and args.require_postgres:
        print(f"postgresql unreachable: {problem}", file=sys.stderr)
        return 1
    print(f"scale: sizes {', '.join(f'{s:,}' for s in sizes)} stored cases; times on this machine, medians")
    if problem:
        print(f"postgresql unreachable ({problem}): skipped")
    else:
        run_backend("postgresql", sizes, pg)
    run_backend("sqlite", sizes, None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
