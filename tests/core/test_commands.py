"""Each command of the contract, its success and its error paths, read as a conversation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.messages import Audience
from bot.store.models import Action, Checkin, Delivery, Outreach, Recovery
from tests.conftest import open_recovery, snapshot


def test_help_lists_every_command_with_an_example(chat):
    text = chat.say("/mend help")
    for word in ["help", "miss", "status", "draft", "action", "checkin", "standup", "update", "win", "feedback",
                 "retro", "close", "report"]:
        assert f"`{word}" in text
    assert "e.g. `action Add renewals to the shared tracker @dana due friday checkin daily at 09:00`" in text


def test_empty_command_shows_help(chat):
    assert "Mend commands" in chat.say("/mend")


def test_miss_opens_a_recovery_with_reference_opener_and_first_step(chat, core):
    text = open_recovery(chat)
    assert "R1 opened: prior-auth renewals for 14 patients" in text
    assert "Opened by dana on Mon 23 Nov 08:00 EST" in text
    opened, progress = text.split("R1: progress")  # the answer, then the step the count completed
    assert "Step 1 of 7: Acknowledge the miss" in opened
    assert "Step done: Acknowledge the miss" in progress and "Step 2 of 7: Tell the people affected" in progress
    with core.db.session() as s:
        recovery = s.scalars(select(Recovery)).one()
        assert (recovery.opened_by, recovery.channel, recovery.status) == ("dana", "#renewals", "open")
        assert recovery.original_deadline.isoformat() == "2026-11-20"
        assert [(g.audience, g.count) for g in recovery.affected] == [("patients", 14)]


def test_miss_without_words_shows_the_form(chat):
    text = chat.say("/mend miss")
    assert "Please add what was missed" in text and "Try: `miss" in text
    assert "only dana can see this" in text


def test_second_miss_in_the_same_channel_is_refused(chat):
    open_recovery(chat)
    text = chat.say("/mend miss another thing")
    assert "already has an open recovery, R1" in text


def test_references_count_per_workspace(chat):
    open_recovery(chat)
    text = chat.say("/mend miss referral cutoff for 3 families", channel="#referrals")
    assert "R2 opened" in text


def test_status_shows_step_outreach_actions_and_next_checkins(chat):
    open_recovery(chat)
    chat.say("/mend draft patients")
    chat.say("/mend action Add renewals to the tracker @sam due friday checkin daily at 09:00")
    text = chat.say("/mend status")
    assert "R1: prior-auth renewals for 14 patients" in text
    assert "Step 3 of 7: Make it right" in text
    assert "To finish this step, say what is being done for them" in text
    assert "Patients: drafted" in text
    assert "A1 Add renewals to the tracker — sam, due Fri 27 Nov 2026 (in 4 days)" in text
    assert "checkin Mon 23 Nov 09:00 EST — A1 with sam" in text


def test_status_without_recovery_says_how_to_open_one(chat):
    assert "There is no open recovery in this channel. Open one with `miss WHAT WAS MISSED`" in chat.say("/mend status")


@pytest.mark.parametrize("audience", ["patients", "families", "providers", "payers", "leadership", "team"])
def test_draft_for_every_audience_has_the_required_elements(chat, core, audience):
    open_recovery(chat)
    chat.say("/mend plan resubmit every renewal with an expedited review")
    chat.say("/mend deadline 2026-12-04")
    text = chat.say(f"/mend draft {audience}")
    assert "prior-auth renewals for 14 patients" in text
    assert "Fri 4 Dec 2026" in text  # the new deadline
    assert "resubmit every renewal with an expedited review" in text  # what is being done
    assert "Thu 26 Nov 2026" in text  # the next update
    assert "dana" in text  # whom to contact
    assert any(word in text.lower() for word in ("sorry", "apologise", "we own this"))
    with core.db.session() as s:
        draft = s.scalars(select(Outreach)).one()
        assert (draft.audience, draft.drafted_by, draft.kind) == (audience, "dana", "draft")


def test_patient_draft_is_plain_language(chat):
    open_recovery(chat)
    text = chat.say("/mend draft patients")
    assert "We are sorry." in text and "✓ Has every required element." in text
    assert "✓ reading grade" in text
    assert "Next update: we will write to you again by" in text


def test_draft_for_an_unknown_audience_lists_the_right_ones(chat):
    open_recovery(chat)
    text = chat.say("/mend draft martians")
    assert "`martians` is not an audience I know" in text
    assert "patients, families, providers, payers, leadership, team" in text


def test_draft_promises_an_update_and_schedules_a_reminder_to_the_lead(chat, core):
    open_recovery(chat)
    chat.say("/mend draft patients")
    with core.db.session() as s:
        reminder = s.scalars(select(Delivery).where(Delivery.kind == "update_due")).one()
        assert reminder.to_user == "dana"
        assert reminder.due_at.isoformat() == "2026-11-26T15:00:00+00:00"  # 10:00 New York, three days on


def test_action_with_owner_due_date_and_cadence(chat, core):
    open_recovery(chat)
    text = chat.say("/mend action Add renewals to the tracker @sam due friday checkin weekdays at 09:00")
    assert "A1 added to R1" in text
    assert "Owner: sam · Due Fri 27 Nov 2026" in text
    assert "Check-ins: weekdays at 09:00 America/New_York; the first on Mon 23 Nov 09:00 EST" in text
    with core.db.session() as s:
        action = s.scalars(select(Action)).one()
        assert (action.owner, action.due.isoformat(), action.status) == ("sam", "2026-11-27", "open")


def test_action_owner_zone_sets_the_cadence_zone(chat):
    open_recovery(chat)
    text = chat.say("/mend action Weekly review @lee due in 5 days checkin daily at 09:00")
    assert "daily at 09:00 America/Chicago" in text


def test_action_without_cadence_checks_in_on_the_due_date(chat):
    open_recovery(chat)
    text = chat.say("/mend action Call the payer @sam due tomorrow")
    assert "the first on Tue 24 Nov 09:00 EST" in text


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("/mend action Add renewals to the tracker due friday", "Who owns this action?"),
        ("/mend action @sam due friday", "Please add a title before the owner"),
        ("/mend action Fix it @sam", "Please give a due date after the owner"),
        ("/mend action Fix it @sam due 2020-01-01", "2020-01-01 is in the past"),
        ("/mend action Fix it @sam due someday", "I could not read `someday` as a date"),
        ("/mend action Fix it @sam due 2026-02-30", "`2026-02-30` is not a real date"),
        ("/mend action Fix it @sam due friday checkin daily at 25:00", "`25:00` is not a time"),
        ("/mend action Fix it @sam due friday checkin daily at 09:00 Mars/Olympus", "I don't know the time zone"),
        ("/mend action Fix it @sam due friday checkin sometimes", "as a schedule"),
    ],
)
def test_action_errors_show_the_right_form_and_write_nothing(chat, core, line, message):
    open_recovery(chat)
    before = snapshot(core)
    text = chat.say(line)
    assert message in text
    assert "Try: `" in text
    assert snapshot(core) == before


def test_checkin_records_status_note_and_who(chat, core):
    open_recovery(chat)
    chat.say("/mend action Add renewals to the tracker @sam due friday")
    text = chat.say("/mend checkin A1 at-risk waiting on IT for access", as_user="sam")
    assert "🟠 A1 Add renewals to the tracker: at risk — waiting on IT for access" in text
    assert "Recorded by sam" in text
    with core.db.session() as s:
        checkin = s.scalars(select(Checkin)).one()
        assert (checkin.status, checkin.note, checkin.by_user) == ("at-risk", "waiting on IT for access", "sam")


def test_checkin_done_closes_the_action_and_cancels_its_reminders(chat, core):
    open_recovery(chat)
    chat.say("/mend action Add renewals to the tracker @sam due friday checkin daily at 09:00")
    chat.say("/mend checkin A1 done", as_user="sam")
    with core.db.session() as s:
        assert s.scalars(select(Action)).one().status == "done"
        states = {d.state for d in s.scalars(select(Delivery).where(Delivery.kind == "checkin"))}
        assert states == {"cancelled"}
    assert "already done" in chat.say("/mend checkin A1 on-track", as_user="sam")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("/mend checkin", "Name the action and how it is going"),
        ("/mend checkin A9 done", "I can't find action A9"),
        ("/mend checkin X1 done", "`X1` is not an action reference"),
        ("/mend checkin A1 sideways", "`sideways` is not a check-in answer"),
    ],
)
def test_checkin_errors(chat, core, line, message):
    open_recovery(chat)
    chat.say("/mend action Add renewals to the tracker @sam due friday")
    before = snapshot(core)
    assert message in chat.say(line)
    assert snapshot(core) == before


def test_blocked_checkin_from_a_dm_tells_the_recovery_channel(chat):
    open_recovery(chat)
    chat.say("/mend action Add renewals to the tracker @sam due friday")
    replies = chat.send("/mend checkin A1 blocked no access", as_user="sam", channel="DM-sam")
    channels = [r.channel for r in replies if r.audience == Audience.CHANNEL]
    assert "#renewals" in channels


def test_standup_now_daily_weekdays_and_off(chat, core):
    open_recovery(chat)
    chat.say("/mend action Add renewals to the tracker @sam due tomorrow")
    now = chat.say("/mend standup now")
    assert "Standup — Mon 23 Nov 08:00 EST" in now
    assert "R1: prior-auth renewals for 14 patients" in now and "Due soon: A1" in now
    assert "daily at 09:30 America/New_York" in chat.say("/mend standup daily at 09:30")
    weekdays = chat.say("/mend standup weekdays at 10:00 Europe/London")
    assert "weekdays at 10:00 Europe/London" in weekdays
    with core.db.session() as s:
        pending = s.scalars(select(Delivery).where(Delivery.kind == "standup", Delivery.state == "pending")).all()
        assert len(pending) == 1  # the new schedule replaced the old one
    assert "is off" in chat.say("/mend standup off")
    assert "No standup was scheduled here" in chat.say("/mend standup off")


@pytest.mark.parametrize("line", ["/mend standup", "/mend standup hourly", "/mend standup daily at noon",
                                  "/mend standup daily at 09:00 Nowhere/Land"])
def test_standup_errors(chat, core, line):
    before = snapshot(core)
    text = chat.say(line)
    assert "Try: `standup now | daily at HH:MM [TZ]" in text or "time zone" in text
    assert snapshot(core) == before


def test_update_drafts_from_what_is_recorded(chat):
    open_recovery(chat)
    chat.say("/mend action Add renewals to the tracker @sam due friday")
    chat.say("/mend action Weekly review @lee due friday")
    chat.say("/mend checkin A1 done", as_user="sam")
    chat.say("/mend win 6 renewals resubmitted")
    text = chat.say("/mend update")
    assert "What is done:\n  - Add renewals to the tracker" in text
    assert "What we are still working on:\n  - Weekly review" in text
    assert "Good news: 6 renewals resubmitted" in text
    assert "Next update: by" in text
    assert "✓ reading grade" in text  # the people affected read it too: plain language, shown beside it
    refused = chat.say("/mend update now please")
    assert "it takes only a language (es)" in refused and "Try: `update [es]`" in refused


def test_win_and_feedback_are_recorded_and_counted(chat, core):
    open_recovery(chat)
    assert "That's 1 win on the way back" in chat.say("/mend win the payer agreed to expedite")
    assert "That's 2 wins" in chat.say("/mend win 6 renewals resubmitted")
    assert "“a family asked for a phone call”" in chat.say("/mend feedback a family asked for a phone call")
    assert "Please add the win" in chat.say("/mend win")
    with core.db.session() as s:
        recovery = s.scalars(select(Recovery)).one()
        assert [w.text for w in recovery.wins] == ["the payer agreed to expedite", "6 renewals resubmitted"]
        assert [f.text for f in recovery.feedback] == ["a family asked for a phone call"]


def test_retro_asks_why_until_a_cause_then_what_changes(chat, core):
    open_recovery(chat)
    assert "What happened, in a sentence or two?" in chat.say("/mend retro")
    assert "Why did it happen?" in chat.say("/mend retro dates lived in one calendar")
    assert "And why did that happen?" in chat.say("/mend retro nobody else could see them")
    assert "`chaos` is not a cause category" in chat.say("/mend retro cause chaos it was chaos")
    assert "What will change" in chat.say("/mend retro cause tracking no shared tracker")
    done = chat.say("/mend retro every renewal goes in the shared tracker")
    assert "Retrospective for R1: complete" in done
    assert "cause: tracking: no shared tracker" in done
    with core.db.session() as s:
        recovery = s.scalars(select(Recovery)).one()
        assert (recovery.cause_category, recovery.cause_note) == ("tracking", "no shared tracker")
    assert "The retrospective is complete" in chat.say("/mend retro one more thing")


def test_retro_insists_on_a_cause_after_five_whys(chat):
    open_recovery(chat)
    chat.say("/mend retro it was missed")
    for i in range(5):
        chat.say(f"/mend retro because {i}")
    assert "now name the cause" in chat.say("/mend retro because again")


def test_close_is_refused_while_actions_are_open_unless_anyway(chat, core):
    open_recovery(chat)
    chat.say("/mend action Add renewals to the tracker @sam due friday checkin daily at 09:00")
    refused = chat.say("/mend close")
    assert "R1 still has 1 open action(s): A1" in refused and "close anyway" in refused
    with core.db.session() as s:
        assert s.scalars(select(Recovery)).one().status == "open"
    assert "R1 is closed with 1 action(s) still open" in chat.say("/mend close anyway")
    with core.db.session() as s:
        assert s.scalars(select(Recovery)).one().status == "closed"
        assert {d.state for d in s.scalars(select(Delivery))} == {"cancelled"}


def test_close_after_actions_are_done(chat):
    open_recovery(chat)
    chat.say("/mend action Add renewals to the tracker @sam due friday")
    chat.say("/mend checkin A1 done", as_user="sam")
    assert "R1 is closed. 1 prevention action(s) done" in chat.say("/mend close")
    assert "There is no open recovery in this channel" in chat.say("/mend close")


def test_close_with_an_unknown_word_is_refused_and_writes_nothing(chat, core):
    open_recovery(chat)
    before = snapshot(core)
    text = chat.say("/mend close later")
    assert "`close later` is not a form I know" in text and "Try: `close [anyway]`" in text
    assert "only dana can see this" in text
    assert snapshot(core) == before


def test_report_has_every_part(chat, clock):
    open_recovery(chat)
    chat.say("/mend draft patients")
    chat.say("/mend action Add renewals to the tracker @sam due friday")
    clock.advance(timedelta(hours=2))
    chat.say("/mend checkin A1 on-track started", as_user="sam")
    chat.say("/mend feedback a family asked for a call")
    chat.say("/mend win payer agreed to expedite")
    chat.say("/mend retro dates lived in one calendar")
    text = chat.say("/mend report")
    for heading in ["# R1:", "## Playbook", "## Timeline", "## Outreach", "## Actions and check-ins",
                    "## Feedback", "## Wins", "## Lessons"]:
        assert heading in text
    assert "Mon 23 Nov 10:00 EST on-track (sam): started" in text
    assert "dana: opened R1" in text


def test_unknown_command_suggests_the_nearest(chat):
    text = chat.say("/mend stauts")
    assert "I don't know the command `stauts`. Did you mean `status`?" in text


def test_affected_plan_and_deadline(chat, core):
    open_recovery(chat)
    assert "Counted: 14 patients, 3 families" in chat.say("/mend affected 3 families")
    assert "Give a number and a group" in chat.say("/mend affected many")
    assert "I could not read `3 aliens`" in chat.say("/mend affected 3 aliens")
    assert "Recorded: call every family" in chat.say("/mend plan call every family")
    assert "Committed: Mon 30 Nov 2026" in chat.say("/mend deadline in 7 days")
    assert "(was Mon 30 Nov 2026)" in chat.say("/mend deadline 2026-12-02")
    assert "is in the past" in chat.say("/mend deadline 2026-11-01")


def test_report_without_a_recovery_says_how_to_open_one(chat, core):
    before = snapshot(core)
    text = chat.say("/mend report")
    assert "There is no recovery in this channel yet. Open one with `miss WHAT WAS MISSED`" in text
    assert "only dana can see this" in text
    assert snapshot(core) == before


def test_report_after_close_is_the_closed_recoverys(chat):
    open_recovery(chat)
    chat.say("/mend close")
    text = chat.say("/mend report")
    assert "# R1: prior-auth renewals for 14 patients" in text
    assert "- Status: closed (closed Mon 23 Nov 08:00 EST)" in text
    assert "dana: closed R1" in text


def test_a_workspace_never_sees_another_workspaces_recoveries_or_actions(core):
    from adapters.console.channel import ConsoleChat
    from bot.messages import Command

    open_recovery(ConsoleChat(core.engine, channel="#renewals", speaker="dana"))
    ConsoleChat(core.engine, channel="#renewals", speaker="dana").say(
        "/mend action Add renewals to the tracker @sam due friday")

    def other(text: str) -> str:
        command = Command(platform="console", tenant="elsewhere", channel="#renewals", user="eve", text=text)
        return "\n".join(r.text for r in core.engine.handle(command))

    assert "There is no open recovery in this channel" in other("status")
    assert "I can't find action A1 in this workspace" in other("checkin A1 done")
    assert "There is no recovery in this channel yet" in other("report")
    assert "R1 opened" in other("miss referral cutoff for 2 families")  # references count per workspace
    assert "prior-auth" not in other("standup now") and "A1" not in other("status")


def test_dates_are_read_in_the_persons_zone_not_the_servers(chat, core, clock):
    """22:30 on Monday in New York is already Tuesday in UTC: `today` is still Monday for dana."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    clock.set(datetime(2026, 11, 23, 22, 30, tzinfo=ZoneInfo("America/New_York")))
    open_recovery(chat)
    assert "Due Mon 23 Nov 2026" in chat.say("/mend action Call the payer @sam due today")
    assert "Due Tue 24 Nov 2026" in chat.say("/mend action Fax the forms @sam due tomorrow")
    assert "Committed: Mon 23 Nov 2026" in chat.say("/mend deadline 2026-11-23")  # not in the past for her
    with core.db.session() as s:
        assert [a.due.isoformat() for a in s.scalars(select(Action).order_by(Action.ref_no))] == [
            "2026-11-23", "2026-11-24"]


def test_a_long_field_is_refused_with_the_right_form(chat, core):
    open_recovery(chat)
    before = snapshot(core)
    text = chat.say("/mend win " + "great news " * 100)
    assert "Mend keeps at most 1,000" in text and "Try: `win" in text
    assert snapshot(core) == before


def test_status_reads_due_dates_in_the_readers_zone(core, clock):
    """08:00 on Tuesday in Sydney is still Monday in UTC: an action due today is due today, not tomorrow."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from adapters.console.channel import ConsoleChat

    sydney = "Australia/Sydney"
    clock.set(datetime(2026, 11, 24, 8, 0, tzinfo=ZoneInfo(sydney)))
    chat = ConsoleChat(core.engine, channel="#sydney", speaker="kim", zones={"kim": sydney})
    chat.say("/mend miss renewals for 3 patients")
    chat.say("/mend action Call the payer @kim due today")
    assert "due Tue 24 Nov 2026 (today)" in chat.say("/mend status")


def test_an_evening_standup_does_not_call_todays_action_overdue(chat, clock):
    """21:00 on Monday in New York is Tuesday in UTC: an action due Monday is not overdue yet."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    clock.set(datetime(2026, 11, 23, 21, 0, tzinfo=ZoneInfo("America/New_York")))
    open_recovery(chat)
    chat.say("/mend action Call the payer @sam due today")
    standup = chat.say("/mend standup now")
    assert "Overdue" not in standup and "Actions: 0 of 1 done, 0 overdue." in standup


def test_an_error_quoting_what_was_typed_masks_identifiers_in_it(chat, core):
    open_recovery(chat)
    before = snapshot(core)
    answer = chat.say("/mend deadline call 555-201-7788 first")
    assert "only dana can see this" in answer and "could not read" in answer
    assert "555-201-7788" not in answer and "[phone]" in answer
    assert snapshot(core) == before


def test_a_whole_command_refused_for_its_length_or_markers_shows_the_right_form(chat, core):
    open_recovery(chat)
    before = snapshot(core)
    too_long = chat.say("/mend status " + "x" * 5000)
    assert "at most 3,000" in too_long and "Try: `status`" in too_long
    marked = chat.say("/mend action Call {{ secret }} @sam due friday")
    assert "Template markers" in marked and "Try: `action TITLE @OWNER due DATE" in marked
    unknown = chat.say("/mend frobnicate {{ x }}")
    assert "Try: `help`" in unknown
    assert snapshot(core) == before


def test_impact_is_recorded_masked_and_shown_in_status_drafts_and_the_report(chat, core):
    open_recovery(chat)
    before = snapshot(core)
    assert "Try: `impact 14 families" in chat.say("/mend impact")
    assert snapshot(core) == before, "a refused impact writes nothing"
    answer = chat.say("/mend impact 14 families waited two extra weeks; Mr. Alvarez missed a treatment")
    assert "Recorded: 14 families waited two extra weeks" in answer and "Alvarez" not in answer
    with core.db.session() as session:
        assert session.scalars(select(Recovery)).one().impact == (
            "14 families waited two extra weeks; Mr. [name] missed a treatment")
    assert "Impact: 14 families waited two extra weeks" in chat.say("/mend status")
    team = chat.say("/mend draft team")
    assert "What this means for them: 14 families waited two extra weeks" in team
    assert "- Impact: 14 families waited two extra weeks" in chat.say("/mend report")
