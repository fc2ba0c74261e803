"""bot.identity.Identities: who a turn is from, remembered only while it is safe to.

The store here is a hand-written fake of our own port (only the two people lookups), counting how
often it is asked, so that the tests can see when an answer came from memory.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.identity import Identities
from casework.records import Person


class People:
    def __init__(self) -> None:
        self.by_id: dict[str, Person] = {}
        self.reads = 0

    def add(self, person: Person) -> None:
        self.by_id[person.id] = person

    def get_person(self, person_id: str) -> Person | None:
        self.reads += 1
        return self.by_id.get(person_id)

    def find_person_by_email(self, email: str) -> Person | None:
        self.reads += 1
        return next((p for p in self.by_id.values() if p.email == email.lower()), None)


class Roster:
    """Stands in for the Teams member lookup: user id -> email, counting calls."""

    def __init__(self, emails: dict[str, str]) -> None:
        self.emails = emails
        self.calls = 0

    async def __call__(self, user_id: str) -> str | None:
        self.calls += 1
        return self.emails.get(user_id)


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def identities(people: People, **kw: Any) -> Identities:
    return Identities(people, **kw)  # type: ignore[arg-type]  # the fake has only the lookups used


def run(coro: Any) -> Any:
    return asyncio.run(coro)


ALEX = Person("oid-alex", "alex@example.org", "Alex", "police")


def test_found_by_object_id_once_then_remembered() -> None:
    people, roster = People(), Roster({})
    people.add(ALEX)
    ids = identities(people)
    assert run(ids.resolve("oid-alex", "29:alex", roster)) == ALEX
    assert run(ids.resolve("oid-alex", "29:alex", roster)) == ALEX
    assert people.reads == 1
    assert roster.calls == 0


def test_found_through_the_roster_and_remembered_by_teams_user_id() -> None:
    people, roster = People(), Roster({"29:alex": "ALEX@example.org"})
    people.add(ALEX)
    ids = identities(people)
    # No object id on the activity: the roster's email finds the person.
    assert run(ids.resolve(None, "29:alex", roster)) == ALEX
    assert run(ids.resolve(None, "29:alex", roster)) == ALEX
    assert roster.calls == 1
    assert people.reads == 1


def test_unknown_people_are_not_remembered() -> None:
    people, roster = People(), Roster({})
    ids = identities(people)
    assert run(ids.resolve("oid-alex", "29:alex", roster)) is None
    people.add(ALEX)  # registered by an administrator after the bot said it did not know them
    assert run(ids.resolve("oid-alex", "29:alex", roster)) == ALEX


def test_forgotten_after_the_time_to_live() -> None:
    people, roster, clock = People(), Roster({}), Clock()
    people.add(ALEX)
    ids = identities(people, ttl=300.0, clock=clock)
    run(ids.resolve("oid-alex", None, roster))
    clock.t += 299.0
    run(ids.resolve("oid-alex", None, roster))
    assert people.reads == 1
    renamed = Person("oid-alex", "alex@example.org", "Alex Wilber", "police")
    people.add(renamed)
    clock.t += 1.0
    assert run(ids.resolve("oid-alex", None, roster)) == renamed
    assert people.reads == 2


def test_bounded_least_recently_seen_go_first() -> None:
    people, roster = People(), Roster({})
    for i in range(3):
        people.add(Person(f"oid-{i}", f"p{i}@example.org", f"P{i}", "health"))
    ids = identities(people, size=2)
    for i in range(3):
        run(ids.resolve(f"oid-{i}", None, roster))
    assert people.reads == 3
    run(ids.resolve("oid-2", None, roster))  # still remembered
    assert people.reads == 3
    run(ids.resolve("oid-0", None, roster))  # pushed out by oid-2
    assert people.reads == 4
