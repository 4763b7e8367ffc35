"""`mend serve` runs commands in a forked worker process: answers arrive as before, a killed server leaves
no worker behind, and a worker that dies costs no more than the command it held."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import signal
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from sqlalchemy import select

from bot.app import build_core
from bot.config import Settings
from bot.store.models import Recovery
from tests.delivery.replicas import SIGNING_SECRET, Replica, start_replica, stop_all
from tests.fakes.slack_api import SlackApiDouble


def _children(pid: int) -> list[int]:
    return [int(child) for task in Path(f"/proc/{pid}/task").glob("*/children") for child in task.read_text().split()]


def _alive(pid: int) -> bool:
    """Running, and not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


async def _slash(replica: Replica, slack: SlackApiDouble, channel: str, text: str) -> int:
    body = urlencode({
        "token": "legacy", "team_id": "T1", "team_domain": "advocacy", "channel_id": channel,
        "channel_name": "renewals", "user_id": "U0LEAD", "user_name": "dana", "command": "/mend", "text": text,
        "api_app_id": "A0MEND", "response_url": slack.response_url(channel), "trigger_id": f"{channel}.trigger",
    })
    ts = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
               "X-Slack-Signature": f"v0={digest}"}
    async with aiohttp.ClientSession() as session, session.post(
            replica.url + "/slack/events", data=body.encode(), headers=headers) as response:
        return response.status


def _opened(slack: SlackApiDouble, channel: str) -> list[str]:
    return [c.text for c in slack.calls_to("chat.postMessage")
            if c.params.get("channel") == channel and "R" in c.text and "opened" in c.text]


async def _serve(tmp_path: Path, slack: SlackApiDouble) -> tuple[Replica, str]:
    url = f"sqlite:///{tmp_path / 'mend.db'}"
    replica = await start_replica("serve", url, slack, tmp_path)
    await replica.wait_healthy()
    slack.add_user("U0LEAD", "dana")
    return replica, url


async def test_a_command_is_answered_from_the_worker_process_and_counted_in_metrics(tmp_path):
    async with SlackApiDouble() as slack:
        replica, url = await _serve(tmp_path, slack)
        try:
            [worker] = _children(replica.process.pid)
            assert _alive(worker) and (await replica.get("/healthz"))[1]["command_workers"] == 1
            assert await _slash(replica, slack, "C0A", "miss prior-auth renewals for 14 patients") == 200
            [call] = await slack.wait_for("chat.postMessage", where=lambda c: c.params.get("channel") == "C0A",
                                          timeout=10)
            assert "R1 opened: prior-auth renewals for 14 patients" in call.text
            _status, metrics = await replica.get("/metrics")
            assert 'mend_command_seconds_count{platform="slack"} 1.0' in metrics
        finally:
            await stop_all([replica])
    core = build_core(Settings(database_url=url), migrate=False)
    with core.db.session() as session:
        assert [r.what for r in session.scalars(select(Recovery))] == ["prior-auth renewals for 14 patients"]
    core.db.dispose()


async def test_a_server_killed_with_sigkill_leaves_no_worker_behind(tmp_path):
    async with SlackApiDouble() as slack:
        replica, _url = await _serve(tmp_path, slack)
        [worker] = _children(replica.process.pid)
        replica.signal(signal.SIGKILL)
        await replica.wait_exit()
        deadline = time.monotonic() + 5
        while _alive(worker) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert not _alive(worker), "an orphaned worker would hold the database and its connections"


async def test_a_worker_that_dies_between_commands_costs_nothing_and_commands_go_on(tmp_path):
    async with SlackApiDouble() as slack:
        replica, _url = await _serve(tmp_path, slack)
        try:
            [worker] = _children(replica.process.pid)
            os.kill(worker, signal.SIGKILL)
            await asyncio.sleep(0.5)  # the pool notices its worker is gone
            assert await _slash(replica, slack, "C0B", "miss referral cutoff for 3 families") == 200
            [call] = await slack.wait_for("chat.postMessage", where=lambda c: c.params.get("channel") == "C0B",
                                          timeout=10)
            assert "R1 opened: referral cutoff for 3 families" in call.text
            assert await _slash(replica, slack, "C0B", "status") == 200
            await slack.wait_for("chat.postMessage", count=2, timeout=10,
                                 where=lambda c: c.params.get("channel") == "C0B")
            status, health = await replica.get("/healthz")
            assert status == 200 and health["command_workers"] == 0, "the operator can see the worker is gone"
            assert "commands now run in the serving process" in replica.output()
        finally:
            await stop_all([replica])
