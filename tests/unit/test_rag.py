from __future__ import annotations

from casework.clock import parse_time
from casework.timeline import rag
from tests.unit.conftest import Run


def test_rag_colours(run: Run) -> None:
    # Decision due Tue 5 Jan 2027 (see the worked example). Two working days before it:
    # Thu 31 Dec 2026 + 2 wd = Mon 4 Jan (1), Tue 5 Jan (2) -> amber from Thu 31 Dec.
    events = {"conference_held": "2026-12-17T14:00", "dissent_raised": "2026-12-18T10:00"}
    d = run("sussex", "dissent", now="2026-12-30T12:00", **events).get("dissent-decision")
    assert rag(d, parse_time("2026-12-30T12:00")) == "green"
    d = run("sussex", "dissent", now="2026-12-31T12:00", **events).get("dissent-decision")
    assert rag(d, parse_time("2026-12-31T12:00")) == "amber"
    d = run("sussex", "dissent", now="2027-01-06T00:00:01", **events).get("dissent-decision")
    assert rag(d, parse_time("2027-01-06T00:00:01")) == "red"
    d = run("sussex", "dissent", now="2027-01-06T00:00:01", **events).get("dissent-reconvene")
    assert rag(d, parse_time("2027-01-06T00:00:01")) == "grey"
