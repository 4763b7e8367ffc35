"""The App Home tab: my open actions with check-in buttons, recoveries I am part of, the next standups."""

from __future__ import annotations

from sqlalchemy import select

from bot.store.models import Checkin
from tests.fakes.slack_api import Call
from tests.slack.conftest import Workspace


async def open_home(slack: Workspace, user: str, team: str = "T1") -> Call:
    before = len(slack.api.calls_to("views.publish"))
    response = await slack.event({"type": "app_home_opened", "user": user, "channel": f"D{user[1:]}",
                                  "tab": "home", "event_ts": "1700000000.1"}, team=team)
    assert response.status == 200
    published = await slack.api.wait_for("views.publish", before + 1)
    await slack.idle()
    return published[-1]


async def setup(slack: Workspace) -> None:
    await slack.say("miss prior-auth renewals for 14 patients")
    await slack.say("action Add renewal dates to the tracker <@U2|sam> due friday")
    await slack.say("standup daily at 09:30")
    await slack.say("miss an unrelated miss", channel="C9", channel_name="billing", user="U3")


async def test_home_shows_my_actions_my_recoveries_and_the_next_standup(slack):
    await setup(slack)
    home = await open_home(slack, "U2")
    view = home.params["view"]
    assert home.params["user_id"] == "U2" and view["type"] == "home" and len(view["blocks"]) <= 100
    text = home.text
    assert "*A1* Add renewal dates to the tracker" in text and "Fri 27 Nov 2026 (in 4 days)" in text
    assert "*R1* prior-auth renewals for 14 patients — in #renewals, you own an action" in text
    assert "#renewals: Mon 23 Nov 09:30 EST" in text
    assert "unrelated" not in text, "a recovery I have no part in is not shown"
    values = [e["value"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert values == ["checkin A1 on-track", "checkin A1 at-risk", "checkin A1 blocked", "checkin A1 done", "A1"]


async def test_a_person_with_nothing_open_sees_how_to_start(slack):
    home = await open_home(slack, "U3")
    assert "None. Thank you!" in home.text and "/mend miss WHAT WAS MISSED" in home.text


async def test_a_check_in_from_home_is_recorded_and_the_home_refreshed(slack):
    await setup(slack)
    home = await open_home(slack, "U2")
    button = next(e for b in home.params["view"]["blocks"] if b["type"] == "actions" for e in b["elements"]
                  if e["value"] == "checkin A1 at-risk")
    response = await slack.click(button, user="U2", view={"id": "V0001", "blocks": home.params["view"]["blocks"]})
    assert response.status == 200
    refreshed = await slack.api.wait_for("views.publish", 2)
    await slack.idle()
    with slack.core.db.session() as session:
        assert [(c.status, c.by_user) for c in session.scalars(select(Checkin))] == [("at-risk", "U2")]
    assert "last check-in 🟠 at-risk" in refreshed[-1].text
    assert any(p.params["channel"] == "C1" and "A1 is at risk" in p.text for p in slack.posts())


async def test_a_note_from_home_is_recorded_and_the_home_refreshed(slack):
    await setup(slack)
    home = await open_home(slack, "U2")
    note = next(e for b in home.params["view"]["blocks"] if b["type"] == "actions" for e in b["elements"]
                if e["action_id"] == "mend_note")
    await slack.click(note, user="U2", view={"id": "V0001"})
    [opened] = await slack.api.wait_for("views.open")
    await slack.idle()
    values = {"state": {"value": {"type": "static_select", "selected_option": {"value": "blocked"}}},
              "note": {"value": {"type": "plain_text_input", "value": "no tracker access yet"}}}
    assert (await slack.submit(opened.params["view"], values, user="U2")).status == 200
    refreshed = await slack.api.wait_for("views.publish", 2)
    await slack.idle()
    with slack.core.db.session() as session:
        assert [(c.status, c.note) for c in session.scalars(select(Checkin))] == [("blocked", "no tracker access yet")]
    assert "last check-in 🔴 blocked" in refreshed[-1].text


async def test_home_in_another_workspace_shows_nothing_from_this_one(slack):
    """The same user id in a second workspace (Enterprise Grid shares ids) sees only that workspace's work."""
    await setup(slack)
    home = await open_home(slack, "U2", team="T2")
    assert home.params["user_id"] == "U2"
    text = home.text
    assert "None. Thank you!" in text
    for leaked in ("A1", "R1", "prior-auth", "renewal dates", "#renewals"):
        assert leaked not in text, leaked
    values = [e["value"] for b in home.params["view"]["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert values == []


async def test_a_double_press_on_one_home_tab_records_one_check_in(slack):
    await setup(slack)
    home = await open_home(slack, "U2")
    blocks = home.params["view"]["blocks"]
    button = next(e for b in blocks if b["type"] == "actions" for e in b["elements"] if e["value"] == "checkin A1 at-risk")

    async def press(view_hash: str) -> None:
        response = await slack.click(button, user="U2", view={"id": "V0001", "hash": view_hash, "blocks": blocks})
        assert response.status == 200
        await slack.idle()

    await press("1700000000.00000001")
    await press("1700000000.00000001")  # the same tab, before it was published again: a double click
    with slack.core.db.session() as session:
        assert [c.status for c in session.scalars(select(Checkin))] == ["at-risk"]
    told = [c for c in slack.api.calls_to("chat.postMessage") if c.params["channel"] == "U2"]
    assert any("already answered" in c.text for c in told)
    await press("1700000000.00000002")  # the tab as published after the first press: a new answer counts
    with slack.core.db.session() as session:
        assert len(session.scalars(select(Checkin)).all()) == 2
