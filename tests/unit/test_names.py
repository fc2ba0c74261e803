"""The gentle name check (issue 14 item 7), on phrases of the kind professionals and complaints
managers write. Each list is the check's specification: a phrase moved from one to the other is a
change of behaviour, visible in review."""

from __future__ import annotations

import pytest

from casework.names import possible_name

LOOKS_LIKE_A_NAME = [
    "Jane Smith was not seen alone",
    "Mother (Sarah Jones) was not invited to the conference",
    "The views of Tyler Brown were not sought",
    "Mr Patel disputes the category of neglect",
    "Mrs O'Neill was not given the report in advance",
    "Dad, Kevin Walsh, was excluded from the meeting",
    "Concerns about Jayden Clarke-Hughes were minimised",
    "the report says Amira Hassan attends nursery three days a week",
    "Ms Kowalski asked for an interpreter and none was booked",
    "Grandmother Pat Evans has offered kinship care",
    "No one spoke to Liam about his wishes; Chloe Roberts is his sister",
    "Dr Okonkwo's letter was not considered",
    "the plan ignores the risk from Darren Mills, the mother's partner",
    "Ellie-May Turner is not registered with a GP",
    "Complaint from the parent: Sophie Taylor says she was not listened to",
]

NO_NAME = [
    "Sussex Police were not consulted before the decision",
    "The Child Protection Plan threshold was not met",
    "Health Visitor report not shared with the conference",
    "The Initial Child Protection Conference was held early",
    "West Sussex County Council policy was not followed",
    "Brighton and Hove Children's Services did not attend",
    "Section 47 enquiries were incomplete",
    "Pan-Sussex procedures 5.7.4 were not applied",
    "The decision does not reflect the risk of neglect",
    "CPC-123: the category should be emotional abuse",
    "Designated Safeguarding Lead was not invited",
    "threshold not met; the family engaged with Early Help",  # "Early Help" is a service
    "The Chair did not allow the school to speak",
    "Review Conference on Monday 14 December was too soon",
    "NHS Trust Safeguarding Team disagree with the plan",
    "the mother and father were not given the report in time",
]


@pytest.mark.parametrize("text", LOOKS_LIKE_A_NAME)
def test_phrases_with_a_name_ask_for_confirmation(text: str) -> None:
    assert possible_name(text) is not None, text


@pytest.mark.parametrize("text", NO_NAME)
def test_phrases_without_a_name_pass(text: str) -> None:
    assert possible_name(text) is None, (text, possible_name(text))


def test_a_registered_professionals_own_name_is_not_flagged() -> None:
    text = "Alex Wilber (police) and Megan Bowen (health) both disagreed"
    assert possible_name(text) == "Alex Wilber"
    assert possible_name(text, ["Alex Wilber", "Megan Bowen"]) is None
    assert possible_name(text, ["Alex Wilber"]) == "Megan Bowen"


def test_what_it_found_is_the_words_that_look_like_a_name() -> None:
    assert possible_name("Mother (Sarah Jones) was not invited") == "Sarah Jones"
    assert possible_name("Mr Patel disputes it") == "Mr Patel"
