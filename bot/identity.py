"""Who a turn is from: the registered person behind a Teams user, by Entra object id, then by the
email the Teams roster gives for them.

Every activity needs this answer before anything else, and a conversation sends many turns: a
chair working through a case, a card answered, a reminder opened. So a found person is remembered
for a few minutes, keyed by the object id and by the Teams user id, which saves a database read on
every turn and, for users whose activities carry no object id, a roster call to Teams.

Why this is safe: only the person's id is used from the answer (casework reads everything else,
roles included, fresh on every command), the id is the Entra object id and never changes, and
people are never deleted from the store. Only found people are remembered: someone registered a
moment after the bot told them it did not know them is recognised on their very next message.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from casework.ports import CaseStore
from casework.records import Person

#: How long a found person is remembered (seconds): bounds how stale their display details can be.
IDENTITY_TTL_SECONDS = 300.0
#: How many Teams users are remembered at once; the least recently seen go first.
IDENTITY_CACHE_SIZE = 10_000

EmailOf = Callable[[str], Awaitable[str | None]]


class Identities:
    def __init__(
        self,
        store: CaseStore,
        ttl: float = IDENTITY_TTL_SECONDS,
        size: int = IDENTITY_CACHE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._ttl = ttl
        self._size = size
        self._clock = clock
        self._found: OrderedDict[str, tuple[float, Person]] = OrderedDict()

    async def resolve(self, object_id: str | None, user_id: str | None, email_of: EmailOf) -> Person | None:
        """The registered person, or None: by Entra object id, then by the roster's email for the
        Teams ``user_id`` (``email_of`` asks the channel; it is called only when needed)."""
        keys = ([f"oid:{object_id}"] if object_id else []) + ([f"user:{user_id}"] if user_id else [])
        for key in keys:
            person = self._recall(key)
            if person is not None:
                return person
        person = await asyncio.to_thread(self._store.get_person, object_id) if object_id else None
        if person is None and user_id:
            email = await email_of(user_id)
            person = await asyncio.to_thread(self._store.find_person_by_email, email) if email else None
        if person is not None:
            for key in keys:
                self._remember(key, person)
        return person

    def _recall(self, key: str) -> Person | None:
        entry = self._found.get(key)
        if entry is None:
            return None
        expires, person = entry
        if self._clock() >= expires:
            del self._found[key]
            return None
        self._found.move_to_end(key)
        return person

    def _remember(self, key: str, person: Person) -> None:
        self._found[key] = (self._clock() + self._ttl, person)
        self._found.move_to_end(key)
        while len(self._found) > self._size:
            self._found.popitem(last=False)
