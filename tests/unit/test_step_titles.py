"""Step and event titles read as words (issue 14: the step form offered "Stage1 meeting held")."""

from __future__ import annotations

import re

from casework.event_titles import event_title
from casework.lifecycle.complaint import complaint_steps
from casework.packs import Area

GLUED = re.compile(r"[A-Za-z][0-9]|_")


def test_every_step_and_event_title_of_every_pack_reads_as_words(areas: dict[str, Area]) -> None:
    seen = 0
    for area in areas.values():
        for event in area.events:
            assert not GLUED.search(event_title(event)), (area.id, event, event_title(event))
            seen += 1
        recorded: list[str] = []
        # Walk each complaint lifecycle as far as its steps go, checking every step offered on the way.
        for _ in range(20):
            steps = complaint_steps(area, recorded or ["complaint_received"])
            for step in steps:
                assert not GLUED.search(step.title), (area.id, step.event, step.title)
                seen += 1
            if not steps:
                break
            recorded.append(steps[0].event)
    assert seen > 50


def test_the_title_check_can_fail() -> None:
    assert GLUED.search("Stage1 meeting held") and GLUED.search("stage1_meeting_held")
