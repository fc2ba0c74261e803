"""Lifecycles as explicit state machines, from the seeds (ARCHITECTURE: Writing).

- :mod:`casework.lifecycle.spec`: the data of an area's complaint lifecycle (its pack's
  ``[lifecycle.complaint]`` table) and its validation; :mod:`casework.packs` puts it on ``Area``.
- :mod:`casework.lifecycle.complaint`: which complaint steps are valid now, the check of one step and
  of a correction's withdrawal (000 §3; 001 5.7.12-5.7.39; 002 1a-1d; 004 8.17; SI 2006/1738).
- :mod:`casework.lifecycle.dissent`: a professional's dissent from raised to reconvened
  (001 5.7.4-5.7.7; 004 8.13).

A step not valid now is refused with :class:`StepNotValid`, naming what can be done next and citing
the paragraph. This module imports nothing of casework but its errors, so that ``casework.packs`` can
import :mod:`casework.lifecycle.spec` without an import cycle.
"""

from __future__ import annotations

from casework.errors import CaseworkError


class StepNotValid(CaseworkError):
    """A lifecycle step (a complaint event, a dissent action, or a correction's withdrawal) that is not
    valid in the case's present state. The message names the step(s) due next and cites the seed.

    ``step`` is the refused event or action; ``allowed`` what is valid now (event names or actions);
    ``depends`` names the later recorded step that stops a withdrawal, when that is the reason.
    """

    def __init__(self, message: str, step: str, allowed: tuple[str, ...] = (), depends: str | None = None) -> None:
        super().__init__(message)
        self.step = step
        self.allowed = allowed
        self.depends = depends


__all__ = ["StepNotValid"]
