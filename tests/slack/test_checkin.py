"""Check-in reminders: a DM to the owner with buttons, answered once, in place; a note through a modal."""

from __future__ import annotations

import copy

from sqlalchemy import select

from adapters.slack.render import NOTE_ACTION
from bot.store.models import Checkin
from tests.slack.conftest import Workspace


def checkins(slack: Workspace) -> list[tuple[str, str | None, str]]:
    with slack.core.db.session() as session:
        return [(c.status, c.note, c.by_user) for c in session.scalars(select(Checkin).order_by(Checkin.id))]


async def remind(slack: Workspace) -> tuple[str, str]:
    return await slack.reminder()


def buttons(message: dict) -> list[tuple[str, str, str]]:
    return [(e["text"]["text"], e.get("value", ""), e["action_id"])
            for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def test_the_owner_gets_a_dm_with_four_answers_and_a_note(slack):
    channel, ts = await remind(slack)
    message = slack.api.message(channel, ts)
    assert "how is *A1* going?" in message["text"] and "Add renewal dates to the tracker" in message["text"]
    assert buttons(message) == [
        ("On track", "checkin A1 on-track", "mend_button_0"), ("At risk", "checkin A1 at-risk", "mend_button_1"),
        ("Blocked", "checkin A1 blocked", "mend_button_2"), ("Done", "checkin A1 done", "mend_button_3"),
        ("Add a note…", "A1", NOTE_ACTION),
    ]


async def test_a_press_records_once_and_updates_the_message_in_place(slack):
    channel, ts = await remind(slack)
    original = copy.deepcopy(slack.api.message(channel, ts))
    response = await slack.press(channel, ts, "On track")
    assert response.status == 200
    [update] = await slack.api.wait_for("chat.update")
    await slack.idle()
    assert (update.params["channel"], update.params["ts"]) == (channel, ts)
    now = slack.api.message(channel, ts)
    assert "Check-in recorded: A1" in str(now["blocks"]) and "on track" in now["text"]
    assert buttons(now) == [], "the answered message has no buttons left"
    assert checkins(slack) == [("on-track", None, "U2")]

    # A second press on the same message (a client still showing the buttons, a double click) records nothing.
    await slack.press(channel, ts, "Blocked", message=original)
    await slack.idle()
    assert checkins(slack) == [("on-track", None, "U2")]
    told = slack.api.calls_to("response_url")[-1]
    assert told.params["response_type"] == "ephemeral" and "already answered" in told.text
    assert len(slack.api.calls_to("chat.update")) == 1


async def test_blocked_tells_the_recoverys_channel(slack):
    channel, ts = await remind(slack)
    before = len(slack.posts())
    await slack.press(channel, ts, "Blocked")
    await slack.idle()
    [notice] = slack.posts()[before:]
    assert notice.params["channel"] == "C1"
    assert "A1 is blocked" in notice.text and "sam" in notice.text
    assert checkins(slack) == [("blocked", None, "U2")]


async def test_a_note_is_added_through_a_modal_and_answers_the_reminder(slack):
    channel, ts = await remind(slack)
    await slack.press(channel, ts, "Add a note…")
    [opened] = await slack.api.wait_for("views.open")
    view = opened.params["view"]
    assert opened.params["trigger_id"] and view["callback_id"] == "mend_note" and "A1" in view["title"]["text"]

    missing = await slack.submit(view, {"state": {"value": {"type": "static_select", "selected_option": {
        "value": "at-risk"}}}, "note": {"value": {"type": "plain_text_input", "value": "  "}}}, user="U2")
    assert missing.status == 200
    assert (await missing.json()) == {"response_action": "errors", "errors": {"note": "Please write the note."}}
    assert checkins(slack) == []

    values = {"state": {"value": {"type": "static_select", "selected_option": {"value": "at-risk"}}},
              "note": {"value": {"type": "plain_text_input", "value": "waiting on IT for access"}}}
    response = await slack.submit(view, values, user="U2")
    assert response.status == 200 and await response.text() == ""
    await slack.api.wait_for("chat.update")
    await slack.idle()
    assert checkins(slack) == [("at-risk", "waiting on IT for access", "U2")]
    assert "waiting on IT for access" in slack.api.message(channel, ts)["text"]
    assert buttons(slack.api.message(channel, ts)) == []
    assert any(p.params["channel"] == "C1" and "A1 is at risk" in p.text for p in slack.posts())
