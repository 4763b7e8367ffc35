"""Who is who in a Teams tenant: Teams' `29:` ids, Microsoft Entra object ids, names and time zones.

Mend knows a person by their Entra object id (`from.aadObjectId`): it is the same in every app and survives
a bot re-registration. A mention entity only carries the `29:` id, so it is resolved, first from what the
person's own messages taught us, then by asking the connector (`GET …/members/{id}`), and if both fail the
`29:` id is used as it is (it still works for mentions).

Teams tells a bot a person's time zone only in that person's own messages (`localTimezone`). So every
sender's name and zone is written to the `Person` table (the core's record of what adapters learned), and
an action owned by someone who has talked to Mend before gets reminders at their local hours.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from adapters.teams.translate import RawMention, clean_name, string
from bot.messages import Mention
from bot.store.db import Database
from bot.store.models import Person

log = logging.getLogger(__name__)

Lookup = Callable[[str], Awaitable[dict[str, Any] | None]]


class TeamsPeople:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._entra: dict[tuple[str, str], str] = {}  # (scope, 29: id) → Entra object id
        self._stored: dict[tuple[str, str], tuple[str | None, str | None]] = {}  # what Person holds

    async def learn(self, scope: str, account: dict[str, Any], tz: str | None) -> None:
        """Remember a sender: their ids, and their name and zone in `Person` (written only when changed)."""
        teams_id, entra = string(account.get("id")), string(account.get("aadObjectId"))
        if teams_id and entra:
            self._entra[(scope, teams_id)] = entra
        user = entra or teams_id
        if not user:
            return
        known = (clean_name(string(account.get("name"))), tz)
        if self._stored.get((scope, user)) == known:
            return
        await asyncio.to_thread(self._store, scope, user, *known)
        self._stored[(scope, user)] = known

    def _store(self, scope: str, user: str, name: str | None, tz: str | None) -> None:
        try:
            with self.db.session() as session:
                person = session.scalar(select(Person).where(Person.scope == scope, Person.user_id == user))
                if person is None:
                    session.add(Person(scope=scope, user_id=user, name=name, tz=tz))
                    return
                person.name = name or person.name
                person.tz = tz or person.tz
        except IntegrityError:
            log.debug("person %s was stored by a concurrent request", user)

    async def resolve(self, scope: str, mention: RawMention, lookup: Lookup) -> Mention:
        """The person behind a mention entity, by Entra object id when it can be found."""
        entra = string(mention.account.get("aadObjectId")) or self._entra.get((scope, mention.id))
        if entra is None:
            member = await _safely(lookup, mention.id)
            entra = string((member or {}).get("aadObjectId"))
            if entra:
                self._entra[(scope, mention.id)] = entra
        return Mention(user_id=entra or mention.id, name=mention.name)

    def name_of(self, scope: str, user_id: str) -> str | None:
        """A person's stored display name (to mention an owner in a reminder). Blocking: call in a thread."""
        with self.db.session() as session:
            person = session.scalar(select(Person).where(Person.scope == scope, Person.user_id == user_id))
            return person.name if person else None


async def _safely(lookup: Lookup, member_id: str) -> dict[str, Any] | None:
    try:
        return await lookup(member_id)
    except Exception as exc:  # a failed lookup only means the person is known by their 29: id
        log.info("Teams member lookup for %s failed: %s", member_id, type(exc).__name__)
        return None
