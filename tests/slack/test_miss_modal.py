"""`/mend miss` with no words opens a form; submitting it opens the recovery as `miss WORDS` would."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select

from bot.store.models import Recovery
from tests.slack.conftest import Workspace


async def open_form(slack: Workspace) -> dict:
    response = await slack.command("miss", trigger_id="42.trigger")
    assert response.status == 200
    [opened] = await slack.api.wait_for("views.open")
    await slack.idle()
    assert opened.params["trigger_id"] == "42.trigger"
    return opened.params["view"]


def values(*, what: str = "prior-auth renewals for March", deadline: str | None = "2026-11-20",
           patients: str | None = "14", families: str | None = None, cause: str | None = "tracking",
           lead: str = "U3") -> dict:
    return {
        "what": {"value": {"type": "plain_text_input", "value": what}},
        "deadline": {"value": {"type": "datepicker", "selected_date": deadline}},
        "affected_patients": {"value": {"type": "number_input", "value": patients}},
        "affected_families": {"value": {"type": "number_input", "value": families}},
        "affected_providers": {"value": {"type": "number_input", "value": None}},
        "affected_payers": {"value": {"type": "number_input", "value": "2"}},
        "cause": {"value": {"type": "static_select",
                            "selected_option": {"value": cause} if cause else None}},
        "lead": {"value": {"type": "users_select", "selected_user": lead}},
    }


def recoveries(slack: Workspace) -> list[Recovery]:
    with slack.core.db.session() as session:
        found = list(session.scalars(select(Recovery)))
        for recovery in found:
            _ = recovery.affected
        return found


async def test_the_form_asks_for_what_the_recovery_needs(slack):
    view = await open_form(slack)
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert view["callback_id"] == "mend_miss" and len(view["title"]["text"]) <= 24
    assert json.loads(view["private_metadata"]) == {"channel": "C1", "channel_name": "renewals"}
    assert blocks["deadline"]["element"]["type"] == "datepicker"
    for audience in ("patients", "families", "providers", "payers"):
        element = blocks[f"affected_{audience}"]["element"]
        assert element["type"] == "number_input" and element["is_decimal_allowed"] is False
    options = [o["value"] for o in blocks["cause"]["element"]["options"]]
    assert options == list(slack.core.engine.playbook.cause_categories)
    assert blocks["lead"]["element"] == {"type": "users_select", "initial_user": "U1", "action_id": "value"}
    assert recoveries(slack) == [], "opening the form records nothing"


async def test_submitting_the_form_opens_the_recovery_in_the_channel(slack):
    view = await open_form(slack)
    response = await slack.submit(view, values())
    assert response.status == 200 and await response.text() == ""  # the modal closes
    await slack.api.wait_for("chat.postMessage", 3)
    await slack.idle()

    [recovery] = recoveries(slack)
    assert (recovery.scope, recovery.channel, recovery.channel_name) == ("slack:T1", "C1", "renewals")
    assert recovery.what == "prior-auth renewals for March"
    assert recovery.original_deadline == date(2026, 11, 20)
    assert {g.audience: g.count for g in recovery.affected} == {"patients": 14, "payers": 2}
    assert (recovery.opened_by, recovery.lead, recovery.lead_name) == ("U1", "U3", "lee")
    assert recovery.cause_category == "tracking"

    said = "\n".join(p.text for p in slack.posts("C1"))
    assert "R1 opened: prior-auth renewals for March" in said and "Originally due Fri 20 Nov 2026" in said
    assert "14 patients, 2 payers" in said and "lee now leads R1" in said
    assert "Retrospective" not in said, "the cause is recorded quietly; the retro asks its questions later"


async def test_a_wrong_form_is_answered_next_to_its_fields_and_records_nothing(slack):
    view = await open_form(slack)
    response = await slack.submit(view, values(what="   ", deadline="2030-01-01", patients="-3"))
    assert response.status == 200
    body = await response.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"what", "deadline", "affected_patients"}
    await slack.idle()
    assert recoveries(slack) == []
    assert slack.posts() == []


async def test_the_engine_still_refuses_what_it_refuses_and_says_why_privately(slack):
    await slack.say("miss an earlier miss")
    view = await open_form(slack)
    await slack.submit(view, values())
    await slack.api.wait_for("chat.postEphemeral")
    await slack.idle()
    [note] = slack.api.calls_to("chat.postEphemeral")
    assert note.params["user"] == "U1" and "already has an open recovery" in note.text
    assert [r.what for r in recoveries(slack)] == ["an earlier miss"]
