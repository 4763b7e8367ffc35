"""The scenario's conversation carried by the real Teams adapter.

Each line is an activity shaped as Teams sends it (`<at>Mend</at> WORDS` in the #renewals channel, owners as
Teams mentions with their entities), POSTed to `/api/messages` of the server in emulator mode; what the bot
says is read at a Bot Framework connector double, as a person would read the posted card.

Teams tells a bot someone's time zone only in that person's own messages. A team that uses Mend has talked
to it before, so each member says `help` to Mend once in a personal chat when the transport starts; that is
how Mend learns that lee works in Chicago, as the console's `zones` and Slack's `users.info` tell it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_core
from bot.clock import SimulatedClock
from bot.config import Settings
from bot.server import SCHEDULER, build_web_app
from tests.fakes.bot_connector import BotConnectorDouble
from tests.teams.teams_client import Member, TeamsClient, readable


class TeamsTransport:
    name = "teams"

    def __init__(self, database_url: str, clock: SimulatedClock) -> None:
        from tests.scenarios.transports import ZONES  # imported late: transports.py imports this module

        self.clock = clock
        self.members = [Member(user, tz) for user, tz in ZONES.items()]
        settings = Settings(database_url=database_url, timezone="America/New_York", teams_emulator=True,
                            microsoft_app_id=None, microsoft_app_password=None, slack_bot_token=None,
                            tick_seconds=3600)
        self.core = build_core(settings, clock)
        self.app = build_web_app(self.core)
        self.connector = BotConnectorDouble()
        self.http = TestClient(TestServer(self.app, host="127.0.0.1"))
        self.teams: TeamsClient | None = None

    async def start(self) -> None:
        await self.connector.start()
        await self.http.start_server()
        self.teams = TeamsClient(self.http, self.connector, self.members, clock=self.clock)
        for member in self.members:
            await self.teams.say(member.name, "help", conversation=f"a:1{member.name}-personal",
                                 conversation_type="personal")

    def mention(self, user: str) -> str:
        return f"<at>{user}</at>"

    async def say(self, user: str, text: str) -> str:
        assert self.teams is not None
        return await self.teams.says(user, text)

    async def press(self, user: str, button_value: str) -> str:
        assert self.teams is not None
        card = next(p for p in reversed(self.connector.posted) if button_value in p.buttons)
        return "\n".join(readable(p) for p in await self.teams.press(user, card, button_value))

    async def advance_to(self, when: datetime) -> None:
        scheduler = self.app[SCHEDULER]
        while (due := scheduler.next_due()) is not None and due <= when:
            self.clock.set(max(due, self.clock.now()))
            await scheduler.tick()
        self.clock.set(when)

    def delivered(self) -> list[str]:
        return [readable(p) for p in self.connector.posted if p.kind == "send"]

    async def close(self) -> None:
        await self.http.close()
        await self.connector.stop()


@asynccontextmanager
async def teams_transport(database_url: str, clock: SimulatedClock) -> AsyncIterator[TeamsTransport]:
    transport = TeamsTransport(database_url, clock)
    try:
        await transport.start()
        yield transport
    finally:
        await transport.close()
