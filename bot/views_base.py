"""What every card module shares: the card type and how times and names read in words."""

from __future__ import annotations

from typing import Any

from casework.clock import when

Card = dict[str, Any]


def words(name: str) -> str:
    return name.replace("_", " ")


__all__ = ["Card", "when", "words"]
