"""Who is who on Slack: the bot's own identity (auth.test) and people's names and time zones (users.info).

Names and zones are cached in memory for a while, because one command can name several people and a busy
channel names the same people all day; the engine also keeps them in the `Person` table, so reminders use
them after a restart. A failed lookup never stops a command: the person is then known by id only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapters.slack.outbound import SlackOutbound
from bot.messages import Mention
from bot.outbound import DeliveryError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BotIdentity:
    team_id: str
    user_id: str  # the bot user, as mentioned in `<@UBOT>`
    bot_id: str


class Directory:
    def __init__(self, outbound: SlackOutbound, *, ttl: float = 900.0, failed_ttl: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.outbound = outbound
        self.ttl, self.failed_ttl = ttl, failed_ttl
        self.clock = clock
        self._people: dict[str, tuple[float, Mention]] = {}
        self._identity: BotIdentity | None = None
        self._identity_lock = asyncio.Lock()

    @property
    def known_identity(self) -> BotIdentity | None:
        return self._identity

    async def identity(self) -> BotIdentity:
        """The bot's identity, asked of Slack once. Raises `DeliveryError` when Slack cannot be reached."""
        async with self._identity_lock:
            if self._identity is None:
                found = await self.outbound.auth_test()
                self._identity = BotIdentity(str(found.get("team_id", "")), str(found.get("user_id", "")),
                                             str(found.get("bot_id", "")))
            return self._identity

    async def person(self, user_id: str, fallback_name: str | None = None) -> Mention:
        """A person's display name and IANA zone, from the cache or users.info."""
        now = self.clock()
        cached = self._people.get(user_id)
        if cached and cached[0] > now:
            return cached[1]
        try:
            user = await self.outbound.user_info(user_id)
        except DeliveryError as exc:
            log.info("users.info for %s failed (%s); using the id as the name", user_id, exc)
            mention = Mention(user_id, fallback_name, None)
            self._people[user_id] = (now + self.failed_ttl, mention)
            return mention
        mention = Mention(user_id, _name(user) or fallback_name, user.get("tz") or None)
        self._people[user_id] = (now + self.ttl, mention)
        return mention

    async def people(self, user_ids: list[str]) -> dict[str, Mention]:
        unique = list(dict.fromkeys(user_ids))
        found = await asyncio.gather(*(self.person(u) for u in unique))
        return dict(zip(unique, found, strict=True))


def _name(user: dict[str, Any]) -> str | None:
    profile = user.get("profile") or {}
    for candidate in (profile.get("display_name"), profile.get("real_name"), user.get("real_name"), user.get("name")):
        if candidate and str(candidate).strip():
            return str(candidate).strip()[:80]
    return None
