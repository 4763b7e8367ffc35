"""A Slack workspace in a test: `mend serve`'s web app on loopback, the Web API double, signed requests.

Requests are shaped and signed exactly as Slack sends them (v0 HMAC-SHA256 of `v0:timestamp:body`, form
bodies for slash commands and interactivity, JSON for events). Bolt acks before the work is done, so
`Workspace.idle()` waits for the adapter's background work and the double's calls before a test reads them.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from adapters.slack.adapter import SlackAdapter
from bot.app import Core, build_core
from bot.clock import SimulatedClock
from bot.config import Settings
from bot.scheduler import DeliveryScheduler
from bot.server import ADAPTERS, SCHEDULER, build_web_app
from tests.conftest import NEW_YORK
from tests.fakes.slack_api import Call, SlackApiDouble, slack_api_double  # noqa: F401  (a fixture)

BOT_TOKEN = "xoxb-1111-2222-testtokennotreal"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM = "T1"
BOT_USER = "UBOT"
SEEN = ("chat.postMessage", "chat.postEphemeral", "chat.update", "response_url")


def signed(body: str, *, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    """The two headers Slack adds to every request."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def slack_settings(db_url: str, api_url: str, **extra: Any) -> Settings:
    values: dict[str, Any] = dict(
        database_url=db_url, timezone=NEW_YORK, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
        slack_app_token=None, slack_api_url=api_url, tick_seconds=3600,
    )
    values.update(extra)
    return Settings(**values)


class Workspace:
    """One running Mend with Slack on, and the people in the workspace."""

    _ids = itertools.count(1)

    def __init__(self, core: Core, client: TestClient, api: SlackApiDouble) -> None:
        self.core, self.client, self.api = core, client, api
        app = client.server.app
        self.adapter: SlackAdapter = next(a for a in app[ADAPTERS] if a.platform == "slack")
        self.scheduler: DeliveryScheduler = app[SCHEDULER]
        self.adapter.outbound.min_interval = 0.0  # pacing has its own test; here it would only slow things

    # --- sending what Slack sends ---------------------------------------------------------------------
    async def post(self, body: str, content_type: str, *, headers: dict[str, str] | None = None,
                   timestamp: int | None = None) -> ClientResponse:
        all_headers = {"Content-Type": content_type, **signed(body, timestamp=timestamp), **(headers or {})}
        return await self.client.post("/slack/events", data=body.encode(), headers=all_headers)

    async def command(self, text: str, *, user: str = "U1", channel: str = "C1", team: str = TEAM,
                      channel_name: str = "renewals", trigger_id: str | None = None) -> ClientResponse:
        n = next(self._ids)
        form = {
            "token": "legacy-verification-token", "team_id": team, "team_domain": "advocacy",
            "channel_id": channel, "channel_name": channel_name, "user_id": user,
            "user_name": self.api.users.get(user, {}).get("name", user.lower()), "command": "/mend", "text": text,
            "api_app_id": "A0MEND", "response_url": self.api.response_url(f"cmd{n}"),
            "trigger_id": trigger_id or f"{n}.trigger",
        }
        return await self.post(urlencode(form), "application/x-www-form-urlencoded")

    async def event(self, event: dict[str, Any], *, team: str = TEAM, event_id: str | None = None,
                    retry: int | None = None) -> ClientResponse:
        body = json.dumps({
            "token": "legacy-verification-token", "team_id": team, "api_app_id": "A0MEND", "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids):08d}", "event_time": int(time.time()), "event": event,
            "authorizations": [{"team_id": team, "user_id": BOT_USER, "is_bot": True}],
        })
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return await self.post(body, "application/json", headers=headers)

    async def mention(self, text: str, *, user: str = "U1", channel: str = "C1", team: str = TEAM,
                      event_id: str | None = None, retry: int | None = None) -> ClientResponse:
        event = {"type": "app_mention", "user": user, "text": text, "channel": channel, "team": team,
                 "ts": f"{time.time():.6f}", "event_ts": f"{time.time():.6f}"}
        return await self.event(event, team=team, event_id=event_id, retry=retry)

    async def interact(self, payload: dict[str, Any]) -> ClientResponse:
        return await self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    async def click(self, action: dict[str, Any], *, user: str, team: str = TEAM, channel: str | None = None,
                    ts: str = "1.2", view: dict[str, Any] | None = None) -> ClientResponse:
        """A `block_actions` press of `action` as Slack sends it: on a message in `channel` (at `ts`), or on
        the Home tab `view`."""
        payload: dict[str, Any] = {
            "type": "block_actions", "team": {"id": team}, "user": {"id": user, "team_id": team},
            "api_app_id": "A0MEND", "trigger_id": f"{next(self._ids)}.trigger", "actions": [{**action, "block_id": "b"}],
        }
        if view is not None:
            payload |= {"container": {"type": "view", "view_id": view["id"]}, "view": {"type": "home", **view}}
        else:
            payload |= {"container": {"type": "message", "message_ts": ts, "channel_id": channel},
                        "channel": {"id": channel}, "response_url": self.api.response_url(f"click{next(self._ids)}")}
        return await self.interact(payload)

    async def press(self, channel: str, ts: str, label: str, *, user: str = "U2", team: str = TEAM,
                    message: dict[str, Any] | None = None) -> ClientResponse:
        """Press the button labelled `label` on the message (channel, ts) as the double holds it now, or on
        an older copy of it (`message`: what a client that has not refreshed still shows)."""
        message = message or self.api.message(channel, ts)
        button = next(e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
                      if e["text"]["text"] == label)
        return await self.interact({
            "type": "block_actions", "team": {"id": team, "domain": "advocacy"},
            "user": {"id": user, "username": user.lower(), "team_id": team}, "api_app_id": "A0MEND",
            "token": "legacy-verification-token", "trigger_id": f"{next(self._ids)}.trigger",
            "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False},
            "channel": {"id": channel, "name": "directmessage"}, "message": message,
            "response_url": self.api.response_url(f"press{next(self._ids)}"),
            "actions": [{**button, "block_id": "b", "action_ts": f"{time.time():.6f}"}],
        })

    async def submit(self, view: dict[str, Any], values: dict[str, dict[str, Any]], *, user: str = "U1",
                     team: str = TEAM) -> ClientResponse:
        """Submit a modal the bot opened, with `values` as Slack's view.state.values ({block: {"value": …}})."""
        return await self.interact({
            "type": "view_submission", "team": {"id": team, "domain": "advocacy"},
            "user": {"id": user, "username": user.lower(), "team_id": team}, "api_app_id": "A0MEND",
            "token": "legacy-verification-token", "trigger_id": f"{next(self._ids)}.trigger",
            "view": {**view, "id": "V0001", "team_id": team, "state": {"values": values}},
        })

    # --- reading what happened ------------------------------------------------------------------------
    async def idle(self, timeout: float = 8.0) -> None:
        """Wait until the adapter has finished everything it does after its acks."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < 3:
            if time.monotonic() > deadline:
                raise AssertionError("the Slack adapter is still busy")
            quiet = quiet + 1 if not self.adapter.background.tasks else 0
            await asyncio.sleep(0.01)

    async def say(self, text: str, **kwargs: Any) -> str:
        """`/mend TEXT`; everything the bot showed in answer (posts, ephemerals, updates), as one text."""
        before = len(self.api.calls)
        response = await self.command(text, **kwargs)
        assert response.status == 200, await response.text()
        await self.idle()
        return visible(self.api.calls[before:])

    async def reminder(self) -> tuple[str, str]:
        """Open a recovery with one action for sam (U2), let 09:00 pass; the reminder's (DM channel, ts)."""
        await self.say("miss prior-auth renewals for 14 patients")
        await self.say("action Add renewal dates to the tracker <@U2|sam> due friday checkin daily at 09:00")
        self.core.clock.set(datetime(2026, 11, 23, 9, 1, tzinfo=ZoneInfo(NEW_YORK)))
        before = len(self.posts())
        await self.scheduler.tick()
        [reminder] = self.posts()[before:]
        assert reminder.params["channel"] == "U2", "Slack opens the DM when the channel is the user's id"
        return "D2", next(ts for (channel, ts) in self.api.messages if channel == "D2")

    def posts(self, channel: str | None = None) -> list[Call]:
        return [c for c in self.api.calls_to("chat.postMessage") if channel is None or c.params["channel"] == channel]


def visible(calls: list[Call]) -> str:
    return "\n".join(c.text for c in calls if c.method in SEEN)


@pytest.fixture
async def slack_api() -> AsyncIterator[SlackApiDouble]:
    async with SlackApiDouble(token=BOT_TOKEN, bot_user_id=BOT_USER) as api:
        api.add_user("U1", "dana", tz=NEW_YORK)
        api.add_user("U2", "sam", tz=NEW_YORK)
        api.add_user("U3", "lee", tz="America/Chicago")
        yield api


async def start_workspace(db_url: str, api: SlackApiDouble, clock: SimulatedClock) -> tuple[Workspace, Core]:
    core = build_core(slack_settings(db_url, api.api_url), clock)
    client = TestClient(TestServer(build_web_app(core), host="127.0.0.1"))
    await client.start_server()
    return Workspace(core, client, api), core


@pytest.fixture
async def slack(tmp_path: Path, slack_api: SlackApiDouble, clock: SimulatedClock) -> AsyncIterator[Workspace]:
    workspace, _core = await start_workspace(f"sqlite:///{tmp_path / 'mend.db'}", slack_api, clock)
    try:
        yield workspace
    finally:
        await workspace.client.close()
