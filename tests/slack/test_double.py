"""The Web API double answers as Slack does, so tests that use it (here and in tests/delivery) can trust it."""

from __future__ import annotations

import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import SlackApiDouble


async def test_the_double_answers_like_slack(slack_api_double: SlackApiDouble):
    api = slack_api_double
    api.add_user("U1", "dana", tz="America/New_York", real_name="Dana Reyes")
    client = AsyncWebClient(token="xoxb-x", base_url=api.api_url)
    assert (await client.auth_test())["user_id"] == "UBOT"
    posted = await client.chat_postMessage(channel="U1", text="hi", blocks=[{"type": "section", "text": {
        "type": "mrkdwn", "text": "hi"}}])
    assert posted["channel"] == "D1" and posted["ts"]
    await client.chat_update(channel="D1", ts=posted["ts"], text="changed")
    assert api.message("D1", posted["ts"])["text"] == "changed"
    user = (await client.users_info(user="U1"))["user"]
    assert (user["tz"], user["profile"]["real_name"], user["profile"]["display_name"]) == \
        ("America/New_York", "Dana Reyes", "dana")
    assert (await client.conversations_open(users="U1"))["channel"]["id"] == "D1"
    assert (await client.views_publish(user_id="U1", view={"type": "home", "blocks": []}))["ok"]
    [call] = api.calls_to("chat.postMessage")
    assert call.auth == "Bearer xoxb-x" and call.params["blocks"][0]["type"] == "section"


async def test_scripted_errors_429s_and_delays(slack_api_double: SlackApiDouble):
    api = slack_api_double
    client = AsyncWebClient(token="xoxb-x", base_url=api.api_url)
    api.rate_limit("chat.postMessage", retry_after=9)
    api.fail("chat.postMessage", "channel_not_found")
    for status, error in ((429, "ratelimited"), (200, "channel_not_found")):
        try:
            await client.chat_postMessage(channel="C1", text="x")
        except SlackApiError as exc:
            assert (exc.response.status_code, exc.response["error"]) == (status, error)
            if status == 429:
                assert exc.response.headers["Retry-After"] == "9"
        else:
            raise AssertionError("expected a Slack error")
    api.delay["chat.postMessage"] = 0.3
    started = time.monotonic()
    assert (await client.chat_postMessage(channel="C1", text="x"))["ok"]
    assert time.monotonic() - started >= 0.3
