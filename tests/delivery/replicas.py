"""Real `mend serve` processes for the delivery tests, talking to the Slack Web API double on loopback.

Each replica is `python -m bot.cli serve` with its own port and log file, the Slack adapter pointed at the
double (`SLACK_API_URL`), a short tick and a short lease so that a dead replica's rows come back in seconds.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select

from bench.seed import make_all_due, seed_checkins
from bot.app import Core, build_core
from bot.config import Settings
from tests.fakes.slack_api import Call, SlackApiDouble
from tests.pg import free_port

TOKEN = "xoxb-delivery-test"
SIGNING_SECRET = "delivery-test-signing-secret"


@dataclass
class Replica:
    name: str
    process: asyncio.subprocess.Process
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def worker_prefix(self) -> str:
        """The start of `claimed_by` for rows this replica claims (hostname:pid)."""
        return f":{self.process.pid}"

    async def get(self, path: str) -> tuple[int, Any]:
        async with aiohttp.ClientSession() as session, session.get(self.url + path) as response:
            body = await (response.json() if path == "/healthz" else response.text())
            return response.status, body

    async def wait_healthy(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.returncode is not None:
                raise AssertionError(f"{self.name} exited with {self.process.returncode}:\n{self.output()}")
            try:
                status, _body = await self.get("/healthz")
                if status == 200:
                    return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} did not become healthy:\n{self.output()}")

    def signal(self, sig: signal.Signals) -> None:
        if self.process.returncode is None:
            self.process.send_signal(sig)

    async def wait_exit(self, timeout: float = 20.0) -> int:
        return await asyncio.wait_for(self.process.wait(), timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


async def start_replica(name: str, database_url: str, slack: SlackApiDouble, folder: Path, *,
                        tick: float = 0.2, lease: float = 3.0) -> Replica:
    """Start `mend serve` (cwd: a folder of its own, so no stray .env is read)."""
    port = free_port()
    home = folder / name
    home.mkdir(parents=True, exist_ok=True)
    log = home / "serve.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MEND_", "SLACK_", "MICROSOFT_"))},
        "MEND_DATABASE_URL": database_url,
        "MEND_TICK_SECONDS": str(tick),
        "MEND_LEASE_SECONDS": str(lease),
        "MEND_TIMEZONE": "America/New_York",
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
            cwd=home, env=env, stdout=out, stderr=asyncio.subprocess.STDOUT)
    return Replica(name, process, port, log)


async def stop_all(replicas: list[Replica]) -> None:
    for replica in replicas:
        replica.signal(signal.SIGKILL)
        await replica.wait_exit()


def seeded_core(database_url: str, checkins: int) -> Core:
    """The database migrated and seeded through the engine: `checkins` actions (one owner each) with daily
    check-ins and a daily standup in the first channel (bench/seed.py)."""
    core = build_core(Settings(database_url=database_url, timezone="America/New_York"))
    seed_checkins(core.engine, checkins, platform="slack", tenant="T1")
    return core


def due_in(core: Core, seconds: float) -> datetime:
    """Make every pending delivery due `seconds` from now (the servers use the system clock)."""
    when = datetime.now(UTC) + timedelta(seconds=seconds)
    make_all_due(core.engine, when)
    return when


async def wait_for_posts(slack: SlackApiDouble, count: int, timeout: float) -> list[Call]:
    """Wait until `count` distinct messages were posted, then a little longer to catch any repeat."""
    deadline = time.monotonic() + timeout
    while len(distinct_posts(slack)) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await slack.settle(quiet=0.5, timeout=5.0)
    return slack.calls_to("chat.postMessage")


async def wait_settled(core: Core, sent: int, timeout: float) -> dict[str, int]:
    """Wait until `sent` rows are marked sent and none is claimed (a dead replica's lease ran out and
    another replica delivered)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = states(core)
        if counts.get("sent", 0) >= sent and not counts.get("claimed"):
            return counts
        await asyncio.sleep(0.1)
    return states(core)


def post_key(call: Call) -> tuple[str, str]:
    """What makes a post distinct: where it went and its title line."""
    return str(call.params.get("channel")), str(call.params.get("text", "")).split("\n")[0]


def distinct_posts(slack: SlackApiDouble) -> set[tuple[str, str]]:
    return {post_key(c) for c in slack.calls_to("chat.postMessage")}


def repeats(calls: list[Call]) -> dict[tuple[str, str], int]:
    return {key: n for key, n in Counter(post_key(c) for c in calls).items() if n > 1}


def states(core: Core) -> dict[str, int]:
    from bot.store.models import Delivery

    with core.db.session() as session:
        return dict(session.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all())
