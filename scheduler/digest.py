"""The complaints managers' digest (ARCHITECTURE: Flows 5): one email per area, working-day mornings.

Open complaint cases by stage, what falls due in the next five working days, what is overdue and with
whom, cases closed since the last digest (the previous working day's digest time) and the on-time rate
of each stage's duty over the last 12 months. The HTML is table-based with inline styles and its
bars are table cells, so it renders in Outlook without images; a plain-text part goes with it.

Case references only, as everywhere: no child or family name reaches a digest. "With whom" names the
professional responsible (their display name, else their email), which is what the manager acts on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from casework.citations import Citation, cite
from casework.clock import LONDON, add_months, end_of_day, spoken_date, when
from casework.events import Event
from casework.packs import Area
from casework.ports import CaseStore, EmailOutbox
from casework.records import CaseFile, Person
from casework.service import complaint_stage
from casework.timeline import Deadline, evaluate

log = logging.getLogger("cpc.digest")

TEMPLATES = Path(__file__).resolve().parent / "templates"
STAGES = ("Stage 1", "Stage 2", "Panel")
STAGE_COLOURS = {"Stage 1": "#2b6cb0", "Stage 2": "#b7791f", "Panel": "#9b2c2c"}
HORIZON_WORKING_DAYS = 5
# Items drawn per list; the rest are counted ("and 212 more"): the email stays small however many are
# open. ``cpc digest --all`` draws every item.
CAP = 25
# How far back the on-time rates look for complaints: the 12 months, and six more for those received
# before the year whose steps fell due in it.
RATES_MONTHS = 18

_env = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    percent: int
    colour: str


@dataclass(frozen=True)
class Item:
    """One row of the digest. ``cited`` is the rule's citation by procedure name and paragraph (each
    linked in the HTML where its address is known), never the seed file the pack cites."""

    reference: str
    title: str
    due: str
    who: str
    cited: tuple[Citation, ...] = ()
    at: datetime | None = None

    @property
    def source(self) -> str:
        """The citation as plain text: the procedure's name and paragraph, its address after it."""
        return "; ".join(c.text + (f" <{c.url}>" if c.url else "") for c in self.cited)


@dataclass(frozen=True)
class Rate:
    title: str
    on_time: int
    total: int
    percent: int


@dataclass
class Digest:
    area_id: str
    area_name: str
    day: date
    since: datetime
    open_total: int = 0
    by_stage: list[Bar] = field(default_factory=list)
    due_soon: list[Item] = field(default_factory=list)
    overdue: list[Item] = field(default_factory=list)
    closed: list[Item] = field(default_factory=list)
    rates: list[Rate] = field(default_factory=list)
    cap: int | None = CAP

    def shown(self, items: list[Item]) -> list[Item]:
        """The items of a list that are drawn (the first ``cap``)."""
        return items if self.cap is None else items[: self.cap]

    def more(self, items: list[Item]) -> int:
        """How many items of a list are counted but not drawn."""
        return len(items) - len(self.shown(items))

    @property
    def subject(self) -> str:
        return f"Complaints digest: {self.area_name}, {spoken_date(self.day)}"


STAGE_LABELS = {"stage1": "Stage 1", "stage2": "Stage 2", "panel": "Panel"}


def stage_of(case: CaseFile) -> str:
    """Where a complaint case is (the rule is casework's :func:`complaint_stage`), as the digest labels it."""
    return STAGE_LABELS[complaint_stage({e.name for e in case.events})]


def previous_digest(area: Area, today: date, at: time) -> datetime:
    """When the last digest went: the previous working day at the digest time."""
    return datetime.combine(area.calendar.subtract_working_days(today, 1), at, tzinfo=LONDON)


def _who(d: Deadline, case: CaseFile, holders: Mapping[str, list[Person]], people: Mapping[str, Person]) -> str:
    role = d.rule.responsible
    found: list[Person] = []
    if role == "chair" and case.conference.chair_id:
        p = people.get(case.conference.chair_id)
        found = [p] if p else []
    elif role == "professional":
        found = [p for a in case.conference.attendees if (p := people.get(a.person_id))]
    else:
        found = holders.get(role, [])
    label = role.replace("_", " ")
    names = ", ".join(p.display_name or p.email for p in found[:3]) + (" and others" if len(found) > 3 else "")
    return f"{names} ({label})" if names else f"no {label} recorded"


def build_digest(store: CaseStore, area: Area, now: datetime, since: datetime, cap: int | None = CAP) -> Digest:
    """The digest of one area as at ``now`` (reads the store; computes with casework timelines).

    It reads only the complaints it can report (issue 12): those still open, those closed since the
    last digest, and those received in the last :data:`RATES_MONTHS` months for the on-time rates
    (a duty due in the last 12 months belongs to a complaint received in them or shortly before).
    The cases are loaded together, and the people and role holders named once for the whole digest.
    ``cap`` bounds each list as drawn (the counts stay whole); None draws every item.
    """
    today = now.astimezone(LONDON).date()
    digest = Digest(area.id, area.name, today, since, cap=cap)
    if "complaint" not in area.processes:
        digest.by_stage = [Bar(s, 0, 0, STAGE_COLOURS[s]) for s in STAGES]
        return digest
    horizon = end_of_day(area.calendar.add_working_days(today, HORIZON_WORKING_DAYS))
    year_ago = datetime.combine(add_months(today, -12), time(0, 0), tzinfo=LONDON)
    received_since = datetime.combine(add_months(today, -RATES_MONTHS), time(0, 0), tzinfo=LONDON)
    cases = store.load_cases(store.complaint_cases(area.id, since, received_since))
    holders = store.role_holders(area.id)
    people = store.people_by_ids(
        pid for c in cases for pid in (c.conference.chair_id, *(a.person_id for a in c.conference.attendees)) if pid
    )
    stage_counts = dict.fromkeys(STAGES, 0)
    tallies: dict[str, list[int]] = {}
    titles: dict[str, str] = {}
    for case in cases:
        reference = case.conference.reference
        timeline = evaluate(area, "complaint", [Event(e.name, e.at) for e in case.events], now)
        is_open = any(not c.stage.startswith("closed") for c in case.complaints)
        if is_open:
            stage_counts[stage_of(case)] += 1
        else:
            closed_at = max((e.at for e in case.events if e.name == "closed"), default=None)
            if closed_at is not None and closed_at >= since:
                outcome = next((c.stage.split(":", 1)[1] for c in case.complaints if ":" in c.stage), "closed")
                digest.closed.append(Item(reference, outcome.replace("_", " "), when(closed_at), ""))
        for d in timeline.deadlines:
            judged = d.status in ("met", "late", "missed")
            if judged and d.rule.kind == "duty" and d.due is not None and year_ago <= d.due <= now:
                tally = tallies.setdefault(d.rule.id, [0, 0])
                titles[d.rule.id] = d.title
                tally[0] += d.status == "met"
                tally[1] += 1
            if not is_open or not d.applicable or d.due is None:
                continue
            if d.status == "missed" and d.rule.kind == "duty":
                who = _who(d, case, holders, people)
                digest.overdue.append(Item(reference, d.title, when(d.due), who, cite(d.rule.source, area), d.due))
            elif d.status == "pending" and d.due <= horizon:
                who = _who(d, case, holders, people)
                digest.due_soon.append(Item(reference, d.title, when(d.due), who, cite(d.rule.source, area), d.due))
    digest.open_total = sum(stage_counts.values())
    biggest = max(stage_counts.values(), default=0) or 1
    digest.by_stage = [Bar(s, n, round(100 * n / biggest), STAGE_COLOURS[s]) for s, n in stage_counts.items()]
    digest.rates = [
        Rate(titles[rid], on, total, round(100 * on / total)) for rid, (on, total) in sorted(tallies.items()) if total
    ]
    far = datetime.max.replace(tzinfo=LONDON)
    digest.due_soon.sort(key=lambda i: (i.at or far, i.reference))
    digest.overdue.sort(key=lambda i: (i.at or far, i.reference))
    return digest


def render_digest(digest: Digest) -> tuple[str, str]:
    """(HTML, plain text) of one digest."""
    html = _env.get_template("digest.html").render(d=digest)
    text = _env.get_template("digest.txt").render(d=digest)
    return html, text


@dataclass
class DigestJob:
    """Sends every complaints manager one digest per area they cover, on that area's working days."""

    store: CaseStore
    areas: Mapping[str, Area]
    outbox: EmailOutbox
    now: Callable[[], datetime]
    at: time = time(8, 0)

    def send_all(self) -> int:
        now = self.now()
        today = now.astimezone(LONDON).date()
        sent = 0
        for area in self.areas.values():
            if not area.calendar.is_working_day(today):
                continue
            managers = self.store.people_with_role("complaints_manager", area.id)
            if not managers:
                continue
            digest = build_digest(self.store, area, now, previous_digest(area, today, self.at))
            html, text = render_digest(digest)
            for m in managers:
                # Keyed by area, day and person: several instances (or a re-run) write one message.
                self.outbox.send_email(m.email, digest.subject, text, html, f"digest-{area.id}-{today}-{m.id}")
                sent += 1
        log.info("digest: %d emails", sent)
        return sent

    async def job(self) -> None:
        try:
            await asyncio.to_thread(self.send_all)
        except Exception as exc:
            log.error("digest failed: %s", type(exc).__name__)
