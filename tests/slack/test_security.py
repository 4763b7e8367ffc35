"""Only Slack gets in (signatures, timestamps), bad input is a 4xx or a polite note, and secrets stay secret."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import urlencode

from sqlalchemy import func, select

from bot.store.models import Recovery
from tests.slack.conftest import BOT_TOKEN, SIGNING_SECRET, signed


def slash(text: str) -> str:
    return urlencode({"team_id": "T1", "channel_id": "C1", "channel_name": "renewals", "user_id": "U1",
                      "user_name": "dana", "command": "/mend", "text": text, "trigger_id": "1.t",
                      "response_url": "http://127.0.0.1:9/r"})


def recovery_count(slack) -> int:  # type: ignore[no-untyped-def]
    with slack.core.db.session() as session:
        return session.scalar(select(func.count()).select_from(Recovery)) or 0


async def test_a_bad_signature_is_refused_with_401_and_nothing_happens(slack):
    body = slash("miss forged")
    headers = {**signed(body, secret="not-the-secret"), "Content-Type": "application/x-www-form-urlencoded"}
    response = await slack.client.post("/slack/events", data=body, headers=headers)
    assert response.status == 401
    unsigned = await slack.client.post("/slack/events", data=body,
                                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert unsigned.status == 401
    await slack.idle()
    assert recovery_count(slack) == 0 and slack.posts() == []


async def test_a_stale_timestamp_is_refused_even_when_correctly_signed(slack):
    response = await slack.post(slash("miss replayed"), "application/x-www-form-urlencoded",
                                timestamp=int(time.time()) - 6 * 60)
    assert response.status == 401
    await slack.idle()
    assert recovery_count(slack) == 0


async def test_a_body_changed_after_signing_is_refused(slack):
    body = slash("status")
    headers = {**signed(body), "Content-Type": "application/x-www-form-urlencoded"}
    response = await slack.client.post("/slack/events", data=body.replace("status", "close+anyway"), headers=headers)
    assert response.status == 401


async def test_malformed_requests_get_a_4xx_never_a_5xx(slack):
    cases = [
        ("{not json", "application/json"),
        ("[1, 2, 3]", "application/json"),
        ("foo=bar", "application/x-www-form-urlencoded"),  # a form with no payload and no command
        (urlencode({"payload": "{oops"}), "application/x-www-form-urlencoded"),
        (urlencode({"payload": json.dumps({"type": "block_actions"})}), "application/x-www-form-urlencoded"),
        ("", "application/json"),
    ]
    for body, content_type in cases:
        response = await slack.post(body, content_type)
        text = await response.text()
        assert 400 <= response.status < 500, (body, response.status, text)
        assert "Traceback" not in text and "Error" not in text.replace('"error"', "")
    await slack.idle()


async def test_an_unknown_button_gets_a_polite_private_note(slack):
    response = await slack.click({"type": "button", "action_id": "approve_invoice", "value": "x"},
                                 user="U1", channel="C1")
    assert response.status == 200
    [note] = await slack.api.wait_for("response_url")
    await slack.idle()
    assert note.params["response_type"] == "ephemeral" and "not one I know" in note.text
    assert slack.posts() == []


async def test_a_button_with_words_the_engine_refuses_is_answered_privately(slack):
    await slack.click({"type": "button", "action_id": "mend_button_0", "value": "drop table recoveries"},
                      user="U1", channel="C1")
    [note] = await slack.api.wait_for("response_url")
    await slack.idle()
    assert "I don't know the command `drop`" in note.text and note.params["response_type"] == "ephemeral"


async def test_slack_url_verification_is_answered(slack):
    response = await slack.post(json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"}),
                                "application/json")
    assert response.status == 200 and "abc123" in await response.text()


async def test_secrets_never_reach_logs_or_answers(slack, caplog):
    caplog.set_level(logging.DEBUG)
    await slack.say("miss prior-auth renewals")
    await slack.say("bogus words")
    bad = await slack.post(slash("status"), "application/x-www-form-urlencoded", timestamp=1)
    answers = [await bad.text()] + [c.text for c in slack.api.calls]
    logged = [r.getMessage() for r in caplog.records] + [str(r.args) for r in caplog.records]
    for secret in (BOT_TOKEN, SIGNING_SECRET):
        assert not any(secret in line for line in logged), "a secret was logged"
        assert not any(secret in text for text in answers), "a secret was echoed"
