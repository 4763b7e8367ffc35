"""Slack 429s are retried after Retry-After and never dropped; `/metrics` counts what happened.

The server is the real one (`build_web_app` with the Slack adapter), on the system clock, ticking by
itself every 0.2 s, against the Slack Web API double.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from bench.seed import make_all_due, seed_checkins
from bot.app import build_core
from bot.config import Settings
from bot.metrics import METRICS
from bot.server import CORE, build_web_app
from bot.store.models import Delivery
from tests.delivery.replicas import SIGNING_SECRET, TOKEN, states
from tests.fakes.slack_api import SlackApiDouble


def _settings(db_url: str, api_url: str) -> Settings:
    return Settings(database_url=db_url, timezone="America/New_York", slack_bot_token=TOKEN,
                    slack_signing_secret=SIGNING_SECRET, slack_api_url=api_url, tick_seconds=0.2)


@pytest.fixture
async def served(tmp_path) -> AsyncIterator[tuple[TestClient, SlackApiDouble]]:  # type: ignore[type-arg]
    async with SlackApiDouble(token=TOKEN) as slack:
        core = build_core(_settings(f"sqlite:///{tmp_path / 'mend.db'}", slack.api_url))
        seed_checkins(core.engine, 10, platform="slack", tenant="T1", standup=False)
        async with TestClient(TestServer(build_web_app(core), host="127.0.0.1")) as client:
            yield client, slack


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def _until(predicate, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_rate_limited_posts_are_retried_after_retry_after_and_each_lands_once(served):
    client, slack = served
    slack.rate_limit("chat.postMessage", retry_after=1, times=4)
    make_all_due(client.app[CORE].engine, datetime.now(UTC))
    started = time.monotonic()
    await _until(lambda: states(client.app[CORE]).get("sent", 0) == 10)
    await slack.settle()
    assert time.monotonic() - started >= 1.0, "the refused posts waited for Retry-After"
    assert len(slack.calls_to("chat.postMessage")) == 14  # ten posts, four of them refused once first
    landed = Counter(channel for channel, _ts in slack.messages)
    assert len(landed) == 10 and set(landed.values()) == {1}, "every message delivered exactly once"
    with client.app[CORE].db.session() as session:
        rows = session.scalars(select(Delivery).where(Delivery.state == "sent")).all()
    assert sorted(r.attempts for r in rows) == [1] * 6 + [2] * 4
    assert all("ratelimited" in (r.last_error or "") for r in rows if r.attempts == 2)
    metrics = _samples(await (await client.get("/metrics")).text())
    assert metrics[("mend_deliveries_sent_total", (("kind", "checkin"),))] == 10
    assert metrics[("mend_deliveries_retried_total", ())] == 4
    assert metrics[("mend_deliveries_failed_total", ())] == 0
    assert metrics[("mend_delivery_lag_seconds_count", ())] == 10


async def test_metrics_are_prometheus_text_and_time_platform_requests(served):
    client, _slack = served
    await client.post("/slack/events", data="not signed")  # a 401, timed all the same
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    metrics = _samples(await response.text())
    assert metrics[("mend_request_seconds_count", (("path", "/slack/events"),))] == 1
    assert ("mend_command_seconds_count", (("platform", "slack"),)) not in metrics  # adapters observe it
    client.app[METRICS].observe_command(0.012, platform="slack")
    metrics = _samples(await (await client.get("/metrics")).text())
    assert metrics[("mend_command_seconds_count", (("platform", "slack"),))] == 1
    assert metrics[("mend_command_seconds_bucket", (("le", "0.025"), ("platform", "slack")))] == 1


async def test_each_app_has_its_own_registry(tmp_path):
    core = build_core(Settings(database_url=f"sqlite:///{tmp_path / 'mend.db'}"))
    first, second = build_web_app(core), build_web_app(core)  # no "duplicated timeseries" error
    first[METRICS].delivery_retried()
    assert _samples(first[METRICS].exposition().decode())[("mend_deliveries_retried_total", ())] == 1
    assert _samples(second[METRICS].exposition().decode())[("mend_deliveries_retried_total", ())] == 0
    core.db.dispose()
