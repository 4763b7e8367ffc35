"""Every command of the contract typed in Teams (`@Mend WORDS` in a channel), read where replies arrive."""

from __future__ import annotations

from sqlalchemy import select

from bot.store.models import Action, Checkin, ConversationRef, Delivery, Feedback, Recovery, Win
from tests.teams.teams_client import CHANNEL, readable

OPEN = "miss prior-auth renewals for 14 patients were due 2026-11-20"


async def test_help_answers_in_the_thread_of_the_message(teams, connector):
    [answer] = await teams.say("Dana", "help")
    assert answer.kind == "reply"
    assert answer.conversation_id.startswith(f"{CHANNEL};messageid=")
    assert answer.reply_to_id == answer.conversation_id.split("messageid=")[1]
    text = readable(answer)
    for word in ("help", "miss", "status", "draft", "action", "checkin", "standup", "update", "win",
                 "feedback", "retro", "close", "report"):
        assert f"\n{word} — " in text
    assert "<at>" not in text and "Mend" in text


async def test_miss_opens_a_recovery_in_the_channel_with_the_teams_user_as_opener(teams, teams_core):
    text = await teams.says("Dana", OPEN)
    assert "R1 opened: prior-auth renewals for 14 patients" in text
    assert "Opened by Dana on Mon 23 Nov 08:00 EST" in text
    with teams_core.db.session() as s:
        recovery = s.scalars(select(Recovery)).one()
        assert recovery.scope == "teams:tenant-1"
        assert recovery.channel == CHANNEL  # the thread suffix is gone: the channel is one place
        assert recovery.opened_by == teams.member("Dana").aad
        assert recovery.platform == "teams"


async def test_status_from_another_thread_of_the_same_channel(teams):
    await teams.say("Dana", OPEN)
    text = await teams.says("Sam", "status")
    assert "R1: prior-auth renewals for 14 patients" in text
    assert "Missed: prior-auth renewals for 14 patients" in text  # a field of the FactSet
    assert "Step 1 of 7" in text or "Step 2 of 7" in text


async def test_draft_for_patients_and_payers(teams):
    await teams.say("Dana", OPEN)
    await teams.say("Dana", "deadline friday")
    patients = await teams.says("Dana", "draft patients")
    assert "We are sorry" in patients and "Fri 27 Nov 2026" in patients and "Contact Dana" in patients
    assert "expedited or good-cause review" in await teams.says("Dana", "draft payers")
    unknown = await teams.says("Dana", "draft martians")
    assert "martians is not an audience I know" in unknown
    assert "patients, families, providers, payers, leadership, team" in unknown


async def test_action_with_a_teams_mention_makes_that_person_the_owner(teams, teams_core, connector):
    await teams.say("Sam", "help")  # Sam has talked to Mend: their Entra id and zone are known
    await teams.say("Dana", OPEN)
    text = await teams.says("Dana", "action Add renewal dates to the tracker <at>Sam</at> due friday "
                                    "checkin daily at 09:00")
    assert "A1 added to R1" in text and "Owner: Sam" in text
    assert "daily at 09:00 America/New_York" in text
    with teams_core.db.session() as s:
        action = s.scalars(select(Action)).one()
        assert (action.owner, action.owner_name) == (teams.member("Sam").aad, "Sam")
        delivery = s.scalars(select(Delivery).where(Delivery.kind == "checkin")).one()
        assert delivery.to_user == teams.member("Sam").aad and delivery.channel == CHANNEL


async def test_owner_who_never_spoke_is_resolved_through_the_members_api(teams, teams_core, connector):
    lee = teams.member("Lee")
    connector.add_member(lee.teams_id, "Lee", lee.aad)
    await teams.say("Dana", OPEN)
    await teams.say("Dana", "action Weekly review <at>Lee</at> due friday")
    assert ("GET", f"/v3/conversations/{CHANNEL}/members/{lee.teams_id}") in connector.requests
    with teams_core.db.session() as s:
        assert s.scalars(select(Action.owner)).one() == lee.aad


async def test_owner_unknown_to_the_members_api_keeps_the_teams_id(teams, teams_core):
    await teams.say("Dana", OPEN)
    text = await teams.says("Dana", "action Weekly review <at>Lee</at> due friday")
    assert "Owner: Lee" in text
    with teams_core.db.session() as s:
        assert s.scalars(select(Action.owner)).one() == teams.member("Lee").teams_id


async def test_action_without_a_teams_mention_shows_the_right_form(teams, teams_core):
    await teams.say("Dana", OPEN)
    text = await teams.says("Dana", "action Weekly review due friday")
    assert "Who owns this action? Mention one person." in text
    assert "action TITLE @OWNER due DATE" in text
    with teams_core.db.session() as s:
        assert s.scalars(select(Action)).all() == []


async def test_checkin_typed_is_recorded_with_who(teams, teams_core):
    await teams.say("Dana", OPEN)
    await teams.say("Dana", "action Add renewal dates to the tracker <at>Sam</at> due friday")
    text = await teams.says("Sam", "checkin A1 at-risk waiting for IT")
    assert "A1" in text and "at risk" in text and "waiting for IT" in text and "Recorded by Sam" in text
    with teams_core.db.session() as s:
        checkin = s.scalars(select(Checkin)).one()
        assert (checkin.status, checkin.note, checkin.by_user) == ("at-risk", "waiting for IT",
                                                                   teams.member("Sam").aad)


async def test_standup_now_schedules_and_off(teams, teams_core):
    await teams.say("Dana", OPEN)
    now = await teams.says("Dana", "standup now")
    assert "Standup — Mon 23 Nov 08:00 EST" in now and "R1: prior-auth renewals for 14 patients" in now
    assert "daily at 09:30 America/New_York" in await teams.says("Dana", "standup daily at 09:30")
    weekdays = await teams.says("Dana", "standup weekdays at 10:00 Europe/London")
    assert "weekdays at 10:00 Europe/London" in weekdays
    assert "is off" in await teams.says("Dana", "standup off")
    with teams_core.db.session() as s:
        states = {d.state for d in s.scalars(select(Delivery).where(Delivery.kind == "standup"))}
        assert "pending" not in states


async def test_update_win_feedback(teams, teams_core):
    await teams.say("Dana", OPEN)
    assert "1 win" in await teams.says("Dana", "win first 6 renewals resubmitted")
    feedback = await teams.says("Dana", "feedback a family asked for a phone call")
    assert "a family asked for a phone call" in feedback
    update = await teams.says("Dana", "update")
    assert "first 6 renewals resubmitted" in update and "Next update" in update
    with teams_core.db.session() as s:
        assert [w.text for w in s.scalars(select(Win))] == ["first 6 renewals resubmitted"]
        assert [f.text for f in s.scalars(select(Feedback))] == ["a family asked for a phone call"]


async def test_retro_close_and_report(teams, teams_core):
    await teams.say("Dana", OPEN)
    await teams.say("Dana", "action Add renewal dates to the tracker <at>Sam</at> due friday")
    assert "What happened" in await teams.says("Dana", "retro")
    await teams.say("Dana", "retro renewal dates lived in one calendar")
    await teams.say("Dana", "retro nobody else could see them")
    await teams.say("Dana", "retro cause tracking no shared tracker")
    assert "complete" in await teams.says("Dana", "retro every renewal goes in the shared tracker")
    refused = await teams.says("Dana", "close")
    assert "R1 still has 1 open action(s): A1" in refused and "close anyway" in refused
    report = await teams.says("Dana", "report")
    for heading in ("Timeline", "Outreach", "Actions and check-ins", "Feedback", "Wins", "Lessons"):
        assert heading in report
    assert "# " not in report  # markdown headings become bold text: Adaptive Cards have no headings
    assert "R1 is closed" in await teams.says("Dana", "close anyway")
    with teams_core.db.session() as s:
        assert s.scalars(select(Recovery.status)).one() == "closed"


async def test_unknown_words_get_the_nearest_command_in_the_thread(teams, connector):
    [answer] = await teams.say("Dana", "stauts")
    assert answer.kind == "reply"
    assert "I don't know the command stauts. Did you mean status?" in readable(answer)


async def test_a_leading_slash_mend_and_html_from_the_compose_box_are_tolerated(teams):
    await teams.say("Dana", OPEN)
    text = await teams.says("Dana", "/mend&nbsp;win the payer said <b>yes</b> &amp; agreed")
    assert "the payer said yes & agreed" in text


async def test_personal_chat_without_mention(teams, teams_core):
    text = await teams.says("Sam", "miss my own renewal list", conversation="a:1sam-personal",
                            conversation_type="personal")
    assert "R1 opened: my own renewal list" in text
    with teams_core.db.session() as s:
        assert s.scalars(select(Recovery.channel)).one() == "a:1sam-personal"
        ref = s.scalars(select(ConversationRef)).one()
        assert ref.channel == "a:1sam-personal"
        assert ref.reference["conversation"]["conversationType"] == "personal"


async def test_group_chat_with_mention(teams, teams_core, connector):
    posted = await teams.say("Lee", "miss the group chat list", conversation="19:group-chat@thread.v2",
                             conversation_type="groupChat")
    assert "R1 opened: the group chat list" in readable(posted[0])
    assert posted[0].conversation_id == "19:group-chat@thread.v2"


async def test_every_conversation_reference_is_stored_for_proactive_messages(teams, teams_core, connector):
    await teams.say("Dana", "help")
    with teams_core.db.session() as s:
        ref = s.scalars(select(ConversationRef)).one()
    assert (ref.scope, ref.channel) == ("teams:tenant-1", CHANNEL)
    assert ref.reference["serviceUrl"] == connector.service_url
    assert ref.reference["conversation"]["id"] == CHANNEL
    assert ref.reference["channelData"] == {"tenant": {"id": "tenant-1"}}
    assert ref.reference["bot"]["id"] == "28:bot"


async def test_privacy_notice_is_a_short_reply_in_the_thread(teams, teams_core):
    await teams.say("Dana", OPEN)
    posted = await teams.say("Dana", "feedback call me at 617-555-0199 please")
    texts = [readable(p) for p in posted]
    assert all("617-555-0199" not in t for t in texts)
    [notice] = [p for p in posted if "I masked" in readable(p)]
    assert notice.kind == "reply" and len(readable(notice)) < 400


async def test_an_activity_delivered_twice_is_handled_once(teams, teams_core):
    body = teams.activity("Dana", OPEN)
    status, first = await teams.post(body)
    assert status == 200 and "R1 opened" in "\n".join(readable(p) for p in first)
    status, again = await teams.post(body)  # Bot Framework retrying the same activity id
    assert status == 200 and again == []
    with teams_core.db.session() as s:
        assert len(s.scalars(select(Recovery)).all()) == 1
    assert "R2" not in await teams.says("Dana", "status")


async def test_an_owner_typed_without_a_teams_mention_is_refused(teams, teams_core):
    await teams.say("Dana", OPEN)
    text = await teams.says("Dana", "action Fix the tracker @Sam due friday")
    assert "I can't tell who @Sam is" in text and "picking them from the list" in text  # Teams shows code plain
    with teams_core.db.session() as s:
        assert s.scalars(select(Action)).all() == []
