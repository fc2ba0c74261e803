"""A safeguarding partnership's procedure pack once validated: an :class:`Area` (ARCHITECTURE: Domain vocabulary).

An area names its nation (whose bank holidays apply) and its local closure days, its rules, the
``[panel]`` composition rules (000 §3 Stage 2; 001 5.7.23-5.7.25; 002 1b), its criteria, its reminder
plans and its complaint lifecycle. Parsing and validating the TOML that becomes one is
:mod:`casework.packs`; every other module reads only this.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from casework.calendar import WorkingCalendar, calendar_for
from casework.citations import Document
from casework.errors import UnknownProcess
from casework.events import CANONICAL_EVENTS
from casework.lifecycle.spec import DEFAULT_LIFECYCLE, ComplaintLifecycle
from casework.references import DEFAULT_PATTERN, normalise_reference
from casework.reminder_plans import DEFAULT_SETTINGS, ReminderSettings
from casework.rules import PROCESSES, Rule

AGENCY_TYPES: tuple[str, ...] = (
    "police",
    "social_care",
    "education",
    "health",
    "probation",
    "local_authority",
    "voluntary",
    "other",
)


@dataclass(frozen=True, slots=True)
class PanelRules:
    """Inter-agency panel composition (000 §3 Stage 2; 001 5.7.23-5.7.25; 002 1b)."""

    minimum_members: int
    required_agencies: tuple[str, ...]
    required_count: int
    required_source: str
    minimum_source: str
    no_line_management: bool = True
    no_line_management_source: str = ""
    chair_least_involved: bool = True
    chair_source: str = ""
    papers: tuple[str, ...] = ()
    papers_source: str = ""
    letter_time: str | None = None


@dataclass(frozen=True, slots=True)
class Criterion:
    id: str
    text: str
    source: str


@dataclass(frozen=True)
class Area:
    id: str
    name: str
    nation: str
    seed: str
    origin: str
    rules: tuple[Rule, ...]
    extra_events: tuple[str, ...] = ()
    closure_days: frozenset[date] = frozenset()
    hours_mean_working_days: bool = False
    # How long a closed case's free text is kept (``[area] retention``, default 6 years: see
    # casework.commands.privacy), after which ``cpc retention apply`` removes it.
    retention_months: int = 72
    meetings: Mapping[str, tuple[date, ...]] = field(default_factory=dict)
    panel: PanelRules | None = None
    criteria: tuple[Criterion, ...] = ()
    extends: str | None = None
    notes: tuple[str, ...] = ()
    # The optional [reminders] table (casework.reminder_pack.parse_reminders documents its keys): the
    # reminder plans of this area's duties and windows, when they differ from the defaults.
    reminders: ReminderSettings = DEFAULT_SETTINGS
    # The optional [lifecycle.complaint] table (casework.lifecycle.spec documents it): which complaint
    # step may follow which, from the seed; inherited from the parent pack, else the default.
    complaint_lifecycle: ComplaintLifecycle = DEFAULT_LIFECYCLE
    # The procedure this pack encodes, as [area] names it (source_title, source_url, source_cited_as):
    # None when the pack gives no title. ``own_documents`` are the keys of this pack's document and
    # its parents'; ``documents`` every document a citation may name (casework.citations): this
    # pack's and its parents', and once the packs are resolved together, every loaded pack's.
    document: Document | None = None
    own_documents: tuple[str, ...] = ()
    documents: Mapping[str, Document] = field(default_factory=dict)
    # The form of this authority's case references (casework.references): [area] reference_pattern,
    # inherited from the parent pack, else CPC- and digits; CPC_REFERENCE_PATTERN overrides it.
    reference_pattern: str = DEFAULT_PATTERN

    # Derived once per area (cached_property writes the instance dict, which a frozen dataclass allows):
    # a timeline is evaluated thousands of times against the same area.
    @cached_property
    def calendar(self) -> WorkingCalendar:
        return calendar_for(self.nation, self.closure_days)

    @cached_property
    def events(self) -> frozenset[str]:
        return frozenset(CANONICAL_EVENTS) | frozenset(self.extra_events)

    @cached_property
    def processes(self) -> tuple[str, ...]:
        return tuple(p for p in PROCESSES if any(r.process == p for r in self.rules))

    @cached_property
    def _by_process(self) -> dict[str, tuple[Rule, ...]]:
        return {p: tuple(r for r in self.rules if r.process == p) for p in self.processes}

    def rules_for(self, process: str) -> tuple[Rule, ...]:
        rules = self._by_process.get(process)
        if not rules:
            raise UnknownProcess(process, self.id, list(self.processes))
        return rules

    def reference(self, text: str) -> str:
        """A reference of this area's form, upper-cased; ``BadReference`` (showing the form) otherwise."""
        return normalise_reference(text, self.reference_pattern)

    def rule(self, rule_id: str) -> Rule | None:
        """The rule with this id; ``rule#n`` (the n-th occurrence of a repeating rule) gives its rule."""
        base = rule_id.partition("#")[0]
        return next((r for r in self.rules if r.id == base), None)


def typed_reference(text: str, areas: Iterable[Area]) -> str:
    """A reference typed before its conference is found (so its area is not known): it must be of the
    form of one of the areas', so that a name typed as a reference is refused before any lookup."""
    return normalise_reference(text, [a.reference_pattern for a in areas])
