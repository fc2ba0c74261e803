"""Who a turn is from: the registered person behind a Teams account, by (tenant id, Entra object id),
and the once-only link the roster's email may make in the home tenant (casework.commands.identity).

Every activity needs this answer before anything else, and a conversation sends many turns: a
chair working through a case, a card answered, a reminder opened. So a found person is remembered
for a few minutes, keyed by the pair, which saves a database read on every turn and, for accounts
not linked yet, a roster call to Teams.

Why this is safe: only the person's id is used from the answer (casework reads everything else,
roles included, fresh on every command), a pair is linked to one person and never moved, and people
are never deleted from the store. Only found people are remembered: someone registered a moment
after the bot told them it did not know them is recognised on their very next message.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Protocol

from casework.commands.identity import TeamsUser
from casework.records import Person

#: How long a found person is remembered (seconds): bounds how stale their display details can be.
IDENTITY_TTL_SECONDS = 300.0
#: How many Teams users are remembered at once; the least recently seen go first.
IDENTITY_CACHE_SIZE = 10_000

EmailOf = Callable[[str], Awaitable[str | None]]


class Recogniser(Protocol):
    """What :class:`casework.commands.identity.IdentityCommands` offers (the Casework service has it)."""

    def recognise(self, user: TeamsUser, home_tenant: str | None) -> Person | None: ...
    def link_by_roster_email(self, user: TeamsUser, email: str, home_tenant: str | None) -> Person | None: ...
    def name_from_teams(self, person: Person, user: TeamsUser, name: str | None, home_tenant: str | None) -> Person: ...


class Identities:
    def __init__(
        self,
        casework: Recogniser,
        home_tenant: str | None,
        ttl: float = IDENTITY_TTL_SECONDS,
        size: int = IDENTITY_CACHE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._casework = casework
        self._home = home_tenant
        self._ttl = ttl
        self._size = size
        self._clock = clock
        self._found: OrderedDict[TeamsUser, tuple[float, Person]] = OrderedDict()

    async def resolve(
        self,
        tenant_id: str | None,
        object_id: str | None,
        user_id: str | None,
        email_of: EmailOf,
        name: str | None = None,
    ) -> Person | None:
        """The registered person, or None. An activity without an Entra object id is nobody: an
        email is never an identity on its own. ``email_of`` asks the channel's roster for the Teams
        ``user_id``'s email; it is called only in the home tenant, for an account not linked yet."""
        if not object_id:
            return None
        user = TeamsUser((tenant_id or "").lower(), object_id)
        person = self._recall(user)
        if person is not None:
            return person
        person = await asyncio.to_thread(self._casework.recognise, user, self._home)
        if person is None and user_id and user.in_home(self._home):
            email = await email_of(user_id)
            if email:
                person = await asyncio.to_thread(self._casework.link_by_roster_email, user, email, self._home)
        if person is not None and name:
            # Once per remembered period: the name Teams shows for them, so cards name them.
            person = await asyncio.to_thread(self._casework.name_from_teams, person, user, name, self._home)
        if person is not None:
            self._remember(user, person)
        return person

    def _recall(self, key: TeamsUser) -> Person | None:
        entry = self._found.get(key)
        if entry is None:
            return None
        expires, person = entry
        if self._clock() >= expires:
            del self._found[key]
            return None
        self._found.move_to_end(key)
        return person

    def _remember(self, key: TeamsUser, person: Person) -> None:
        self._found[key] = (self._clock() + self._ttl, person)
        self._found.move_to_end(key)
        while len(self._found) > self._size:
            self._found.popitem(last=False)
