"""bot.identity.Identities: who a turn is from, remembered only while it is safe to.

The casework here is a hand-written fake of our own port (the two identity calls, with the simplest
rules), counting how often it is asked, so that the tests can see when an answer came from memory.
The rules themselves (pairs, home tenant, once-only links) are tested on the real store in
tests/integration/test_identity_links.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.identity import Identities
from casework.commands.identity import ANY_TENANT, TeamsUser
from casework.records import Person


class People:
    def __init__(self) -> None:
        self.by_id: dict[str, Person] = {}
        self.reads = 0

    def add(self, person: Person) -> None:
        self.by_id[person.id] = person

    def recognise(self, user: TeamsUser, home_tenant: str | None) -> Person | None:
        self.reads += 1
        return self.by_id.get(user.object_id)

    def link_by_roster_email(self, user: TeamsUser, email: str, home_tenant: str | None) -> Person | None:
        self.reads += 1
        return next((p for p in self.by_id.values() if p.email == email.lower()), None)

    def name_from_teams(self, person: Person, user: TeamsUser, name: str | None, home_tenant: str | None) -> Person:
        return person


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


def identities(people: People, home: str | None = ANY_TENANT, **kw: Any) -> Identities:
    return Identities(people, home, **kw)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


ALEX = Person("oid-alex", "alex@example.org", "Alex", "police")


def test_found_by_object_id_once_then_remembered() -> None:
    people, roster = People(), Roster({})
    people.add(ALEX)
    ids = identities(people)
    assert run(ids.resolve("t1", "oid-alex", "29:alex", roster)) == ALEX
    assert run(ids.resolve("t1", "oid-alex", "29:alex", roster)) == ALEX
    assert people.reads == 1
    assert roster.calls == 0


def test_found_through_the_roster_and_remembered() -> None:
    people, roster = People(), Roster({"29:alex": "ALEX@example.org"})
    people.add(ALEX)
    ids = identities(people)
    # An account not linked yet: the roster's email finds the person (and links it, in casework).
    assert run(ids.resolve("t1", "oid-new", "29:alex", roster)) == ALEX
    assert run(ids.resolve("t1", "oid-new", "29:alex", roster)) == ALEX
    assert roster.calls == 1
    assert people.reads == 2  # recognise, then the link; the second turn came from memory


def test_unknown_people_are_not_remembered() -> None:
    people, roster = People(), Roster({})
    ids = identities(people)
    assert run(ids.resolve("t1", "oid-alex", "29:alex", roster)) is None
    people.add(ALEX)  # registered by an administrator after the bot said it did not know them
    assert run(ids.resolve("t1", "oid-alex", "29:alex", roster)) == ALEX


def test_forgotten_after_the_time_to_live() -> None:
    people, roster, clock = People(), Roster({}), Clock()
    people.add(ALEX)
    ids = identities(people, ttl=300.0, clock=clock)
    run(ids.resolve("t1", "oid-alex", None, roster))
    clock.t += 299.0
    run(ids.resolve("t1", "oid-alex", None, roster))
    assert people.reads == 1
    renamed = Person("oid-alex", "alex@example.org", "Alex Wilber", "police")
    people.add(renamed)
    clock.t += 1.0
    assert run(ids.resolve("t1", "oid-alex", None, roster)) == renamed
    assert people.reads == 2


def test_bounded_least_recently_seen_go_first() -> None:
    people, roster = People(), Roster({})
    for i in range(3):
        people.add(Person(f"oid-{i}", f"p{i}@example.org", f"P{i}", "health"))
    ids = identities(people, size=2)
    for i in range(3):
        run(ids.resolve("t1", f"oid-{i}", None, roster))
    assert people.reads == 3
    run(ids.resolve("t1", "oid-2", None, roster))  # still remembered
    assert people.reads == 3
    run(ids.resolve("t1", "oid-0", None, roster))  # pushed out by oid-2
    assert people.reads == 4


def test_no_object_id_is_nobody_and_the_roster_is_not_asked() -> None:
    people, roster = People(), Roster({"29:alex": "alex@example.org"})
    people.add(ALEX)
    assert run(identities(people).resolve("t1", None, "29:alex", roster)) is None
    assert (roster.calls, people.reads) == (0, 0)


def test_roster_asked_only_in_the_home_tenant() -> None:
    people, roster = People(), Roster({"29:alex": "alex@example.org"})
    people.add(ALEX)
    ids = identities(people, home="home-tenant")
    assert run(ids.resolve("other-tenant", "oid-new", "29:alex", roster)) is None
    assert roster.calls == 0
    assert run(ids.resolve("HOME-TENANT", "oid-new", "29:alex", roster)) == ALEX
    assert roster.calls == 1


def test_remembered_per_tenant() -> None:
    """The same object id in another tenant is another account: not answered from memory."""
    people, roster = People(), Roster({})
    people.add(ALEX)
    ids = identities(people)
    run(ids.resolve("t1", "oid-alex", None, roster))
    run(ids.resolve("t2", "oid-alex", None, roster))
    assert people.reads == 2


def test_display_names_from_teams_are_made_safe_to_show() -> None:
    from casework.commands.identity import NAME_LIMIT, display_name

    assert display_name("  Alex\u200b  Wilber\n") == "Alex Wilber"
    assert display_name("Alex\x00 Wilber\u202e") == "Alex Wilber"
    assert display_name(None) == "" and display_name("\n\t") == ""
    assert len(display_name("x" * 500)) == NAME_LIMIT
