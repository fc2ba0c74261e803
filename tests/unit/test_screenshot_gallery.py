"""make screenshots names card kinds for tools/playground/gallery.py to send: each must be one the card
tests draw, so that the script cannot quietly skip a card (it is kept out of make test)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from casework.packs import Area
from tests.unit.test_cards import every_card

TOOLS = Path(__file__).resolve().parents[2] / "tools" / "playground"


def gallery_kinds() -> list[str]:
    script = (TOOLS / "screenshots.sh").read_text()
    found = re.search(r"for kind in (.*?); do", script, re.S)
    assert found, "screenshots.sh lists the gallery's card kinds in a for loop"
    return found.group(1).replace("\\\n", " ").split()


def test_every_kind_the_script_sends_is_a_card_the_tests_draw(areas: dict[str, Area]) -> None:
    kinds = gallery_kinds()
    assert "panel_decline" in kinds and "reminder_met" in kinds
    assert set(kinds) - set(every_card(areas)) == set()


def test_gallery_lists_the_card_kinds_and_refuses_an_unknown_one() -> None:
    listed = subprocess.run(
        [sys.executable, str(TOOLS / "gallery.py"), "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "panel_slots" in listed and "decision_notice_upheld" in listed
    refused = subprocess.run(
        [sys.executable, str(TOOLS / "gallery.py"), "no_such_card"], capture_output=True, text=True, check=False
    )
    assert refused.returncode == 2 and "no card kind no_such_card" in refused.stderr
