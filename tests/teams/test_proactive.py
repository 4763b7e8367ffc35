"""What Mend posts on its own in Teams: check-in reminders, standups and update reminders, the check-in card
and its buttons, after a restart too, and how connector failures reach the scheduler."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from adapters.teams import connector as connector_module
from bot.app import build_core
from bot.messages import Audience, Reply
from bot.outbound import DeliveryError
from bot.server import ADAPTERS, SCHEDULER, build_web_app
from bot.store.models import Action, Checkin, Delivery, Recovery
from tests.fakes.bot_connector import BotConnectorDouble
from tests.teams.conftest import TEAM, teams_settings
from tests.teams.teams_client import CHANNEL, TeamsClient, readable

OPEN = "miss prior-auth renewals for 14 patients were due 2026-11-20"
CHECKINS = "action Add renewal dates to the tracker <at>Sam</at> due friday checkin daily at 09:00"


async def settled(core, timeout=5.0):
    """Wait until no delivery is in flight (claimed), so the test reads what was recorded."""
    for _ in range(int(timeout / 0.05)):
        with core.db.session() as s:
            if not s.scalars(select(Delivery).where(Delivery.state == "claimed")).all():
                return
        await asyncio.sleep(0.05)
    raise AssertionError("deliveries still in flight")


def is_reminder(posted):
    return posted.kind == "send" and "Check-in: A1" in posted.text


async def remind_sam(teams, http, clock):
    """Sam has talked to Mend; Dana opens a recovery and gives Sam an action; 09:00 comes."""
    await teams.say("Sam", "help")
    await teams.say("Dana", OPEN)
    await teams.say("Dana", CHECKINS)
    clock.advance(timedelta(hours=1, minutes=1))
    await http.app[SCHEDULER].tick()
    [reminder] = await teams.connector.wait_for(is_reminder)
    return reminder


async def test_checkin_reminder_is_posted_in_the_channel_mentioning_the_owner(teams, http, clock, connector):
    reminder = await remind_sam(teams, http, clock)
    sam = teams.member("Sam")
    assert reminder.conversation_id == CHANNEL  # a new post in the recovery's channel, not a reply
    assert reminder.activity["text"] == "<at>Sam</at>"
    assert reminder.mentions == [{"type": "mention", "text": "<at>Sam</at>",
                                  "mentioned": {"id": sam.aad, "name": "Sam"}}]
    assert "Hi Sam, how is A1 going?" in readable(reminder)
    assert reminder.buttons == ["checkin A1 on-track", "checkin A1 at-risk", "checkin A1 blocked",
                                "checkin A1 done"]
    [card] = reminder.cards
    assert card["version"] == "1.5" and card["type"] == "AdaptiveCard"
    assert reminder.activity["channelData"] == {"tenant": {"id": "tenant-1"}}


async def test_pressing_a_button_records_the_checkin_and_updates_the_card_in_place(
        teams, teams_core, http, clock, connector):
    reminder = await remind_sam(teams, http, clock)
    posted = await teams.press("Sam", reminder, "checkin A1 done")
    [update] = [p for p in posted if p.kind == "update"]
    assert update.id == reminder.id
    assert update.conversation_id == f"{CHANNEL};messageid={reminder.id}"
    assert "Check-in recorded: A1" in readable(update) and "done" in readable(update)
    assert update.buttons == []  # it cannot be answered twice
    assert connector.message(CHANNEL, reminder.id) == update.activity
    with teams_core.db.session() as s:
        checkin = s.scalars(select(Checkin)).one()
        assert (checkin.status, checkin.by_user) == ("done", teams.member("Sam").aad)
        assert s.scalars(select(Action.status)).one() == "done"
    notices = [p for p in posted if p.kind != "update"]
    assert all(p.kind == "reply" and p.reply_to_id for p in notices)  # the team hears it in the card's thread


async def test_when_the_card_cannot_be_updated_the_answer_is_a_reply(teams, teams_core, http, clock,
                                                                     connector):
    reminder = await remind_sam(teams, http, clock)
    connector.fail(404, kinds=("update",))
    posted = await teams.press("Sam", reminder, "checkin A1 on-track")
    assert [p.kind for p in posted] == ["reply"]
    assert "Check-in recorded: A1" in readable(posted[0])
    with teams_core.db.session() as s:
        assert s.scalars(select(Checkin.status)).one() == "on-track"


async def test_reminder_and_standup_are_delivered_after_a_restart(db_url, clock):
    async with BotConnectorDouble() as connector:
        first = build_core(teams_settings(db_url), clock)
        async with TestClient(TestServer(build_web_app(first), host="127.0.0.1")) as http:
            teams = TeamsClient(http, connector, TEAM, clock=clock)
            await teams.say("Sam", "help")
            await teams.say("Dana", OPEN)
            await teams.say("Dana", CHECKINS)
            await teams.say("Dana", "standup daily at 09:30")
        connector.clear()

        clock.advance(timedelta(hours=1, minutes=31))  # 09:31: the reminder and the standup are both due
        second = build_core(teams_settings(db_url), clock)
        async with TestClient(TestServer(build_web_app(second), host="127.0.0.1")) as http:
            await http.app[SCHEDULER].tick()
            posted = await connector.wait_for(lambda p: p.kind == "send", count=2)
            await settled(second)  # the start-up tick may be delivering alongside this one
        reminder = next(p for p in posted if "Check-in: A1" in p.text)
        standup = next(p for p in posted if "Standup" in p.text)
        assert reminder.conversation_id == standup.conversation_id == CHANNEL
        assert reminder.mentions[0]["mentioned"]["id"] == teams.member("Sam").aad
        assert "R1: prior-auth renewals for 14 patients" in readable(standup)
        assert standup.mentions == []
        with second.db.session() as s:
            sent = s.scalars(select(Delivery).where(Delivery.state == "sent")).all()
            assert {d.kind for d in sent} == {"checkin", "standup"}
            assert all(d.message_id for d in sent)


async def test_update_reminder_mentions_the_lead_when_the_promised_update_is_due(teams, teams_core, http,
                                                                                 clock):
    await teams.say("Dana", OPEN)
    await teams.say("Dana", "draft patients")
    with teams_core.db.session() as s:
        due = s.scalars(select(Delivery.due_at).where(Delivery.kind == "update_due")).one()
    clock.set(due + timedelta(minutes=1))
    await http.app[SCHEDULER].tick()
    [reminder] = await teams.connector.wait_for(lambda p: p.kind == "send" and "Update due" in p.text)
    assert reminder.conversation_id == CHANNEL
    assert reminder.mentions[0]["mentioned"] == {"id": teams.member("Dana").aad, "name": "Dana"}


def outbound_of(http):
    [adapter] = http.app[ADAPTERS]
    return adapter.outbound


def standup_for(channel=CHANNEL):
    return Reply(text="Standup", title="Standup", kind="standup", channel=channel)


@pytest.mark.parametrize(("status", "retry_after", "expected_wait", "permanent"), [
    (429, 7, 7.0, False), (429, None, 5.0, False), (503, 30, 30.0, False), (502, None, None, False),
    (403, None, None, True), (404, None, None, True), (401, None, None, False),
])
async def test_connector_failures_become_delivery_errors(teams, http, connector, status, retry_after,
                                                         expected_wait, permanent):
    await teams.say("Dana", "help")
    connector.fail(status, retry_after=retry_after)
    with pytest.raises(DeliveryError) as raised:
        await outbound_of(http).send("tenant-1", standup_for())
    assert raised.value.retry_after == expected_wait
    assert raised.value.permanent is permanent
    assert f"HTTP {status}" in str(raised.value)
    assert len(connector.of_kind("send")) == 0 and connector.requests[-1][0] == "POST"  # one attempt only


async def test_retry_after_as_an_http_date(teams, http, connector):
    await teams.say("Dana", "help")
    connector._scripts.clear()
    connector.fail(503, body={"error": {"code": "ServiceUnavailable"}})
    connector._scripts[-1].headers["Retry-After"] = "Wed, 21 Oct 2099 07:28:00 GMT"
    with pytest.raises(DeliveryError) as raised:
        await outbound_of(http).send("tenant-1", standup_for())
    assert raised.value.retry_after and raised.value.retry_after > 3600


async def test_a_conversation_mend_never_saw_is_a_permanent_failure(teams, http):
    with pytest.raises(DeliveryError) as raised:
        await outbound_of(http).send("tenant-1", standup_for("19:unknown@thread.tacv2"))
    assert raised.value.permanent and "no conversation reference" in str(raised.value)


async def test_a_slow_connector_times_out_as_a_retryable_failure(teams, http, connector, monkeypatch):
    await teams.say("Dana", "help")
    monkeypatch.setattr(connector_module, "TIMEOUT_SECONDS", 0.3)
    connector.delay = 1.0
    with pytest.raises(DeliveryError) as raised:
        await outbound_of(http).send("tenant-1", standup_for())
    assert not raised.value.permanent and "could not be reached" in str(raised.value)


async def test_the_scheduler_waits_as_long_as_the_connector_asks(teams, teams_core, http, clock, connector):
    await teams.say("Sam", "help")
    await teams.say("Dana", OPEN)
    await teams.say("Dana", CHECKINS)
    connector.fail(429, retry_after=120, kinds=("send",))
    clock.advance(timedelta(hours=1, minutes=1))
    await http.app[SCHEDULER].tick()
    with teams_core.db.session() as s:
        delivery = s.scalars(select(Delivery).where(Delivery.kind == "checkin")).one()
        assert delivery.state == "claimed" and "HTTP 429" in delivery.last_error
        assert delivery.lease_until == clock.now() + timedelta(seconds=120)
    clock.advance(timedelta(seconds=121))
    await http.app[SCHEDULER].tick()
    await connector.wait_for(is_reminder)
    with teams_core.db.session() as s:
        assert s.scalars(select(Delivery.state).where(Delivery.kind == "checkin")).first() == "sent"


async def test_a_removed_bot_fails_the_delivery_for_good(teams, teams_core, http, clock, connector):
    await teams.say("Dana", OPEN)
    await teams.say("Dana", "standup daily at 09:30")
    connector.fail(403, kinds=("send",))
    clock.advance(timedelta(hours=1, minutes=31))
    await http.app[SCHEDULER].tick()
    with teams_core.db.session() as s:
        standups = select(Delivery).where(Delivery.kind == "standup", Delivery.state == "failed")
        failed = s.scalars(standups).one()
        assert "HTTP 403" in failed.last_error


async def test_a_long_report_is_split_to_stay_within_teams_limits(teams, http, connector):
    await teams.say("Dana", "help")
    sections = "\n".join(f"line {i}: " + "renewal follow-up detail " * 8 for i in range(400))
    reply = Reply(text=sections, title="Report", kind="report", channel=CHANNEL, audience=Audience.CHANNEL)
    await outbound_of(http).send("tenant-1", reply)
    posted = connector.of_kind("send")
    assert len(posted) > 1
    assert all(len(str(p.activity).encode()) < 28_000 for p in posted)
    assert "line 0:" in posted[0].text and "line 399:" in posted[-1].text


async def test_tenants_sharing_a_conversation_id_never_see_each_other(http, connector, clock):
    async with BotConnectorDouble() as other_connector:
        first = TeamsClient(http, connector, TEAM, tenant="tenant-a", clock=clock)
        second = TeamsClient(http, other_connector, TEAM, tenant="tenant-b", clock=clock)
        assert "R1 opened" in await first.says("Dana", OPEN)
        await first.say("Dana", CHECKINS)
        assert "There is no open recovery in this channel" in await second.says("Dana", "status")
        assert "I can't find action A1 in this workspace" in await second.says("Sam", "checkin A1 done")
        opened = await second.says("Dana", "miss referral cutoff for 3 families")
        assert "R1 opened: referral cutoff" in opened
        assert "prior-auth" not in await second.says("Dana", "report")

        clock.advance(timedelta(hours=1, minutes=1))
        await http.app[SCHEDULER].tick()
        await connector.wait_for(is_reminder)
        assert not [p for p in other_connector.posted if p.kind == "send"]  # tenant b's connector saw nothing

    with http.app[SCHEDULER].db.session() as s:
        recoveries = s.scalars(select(Recovery).order_by(Recovery.id)).all()
        assert [(r.scope, r.ref) for r in recoveries] == [("teams:tenant-a", "R1"), ("teams:tenant-b", "R1")]
        assert s.scalars(select(Action.status)).all() == ["open"]  # tenant b could not check in on A1


async def test_a_second_press_of_the_same_card_records_nothing_and_says_so(teams, teams_core, http, clock,
                                                                         connector):
    """A double click, or a teammate whose Teams still shows the card with its buttons."""
    reminder = await remind_sam(teams, http, clock)
    await teams.press("Sam", reminder, "checkin A1 on-track")
    answered = connector.message(CHANNEL, reminder.id)
    again = await teams.press("Dana", reminder, "checkin A1 blocked")  # the old card, still with buttons
    assert [p.kind for p in again] == ["reply"]
    assert "already answered" in readable(again[0]) and "blocked" not in readable(again[0])
    assert connector.message(CHANNEL, reminder.id) == answered, "the card keeps its first answer"
    with teams_core.db.session() as s:
        assert [(c.status, c.by_user) for c in s.scalars(select(Checkin))] == [("on-track", teams.member("Sam").aad)]
    assert not [p for p in connector.posted if "A1 is blocked" in p.text], "the team was not told it is blocked"


async def test_a_press_the_engine_refuses_leaves_the_card_answerable(teams, teams_core, http, clock, connector):
    reminder = await remind_sam(teams, http, clock)
    connector.fail(404, kinds=("update",))
    # A press whose words the engine refuses (no such action) records nothing, so it does not use up the card.
    body = teams.activity("Lee", None, value={"mend": "checkin A9 done"}, reply_to=reminder.id)
    status, refused = await teams.post(body)
    assert status == 200 and "can't find action A9" in "\n".join(readable(p) for p in refused)
    posted = await teams.press("Sam", reminder, "checkin A1 done")
    assert "Check-in recorded: A1" in "\n".join(readable(p) for p in posted)
    with teams_core.db.session() as s:
        assert s.scalars(select(Checkin.status)).all() == ["done"]
