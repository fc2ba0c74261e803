from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from app.procedures import load_catalogue
from casework.clock import parse_time
from casework.events import Event
from casework.packs import Area
from casework.timeline import Timeline, evaluate

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def areas() -> dict[str, Area]:
    cat = load_catalogue()
    assert not cat.errors, [str(e) for e in cat.errors]
    return cat.areas


Run = Callable[..., Timeline]


@pytest.fixture()
def run(areas: dict[str, Area]) -> Run:
    def _run(area: str, process: str, now: str | None = None, **events: str | list[str]) -> Timeline:
        evs: list[Event] = []
        for name, when in events.items():
            for w in [when] if isinstance(when, str) else when:
                evs.append(Event(name, parse_time(w)))
        return evaluate(areas[area], process, evs, parse_time(now) if now else NOW)

    return _run


def due(tl: Timeline, rule_id: str) -> str | None:
    d = tl.get(rule_id).as_dict()["due"]
    assert d is None or isinstance(d, str)
    return d
