"""The Slack Outbound: where reminders and standups go, Slack's errors mapped for the scheduler, pacing."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from adapters.slack.adapter import SlackAdapter, SlackConfigurationError
from adapters.slack.outbound import SlackOutbound
from bot.app import build_core
from bot.messages import Audience, Reply, Section
from bot.outbound import DeliveryError
from bot.store.models import Delivery
from tests.slack.conftest import BOT_TOKEN, slack_settings

NY = ZoneInfo("America/New_York")


@pytest.fixture
def outbound(slack_api) -> SlackOutbound:  # type: ignore[no-untyped-def]
    return SlackOutbound(AsyncWebClient(token=BOT_TOKEN, base_url=slack_api.api_url), min_interval=0.0)


def notice(channel: str = "C1", **changes: object) -> Reply:
    return Reply(text="R1: standup", title="Standup", sections=(Section(text="All good"),), channel=channel).to(
        **changes)


async def test_send_posts_channel_replies_to_their_channel_and_direct_ones_to_the_person(outbound, slack_api):
    assert await outbound.send("T1", notice("C7")) == "1700000000.000001"
    assert await outbound.send("T1", notice("C7", audience=Audience.DIRECT, to_user="U2")) == "1700000000.000002"
    first, second = slack_api.calls_to("chat.postMessage")
    assert first.params["channel"] == "C7" and "All good" in first.text
    assert second.params["channel"] == "U2"
    assert first.auth == f"Bearer {BOT_TOKEN}" and first.path == "/api/chat.postMessage"


async def test_a_429_becomes_a_retry_after_the_time_slack_asked_for(outbound, slack_api):
    slack_api.rate_limit("chat.postMessage", retry_after=17)
    with pytest.raises(DeliveryError) as info:
        await outbound.send("T1", notice())
    assert info.value.retry_after == 17 and info.value.permanent is False
    assert await outbound.send("T1", notice()), "the next call goes through"


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "user_not_found", "is_archived"])
async def test_errors_no_retry_can_fix_are_permanent(outbound, slack_api, error):
    slack_api.fail("chat.postMessage", error)
    with pytest.raises(DeliveryError) as info:
        await outbound.send("T1", notice())
    assert info.value.permanent is True and error in str(info.value)


async def test_a_passing_failure_is_retried_later(outbound, slack_api):
    slack_api.fail("chat.postMessage", "internal_error", status=500)
    with pytest.raises(DeliveryError) as info:
        await outbound.send("T1", notice())
    assert info.value.permanent is False and info.value.retry_after is None


async def test_one_message_per_second_per_channel_while_channels_go_in_parallel(slack_api):
    paced = SlackOutbound(AsyncWebClient(token=BOT_TOKEN, base_url=slack_api.api_url), min_interval=0.3)
    assert SlackOutbound(AsyncWebClient()).min_interval == 1.0, "Slack's pace is the default"
    await asyncio.gather(*(paced.send("T1", notice(channel)) for channel in ["C1", "C1", "C1", "C2", "C3"]))
    at = {ch: sorted(c.at for c in slack_api.calls_to("chat.postMessage") if c.params["channel"] == ch)
          for ch in ("C1", "C2", "C3")}
    gaps = [b - a for a, b in zip(at["C1"], at["C1"][1:], strict=False)]
    assert len(at["C1"]) == 3 and all(gap >= 0.28 for gap in gaps), gaps
    assert abs(at["C2"][0] - at["C1"][0]) < 0.25 and abs(at["C3"][0] - at["C1"][0]) < 0.25


async def test_the_scheduler_gives_up_on_a_reminder_to_someone_who_left(slack):
    await slack.say("miss prior-auth renewals")
    await slack.say("action Add renewal dates to the tracker <@U2|sam> due friday checkin daily at 09:00")
    slack.api.fail("chat.postMessage", "user_not_found")
    slack.core.clock.set(datetime(2026, 11, 23, 9, 1, tzinfo=NY))
    await slack.scheduler.tick()
    with slack.core.db.session() as session:
        failed = session.scalar(select(Delivery).where(Delivery.kind == "checkin", Delivery.state == "failed"))
        assert failed is not None and "user_not_found" in (failed.last_error or "")


async def test_the_scheduler_waits_as_long_as_slack_asks(slack):
    await slack.say("miss prior-auth renewals")
    await slack.say("action Add renewal dates to the tracker <@U2|sam> due friday checkin daily at 09:00")
    slack.api.rate_limit("chat.postMessage", retry_after=30)
    now = datetime(2026, 11, 23, 9, 1, tzinfo=NY)
    slack.core.clock.set(now)
    await slack.scheduler.tick()
    with slack.core.db.session() as session:
        held = session.scalar(select(Delivery).where(Delivery.kind == "checkin", Delivery.attempts == 1))
        assert held is not None and held.lease_until == now + timedelta(seconds=30)
        assert "ratelimited" in (held.last_error or "")


async def test_socket_mode_is_off_without_an_app_token(slack):
    assert slack.adapter.socket_mode is None  # started, over HTTP only


async def test_socket_mode_is_built_with_an_app_token(tmp_path, slack_api, clock):
    core = build_core(slack_settings(f"sqlite:///{tmp_path / 'sm.db'}", slack_api.api_url,
                                     slack_app_token="xapp-1-A1-2-x"), clock)
    adapter = SlackAdapter(core)
    handler = adapter.socket_mode_handler()  # what start() connects; not tested against the network
    try:
        assert isinstance(handler, AsyncSocketModeHandler)
        assert handler.app is adapter.bolt and handler.app_token == "xapp-1-A1-2-x"
        assert handler.client.web_client.base_url == slack_api.api_url
    finally:
        await handler.close_async()
        core.db.dispose()


def test_the_adapter_refuses_to_start_without_a_signing_secret(tmp_path, slack_api, clock):
    core = build_core(slack_settings(f"sqlite:///{tmp_path / 'x.db'}", slack_api.api_url,
                                     slack_signing_secret=None), clock)
    with pytest.raises(SlackConfigurationError, match="SLACK_SIGNING_SECRET"):
        SlackAdapter(core)
    core.db.dispose()
