"""Transports for the scenario test: the same conversation, carried by different adapters.

A transport lets a person type a line, press a button the bot posted, and let time pass (the scheduler
delivers what falls due). Everything returns what a person would read, as text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Protocol

from adapters.console.channel import ConsoleChat, ConsoleOutbound, render_text
from bot.app import build_core
from bot.clock import SimulatedClock
from bot.config import Settings
from bot.scheduler import DeliveryScheduler
from tests.scenarios.teams_transport import teams_transport
from tests.slack.transport import slack_transport

ZONES = {"dana": "America/New_York", "sam": "America/New_York", "lee": "America/Chicago"}


class Transport(Protocol):
    name: str

    def mention(self, user: str) -> str:
        """How `user` is mentioned when typing an owner on this platform."""
        ...

    async def say(self, user: str, text: str) -> str:
        """`user` types `/mend TEXT` (or the platform's equivalent) in the recovery's channel."""
        ...

    async def press(self, user: str, button_value: str) -> str:
        """`user` presses the button with this value on the last message that offered it."""
        ...

    async def advance_to(self, when: datetime) -> None:
        """Move the clock to `when`, delivering everything that falls due on the way."""
        ...

    def delivered(self) -> list[str]:
        """The texts of the messages the bot sent on its own (reminders, standups), in order."""
        ...


class ConsoleTransport:
    name = "console"

    def __init__(self, database_url: str, clock: SimulatedClock) -> None:
        self.clock = clock
        self.core = build_core(Settings(database_url=database_url, timezone="America/New_York"), clock)
        self.outbound = ConsoleOutbound(channel="#renewals")
        self.chat = ConsoleChat(self.core.engine, channel="#renewals", zones=dict(ZONES))
        self.scheduler = DeliveryScheduler(self.core.db, self.core.engine, {"console": self.outbound}, clock)

    def mention(self, user: str) -> str:
        return f"@{user}"

    async def say(self, user: str, text: str) -> str:
        return self.chat.say(f"/mend {text}", as_user=user)

    async def press(self, user: str, button_value: str) -> str:
        return self.chat.press(button_value, as_user=user, channel=f"DM-{user}")

    async def advance_to(self, when: datetime) -> None:
        while (due := self.scheduler.next_due()) is not None and due <= when:
            self.clock.set(max(due, self.clock.now()))
            await self.scheduler.tick()
        self.clock.set(when)

    def delivered(self) -> list[str]:
        return [render_text(r, channel="#renewals") for r in self.outbound.sent]

    async def close(self) -> None:
        await self.scheduler.stop()
        self.core.db.dispose()


@asynccontextmanager
async def console_transport(database_url: str, clock: SimulatedClock) -> AsyncIterator[Transport]:
    transport = ConsoleTransport(database_url, clock)
    try:
        yield transport
    finally:
        await transport.close()


# Each entry: name -> async context manager factory taking (database_url, clock).
TRANSPORTS = {"console": console_transport, "teams": teams_transport, "slack": slack_transport}
