"""The scenario test's transport for Slack: the same conversation, typed as `/mend`, pressed as buttons.

It drives `mend serve`'s web app with signed requests against the Web API double, and reads back what
people would see. tests/scenarios/transports.py registers it as `TRANSPORTS["slack"]`, so the shared scenario
runs through Slack with only the transport changed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from bot.clock import SimulatedClock
from tests.fakes.slack_api import SlackApiDouble
from tests.slack.conftest import BOT_TOKEN, BOT_USER, Workspace, start_workspace, visible

PEOPLE = {"dana": ("U1", "America/New_York"), "sam": ("U2", "America/New_York"), "lee": ("U3", "America/Chicago")}


class SlackTransport:
    name = "slack"

    def __init__(self, workspace: Workspace, clock: SimulatedClock) -> None:
        self.slack, self.clock = workspace, clock
        self._delivered: list[str] = []

    def mention(self, user: str) -> str:
        return f"<@{PEOPLE[user][0]}|{user}>"

    async def say(self, user: str, text: str) -> str:
        return await self.slack.say(text, user=PEOPLE[user][0], channel="C1")

    async def press(self, user: str, button_value: str) -> str:
        """Press the button with this value on the newest message that still offers it."""
        api = self.slack.api
        for (channel, ts), message in reversed(list(api.messages.items())):
            labels = [e["text"]["text"] for b in message["blocks"] if b["type"] == "actions"
                      for e in b["elements"] if e.get("value") == button_value]
            if labels:
                before = len(api.calls)
                response = await self.slack.press(channel, ts, labels[0], user=PEOPLE[user][0])
                assert response.status == 200
                await self.slack.idle()
                return visible(api.calls[before:])
        raise AssertionError(f"no message offers a button {button_value!r}")

    async def advance_to(self, when: datetime) -> None:
        scheduler = self.slack.scheduler
        while (due := scheduler.next_due()) is not None and due <= when:
            self.clock.set(max(due, self.clock.now()))
            before = len(self.slack.api.calls)
            await scheduler.tick()
            self._delivered += [c.text for c in self.slack.api.calls[before:] if c.method == "chat.postMessage"]
        self.clock.set(when)

    def delivered(self) -> list[str]:
        return list(self._delivered)


@asynccontextmanager
async def slack_transport(database_url: str, clock: SimulatedClock) -> AsyncIterator[SlackTransport]:
    async with SlackApiDouble(token=BOT_TOKEN, bot_user_id=BOT_USER) as api:
        for name, (user_id, tz) in PEOPLE.items():
            api.add_user(user_id, name, tz=tz)
        workspace, _core = await start_workspace(database_url, api, clock)
        try:
            yield SlackTransport(workspace, clock)
        finally:
            await workspace.client.close()
