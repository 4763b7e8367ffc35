"""`/mend status` over signed HTTP: ack latency and end-to-end throughput, Mend against bare Bolt.

Commands go out from `concurrency` workers at once, each to a channel of its own recovery (Slack paces
posts at one a second per channel, and Mend's outbound does too, so one shared channel would measure the
pacing, not the app). An ack is the HTTP answer to the POST; a command is done when its answer reaches the
Slack double (`chat.postMessage` in its channel).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import statistics
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import aiohttp

from bench.servers import SIGNING_SECRET, Server
from bot.engine import Engine
from bot.messages import Command
from tests.fakes.slack_api import SlackApiDouble

TEAM = "T1"


@dataclass
class AckResult:
    name: str
    acks: list[float]  # seconds
    seconds: float  # first send to last answer
    answered: int

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.acks) * 1000

    @property
    def p99_ms(self) -> float:
        ordered = sorted(self.acks)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000

    @property
    def throughput(self) -> float:
        return self.answered / self.seconds


def channel(i: int) -> str:
    return f"CS{i:05d}"


def seed_channels(engine: Engine, count: int) -> None:
    """One open recovery per channel, so `status` has something real to show."""
    for i in range(count):
        command = Command(platform="slack", tenant=TEAM, channel=channel(i), user="U0LEAD", user_name="dana",
                          text=f"miss prior-auth renewals for {i % 17 + 2} patients were due 2026-11-20")
        [answer, *_] = engine.handle(command)
        assert answer.kind != "error", answer.text


def _signed_command(slack: SlackApiDouble, i: int) -> tuple[bytes, dict[str, str]]:
    body = urlencode({
        "token": "legacy", "team_id": TEAM, "team_domain": "advocacy", "channel_id": channel(i),
        "channel_name": f"renewals-{i}", "user_id": "U0LEAD", "user_name": "dana", "command": "/mend",
        "text": "status", "api_app_id": "A0MEND", "response_url": slack.response_url(f"c{i}"),
        "trigger_id": f"{i}.trigger",
    })
    ts = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
               "X-Slack-Signature": f"v0={digest}"}
    return body.encode(), headers


async def run(server: Server, slack: SlackApiDouble, *, channels: range, concurrency: int) -> AckResult:
    """Send one `/mend status` per channel in `channels`, `concurrency` at a time."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in channels:
        queue.put_nowait(i)
    acks: list[float] = []
    wanted = {channel(i) for i in channels}
    posted_before = len(slack.calls)

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            body, headers = _signed_command(slack, queue.get_nowait())
            start = time.perf_counter()
            async with session.post(server.url + "/slack/events", data=body, headers=headers) as response:
                await response.read()
                assert response.status == 200, response.status
            acks.append(time.perf_counter() - start)

    started = time.monotonic()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    answered: dict[str, float] = {}
    deadline = time.monotonic() + 60
    while len(answered) < len(wanted) and time.monotonic() < deadline:
        for call in slack.calls[posted_before:]:
            where = str(call.params.get("channel", ""))
            if call.method == "chat.postMessage" and where in wanted:
                answered.setdefault(where, call.at)
        await asyncio.sleep(0.02)
    last = max(answered.values(), default=time.monotonic())
    return AckResult(server.name, acks, last - started, len(answered))
