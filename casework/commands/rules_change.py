"""Applying changed rules to every stored case: ``cpc procedures apply``.

Why a command of its own: the 06:30 replan and ``deadlines`` read only the cases still judged open
(casework.openness), and a case judged closed stays closed until its record changes. That is sound
while the rules stand still. When an authority changes a pack (a longer window, a new duty), a closed
case may have open work under the new rules, and only reading every case again finds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from casework.commands.base import CaseworkBase


@dataclass(frozen=True, slots=True)
class AppliedRules:
    """What applying the packs' current rules did (or, in a dry run, would do): the areas, the cases
    read, how many are open afterwards, how many went from closed to open and back, and how many
    reminders go at once to the cases opened again."""

    areas: list[str]
    replanned: int
    open: int
    opened: int = 0
    closed: int = 0
    due_at_once: int = 0
    dry_run: bool = False


class RulesChangeCommands(CaseworkBase):
    def apply_rules(self, areas: Sequence[str] | None = None, dry_run: bool = False) -> AppliedRules:
        """Replan every stored case of these areas (every area for None), closed ones too, under the
        rules the packs give now, and judge each open or closed again.

        A real run and a dry run count the same way, from the plans; a dry run stores nothing. A case
        opened again by a new duty gets its overdue card at once (one per duty and person: the
        catch-up of casework.reminders), so an authority should know how many before it applies a
        change to ten years of cases.
        """
        chosen = sorted(self.areas) if areas is None else sorted(set(areas) & set(self.areas))
        before = set(self.store.open_cases_in(chosen))
        references = self.store.cases_in(chosen)
        now = self.now()
        open_after: set[str] = set()
        due_at_once = 0
        for cases, lookups in self._batches(references):
            plans = [(case, self._plan(case, lookups[case.conference.area])) for case in cases]
            if not dry_run:
                with self.store.unit_of_work() as uow:  # a batch a transaction, as the morning replan
                    for case, plan in plans:
                        self._store_plan(case, plan)
                    uow.commit()
            for case, plan in plans:
                reference = case.conference.reference
                if plan.still_open:
                    open_after.add(reference)
                if plan.still_open and reference not in before:
                    due_at_once += sum(1 for r in plan.reminders if r.state == "pending" and r.send_at <= now)
        opened, closed = len(open_after - before), len(before - open_after)
        return AppliedRules(chosen, len(references), len(open_after), opened, closed, due_at_once, dry_run)
