"""The casework service: one method per command, each checking who may act and in what state.

Entry points (the Teams bot, the command line) translate their input into these calls and render
what comes back; no business rule lives in a handler, a card or a job (ARCHITECTURE: Style).
Each state change writes an audit entry; notices say who must hear about it, and the edge decides
how (a proactive card, or email when the person cannot be reached in Teams).
"""

from __future__ import annotations

from dataclasses import dataclass

from casework.commands.attendance import AttendanceCommands
from casework.commands.complaint import COMPLAINT_GROUNDS, OUTCOMES, STEP_EVENTS, ComplaintCommands, complaint_stage
from casework.commands.corrections import CorrectionCommands
from casework.commands.dissent import MAX_TEXT, MIN_REASON, DissentCommands
from casework.commands.duty import DutyCommands
from casework.commands.identity import IdentityCommands
from casework.commands.meetings import MeetingCommands
from casework.commands.privacy import PrivacyCommands
from casework.commands.registry import RegistryCommands
from casework.commands.rules_change import RulesChangeCommands
from casework.overview import OverviewQueries
from casework.records import Notice
from casework.results import CaseView, Changed, DissentRaised, Due


@dataclass
class Casework(
    DissentCommands,
    ComplaintCommands,
    MeetingCommands,
    CorrectionCommands,
    DutyCommands,
    AttendanceCommands,
    RegistryCommands,
    IdentityCommands,
    PrivacyCommands,
    RulesChangeCommands,
    OverviewQueries,
):
    """The casework service: one method per command (``casework.commands``) and the queries."""


__all__ = [
    "COMPLAINT_GROUNDS",
    "MAX_TEXT",
    "MIN_REASON",
    "OUTCOMES",
    "STEP_EVENTS",
    "CaseView",
    "Casework",
    "Changed",
    "DissentRaised",
    "Due",
    "Notice",
    "complaint_stage",
]
