"""Events in words: what a complaints manager reads aloud instead of ``stage2_letter_received``.

Every explanation names the event that started a clock and the one that met it. Each event has two
forms: ``title`` ("Stage 2 letter received"), for a list or a "Done:" line, and ``phrase`` ("receipt
of the Stage 2 letter"), to follow "within 20 working days of". A pack's own events are listed here
too; an event with no entry falls back to its name in words, and a test keeps every pack's events
listed, so the fallback is only for a pack a local authority adds itself.
"""

from __future__ import annotations

from collections.abc import Mapping

# event -> (title, phrase)
_WORDS: Mapping[str, tuple[str, str]] = {
    "strategy_discussion": ("Strategy discussion held", "the strategy discussion"),
    "s47_strategy_discussion": (
        "Strategy discussion that started the section 47 enquiries",
        "the strategy discussion at which the section 47 enquiries started",
    ),
    "conference_scheduled": ("Conference date set", "the date set for the conference"),
    "conference_held": ("Conference held", "the conference"),
    "conference_ended": ("Conference ended", "the end of the conference"),
    "record_received": ("Conference record received", "receipt of the conference record"),
    "minutes_requested": ("Minutes requested", "the request for the minutes"),
    "minutes_received": ("Minutes received", "receipt of the minutes"),
    "expected_delivery": ("Expected date of delivery", "the expected date of delivery"),
    "prebirth_conference_held": ("Pre-birth conference held", "the pre-birth conference"),
    "birth": ("Birth", "the birth"),
    "review_held": ("Review conference held", "the review conference"),
    "dissent_raised": ("Dissent raised", "the dissent being raised"),
    "dissent_recorded": ("Dissent recorded by the chair", "the chair recording the dissent"),
    "dissent_upheld": ("Dissent upheld", "the decision to uphold the dissent"),
    "dissent_not_upheld": ("Dissent not upheld", "the decision not to uphold the dissent"),
    "concern_raised": ("Concern raised", "the concern being raised"),
    "complaint_received": ("Complaint received", "receipt of the complaint"),
    "stage1_meeting_held": ("Stage 1 meeting held", "the Stage 1 meeting"),
    "stage1_response_sent": ("Stage 1 response sent", "the Stage 1 response being sent"),
    "stage1_response_received": ("Stage 1 response received", "receipt of the Stage 1 response"),
    "stage2_requested": ("Stage 2 requested", "the request for Stage 2"),
    "stage2_meeting_held": ("Stage 2 meeting held", "the Stage 2 meeting"),
    "stage2_letter_sent": ("Stage 2 letter sent", "the Stage 2 letter being sent"),
    "stage2_letter_received": ("Stage 2 letter received", "receipt of the Stage 2 letter"),
    "stage3_requested": ("Stage 3 requested", "the request for Stage 3"),
    "panel_held": ("Panel held", "the panel"),
    "panel_letter_sent": ("Panel letter sent", "the panel's letter being sent"),
    "closed": ("Complaint closed with its outcome", "the complaint being closed"),
    # London (004)
    "decision_letter_sent": ("Decision letter and outline plan sent", "the decision letter being sent"),
    "core_group_held": ("First core group held", "the first core group meeting"),
    "record_sent": ("Conference record sent", "the conference record being sent"),
    "amendments_received": ("Amendments to the record received", "receipt of amendments to the record"),
    "review_scheduled": ("Review conference date set", "the date set for the review conference"),
    "review_extension_authorised": (
        "Extension of the review date authorised in writing",
        "the written authorisation to extend the review date",
    ),
    "report_shared_with_family": ("Report shared with the family", "the report being shared with the family"),
    "report_to_chair": ("Report given to the chair", "the report reaching the chair"),
    "agency_reports_circulated": ("Agency reports circulated", "the agency reports being circulated"),
    "exclusion_representation_made": (
        "Representation to exclude a parent made",
        "the representation to exclude a parent",
    ),
    "transfer_in_notified": (
        "Notice that the child has moved into the borough",
        "the notice that the child has moved into the borough",
    ),
    "cp_plan_ended": ("Child protection plan ended", "the end of the child protection plan"),
    "cin_plan_made": ("Child in need plan made", "the child in need plan being made"),
    "cin_review_held": ("Child in need plan reviewed", "the review of the child in need plan"),
    # Pan-Sussex (001) and HIPS (000)
    "managers_informed": ("Managers told of the complaint", "the managers being told of the complaint"),
    # SI 2006/1738 (england-statutory)
    "stage1_extended": ("Stage 1 extension agreed", "the Stage 1 extension being agreed"),
    "stage2_extended": ("Stage 2 extension agreed", "the Stage 2 extension being agreed"),
    "panel_report_received": ("Panel's report received", "receipt of the panel's report"),
    "authority_response_sent": ("Authority's response sent", "the authority's response being sent"),
    # City and Hackney (003)
    "escalated_to_line_manager": ("Raised with the line manager", "the concern being raised with the line manager"),
    "referred_to_heads_of_service": (
        "Referred to the Head of Safeguarding",
        "the referral to the Head of Safeguarding",
    ),
    "referred_to_qa_subcommittee": (
        "Referred to the Quality Assurance sub-committee",
        "the referral to the Quality Assurance sub-committee",
    ),
    "qa_subcommittee_considered": (
        "Considered by the Quality Assurance sub-committee",
        "the Quality Assurance sub-committee's consideration",
    ),
}


def is_listed(event: str) -> bool:
    """Whether the event has its words here (a test requires it of every shipped pack's events)."""
    return event in _WORDS


def event_title(event: str) -> str:
    """ "Stage 2 letter received": for lists and "Done:" lines."""
    words = _WORDS.get(event)
    return words[0] if words else event.replace("_", " ").capitalize()


def event_phrase(event: str) -> str:
    """ "receipt of the Stage 2 letter": to follow "within 20 working days of"."""
    words = _WORDS.get(event)
    return words[1] if words else event.replace("_", " ")


def either(events: tuple[str, ...] | list[str]) -> str:
    """ "receipt of the minutes or receipt of the conference record"."""
    return " or ".join(event_phrase(e) for e in events)
