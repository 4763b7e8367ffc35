"""Fan-out: `count` check-ins (and a standup) due in the same minute, through a Slack double that takes
30 ms per call, delivered by one `mend serve`. Measured from the due moment to the last post.

The due moment is a multiple of the tick interval, as every minute is (ticks are aligned to the clock),
so the wait for the first tick is what a real minute would see.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.seed import make_all_due, seed_checkins
from bench.servers import start_mend
from bot.app import build_core
from bot.config import Settings
from tests.fakes.slack_api import SlackApiDouble

TICK = 2.0  # mend serve's default MEND_TICK_SECONDS


@dataclass
class FanoutResult:
    database: str
    count: int
    seconds: float  # due moment → last post
    delivered: int  # distinct messages
    repeated: int
    memory_mb: tuple[float, float]  # RSS and PSS of the server and its workers


async def run(database_url: str, label: str, folder: Path, *, count: int, latency: float = 0.03) -> FanoutResult:
    core = build_core(Settings(database_url=database_url, timezone="America/New_York"))
    await asyncio.to_thread(seed_checkins, core.engine, count, platform="slack", tenant="T1")
    async with SlackApiDouble() as slack:
        slack.delay["*"] = latency
        server = await start_mend(database_url, slack.api_url, folder / label, tick=TICK)
        try:
            due_epoch = math.ceil((time.time() + 1.0) / TICK) * TICK
            make_all_due(core.engine, datetime.fromtimestamp(due_epoch, UTC))
            due_at = time.monotonic() + (due_epoch - time.time())
            expected = count + 1
            deadline = due_at + 120
            while time.monotonic() < deadline:
                posts = slack.calls_to("chat.postMessage")
                if len({c.params.get("channel") for c in posts}) >= expected:
                    break
                await asyncio.sleep(0.05)
            await slack.settle(quiet=0.5)
            posts = slack.calls_to("chat.postMessage")
            rss = (server.rss_mb(), server.pss_mb())
        finally:
            await server.stop()
            core.db.dispose()
    per_target = Counter(str(c.params.get("channel")) for c in posts)
    last = max((c.at for c in posts), default=due_at)
    return FanoutResult(label, count, last - due_at, len(per_target),
                        sum(n - 1 for n in per_target.values()), rss)
