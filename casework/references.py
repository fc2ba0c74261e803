"""Case references: the only way a case is named anywhere in the system.

A reference must contain a digit and only letters, digits, '-', '/' and '_', so that a child's
or family's name typed by mistake is refused rather than stored.
"""

from __future__ import annotations

import re

from casework.errors import CaseworkError

_REF = re.compile(r"^(?=.*\d)[A-Za-z0-9][A-Za-z0-9/_-]{1,39}$")


class BadReference(CaseworkError):
    def __init__(self, text: str) -> None:
        super().__init__(
            "a case reference has letters, digits and '-', with at least one digit, for example CPC-123; "
            "names are never used"
        )
        self.text = text


def normalise_reference(text: str) -> str:
    """Upper-case and validate; refuse anything that is not reference-shaped."""
    ref = text.strip().upper()
    if not _REF.match(ref):
        raise BadReference(text)
    return ref
