"""Teams activities applied once: one answer per check-in card, and one handling per activity id.

Pressing a button updates the card in place without buttons, but a double click, or a second person whose
Teams still shows the old card, can send a press before the update arrives. The first press of a check-in
button on a card claims (tenant, conversation, card id); a later press of that card records nothing and is
told so. A press the engine refuses (nothing recorded) gives the claim back, so the card stays answerable.
Bot Framework may deliver an activity again after a timeout on its side: its id is claimed the same way.
"""

from __future__ import annotations

import asyncio
from typing import Any

from adapters import claims
from adapters.claims import ALREADY_ANSWERED
from adapters.teams.translate import button_value, channel_of, string
from bot.clock import Clock
from bot.store.db import Database


class CardPresses:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    @staticmethod
    def key(scope: str, body: dict[str, Any]) -> str | None:
        """The claim for a check-in button pressed on a card, or None for anything else."""
        pressed, card = button_value(body), string(body.get("replyToId"))
        if pressed is None or not card or not pressed.lower().startswith("checkin "):
            return None
        return f"press:{scope}:{channel_of(body)}:{card}"

    @staticmethod
    def activity_key(scope: str, body: dict[str, Any]) -> str | None:
        """The claim for the activity itself (its id, unique in its conversation), or None without an id."""
        activity = string(body.get("id"))
        return f"activity:{scope}:{channel_of(body)}:{activity}" if activity else None

    async def claim(self, key: str, scope: str) -> bool:
        return await asyncio.to_thread(claims.claim, self.db, key, scope, self.clock.now())

    async def release(self, key: str) -> None:
        await asyncio.to_thread(claims.release, self.db, key)

    async def forget_old(self) -> None:
        await asyncio.to_thread(claims.forget_old, self.db, self.clock.now())


__all__ = ["ALREADY_ANSWERED", "CardPresses"]
