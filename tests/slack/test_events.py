"""Events applied once (Slack redelivers), and workspaces kept apart even when channel ids are equal."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.store.models import Action, ProcessedEvent, Recovery
from tests.slack.conftest import BOT_USER, start_workspace


def recoveries(core) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    with core.db.session() as session:
        return [(r.scope, r.channel, r.what) for r in session.scalars(select(Recovery).order_by(Recovery.id))]


async def test_a_redelivered_event_is_applied_once(slack):
    text = f"<@{BOT_USER}> miss prior-auth renewals"
    assert (await slack.mention(text, event_id="Ev0001")).status == 200
    assert (await slack.mention(text, event_id="Ev0001", retry=1)).status == 200
    assert (await slack.mention(text, event_id="Ev0001", retry=2)).status == 200
    await slack.idle()
    assert recoveries(slack.core) == [("slack:T1", "C1", "prior-auth renewals")]
    opened = [p for p in slack.posts() if "R1 opened" in p.text]
    assert len(opened) == 1
    assert not slack.api.calls_to("chat.postEphemeral"), "the redelivery did not answer 'already open' either"


async def test_a_redelivery_after_a_restart_is_applied_once(tmp_path: Path, slack_api, clock):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    text = f"<@{BOT_USER}> miss prior-auth renewals"
    first, _ = await start_workspace(url, slack_api, clock)
    try:
        await first.mention(text, event_id="Ev0042")
        await first.idle()
    finally:
        await first.client.close()
    second, core = await start_workspace(url, slack_api, clock)
    try:
        assert (await second.mention(text, event_id="Ev0042", retry=1)).status == 200
        await second.idle()
        assert recoveries(core) == [("slack:T1", "C1", "prior-auth renewals")]
        assert len([p for p in slack_api.calls_to("chat.postMessage") if "R1 opened" in p.text]) == 1
        with core.db.session() as session:
            assert session.scalar(select(ProcessedEvent.scope).where(ProcessedEvent.event_id == "event:Ev0042")) \
                == "slack:T1"
    finally:
        await second.client.close()


async def test_two_workspaces_with_the_same_channel_id_never_see_each_other(slack):
    await slack.say("miss prior-auth renewals for 14 patients", team="T1", channel="C1")
    await slack.say("action Fix the tracker <@U2> due friday", team="T1", channel="C1")

    other = await slack.say("status", team="T2", channel="C1", user="U9")
    assert "no open recovery in this channel" in other and "prior-auth" not in other
    assert "can't find action A1" in await slack.say("checkin A1 done", team="T2", channel="C1", user="U9")
    report = await slack.say("report", team="T2", channel="C1", user="U9")
    assert "prior-auth" not in report

    opened = await slack.say("miss billing letters", team="T2", channel="C1", user="U9")
    assert "R1 opened: billing letters" in opened, "references count per workspace"
    assert "prior-auth" in await slack.say("status", team="T1", channel="C1")
    assert "billing letters" in await slack.say("status", team="T2", channel="C1", user="U9")
    assert recoveries(slack.core) == [("slack:T1", "C1", "prior-auth renewals for 14 patients"),
                                      ("slack:T2", "C1", "billing letters")]
    with slack.core.db.session() as session:
        assert [(a.scope, a.status) for a in session.scalars(select(Action))] == [("slack:T1", "open")]


async def test_a_button_pressed_in_another_workspace_cannot_answer_this_ones_check_in(slack):
    await slack.say("miss prior-auth renewals for 14 patients", team="T1", channel="C1")
    await slack.say("action Fix the tracker <@U2> due friday", team="T1", channel="C1")
    before = len(slack.api.calls)
    response = await slack.click({"type": "button", "action_id": "mend_button_3", "value": "checkin A1 done"},
                                 user="U2", team="T2", channel="D2")
    assert response.status == 200
    await slack.idle()
    said = "\n".join(c.text for c in slack.api.calls[before:])
    assert "can't find action A1" in said and "Fix the tracker" not in said
    with slack.core.db.session() as session:
        assert [(a.scope, a.status) for a in session.scalars(select(Action))] == [("slack:T1", "open")]
