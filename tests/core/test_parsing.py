"""The parser and the engine's handling of free text: property tests with hypothesis."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.errors import UserError
from bot.messages import Audience, Command
from bot.parsing import MAX_COMMAND, check_text, find_mentions, parse_cadence, parse_date
from tests.conftest import open_recovery, snapshot

TODAY = date(2026, 11, 23)  # a Monday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", "2026-11-23"),
        ("tomorrow", "2026-11-24"),
        ("friday", "2026-11-27"),
        ("Fri", "2026-11-27"),
        ("monday", "2026-11-30"),  # a weekday name is the next one, never today
        ("in 3 days", "2026-11-26"),
        ("in 1 day", "2026-11-24"),
        ("in 2 weeks", "2026-12-07"),
        ("2026-12-31", "2026-12-31"),
    ],
)
def test_dates_as_the_contract_lists_them(text, expected):
    assert parse_date(text, TODAY).isoformat() == expected


@given(st.text(max_size=60))
def test_parse_date_returns_a_future_date_or_a_user_error(text):
    try:
        result = parse_date(text, TODAY)
    except UserError as exc:
        assert "Try:" in str(exc) or "date" in str(exc)
    else:
        assert result >= TODAY


@given(st.integers(min_value=0, max_value=3650))
def test_in_n_days(n):
    assert parse_date(f"in {n} days", TODAY) == TODAY + timedelta(days=n)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2026, 11, 22)))
def test_past_dates_are_refused(past):
    with pytest.raises(UserError, match="in the past"):
        parse_date(past.isoformat(), TODAY)


@given(st.sampled_from(["daily", "weekdays"]), st.integers(0, 23), st.integers(0, 59),
       st.sampled_from(["UTC", "America/New_York", "Europe/Paris", "Asia/Kolkata", "Australia/Sydney"]))
def test_cadences_fire_at_the_local_time_asked(kind, hour, minute, tz):
    cadence = parse_cadence(f"{kind} at {hour:02d}:{minute:02d} {tz}", "UTC", datetime(2026, 11, 23, tzinfo=UTC))
    moment = datetime(2026, 11, 23, tzinfo=UTC)
    for _ in range(3):
        nxt = cadence.next_after(moment)
        assert nxt is not None and nxt > moment
        local = nxt.astimezone(__import__("zoneinfo").ZoneInfo(tz))
        assert (local.hour, local.minute) == (hour, minute)
        if kind == "weekdays":
            assert local.weekday() < 5
        moment = nxt


def test_weekly_and_once():
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    weekly = parse_cadence("weekly on thursday at 15:00 Europe/Paris", "UTC", now)
    assert weekly.next_after(now).isoformat() == "2026-11-26T15:00:00+01:00"
    once = parse_cadence("at 11:00", "UTC", now)  # 11:00 has passed today: tomorrow
    assert once.next_after(now).isoformat() == "2026-11-24T11:00:00+00:00"
    assert once.next_after(once.next_after(now)) is None


@given(st.text(min_size=1, max_size=40).filter(lambda t: "<@" not in t and "@" not in t))
def test_text_without_at_signs_names_no_owner(text):
    assert find_mentions(text) == []


@given(st.from_regex(r"U[A-Z0-9]{8}", fullmatch=True), st.from_regex(r"[a-z]{1,12}", fullmatch=True))
def test_slack_mentions_resolve_with_and_without_names(user_id, name):
    assert [(m.user_id, m.name) for m in find_mentions(f"fix <@{user_id}|{name}> due")] == [(user_id, name)]
    assert [(m.user_id, m.name) for m in find_mentions(f"fix <@{user_id}> due")] == [(user_id, None)]


@pytest.mark.parametrize("bad", ["a\x00b", "hello\x1b[31m", "zero\u200bwidth", "{{ 7*7 }}", "{% for x in y %}", "x" * 10_000])
def test_check_text_refuses_bad_input_with_a_reason(bad):
    with pytest.raises(UserError) as info:
        check_text(bad)
    assert any(word in str(info.value) for word in ("control character", "Template markers", "characters long"))


command_words = st.sampled_from(["help", "miss", "status", "draft", "action", "checkin", "standup", "update", "win",
                                 "feedback", "retro", "close", "report", "affected", "plan", "deadline", "bogus", ""])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(word=command_words, rest=st.text(max_size=200))
def test_engine_answers_any_input_without_a_stack_trace(core, word, rest):
    command = Command(platform="console", tenant="fuzz", channel="#fuzz", user="fuzzer", text=f"{word} {rest}")
    replies = core.engine.handle(command)
    assert replies, "every command gets an answer"
    for reply in replies:
        assert "Traceback" not in reply.text and "Error:" not in reply.text
        if reply.kind == "error":
            assert reply.audience == Audience.PRIVATE


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(line=st.sampled_from([
    "action Fix @sam due yesterday", "action @sam due friday", "checkin A1 sideways", "checkin A99 done",
    "draft aliens", "standup daily at 99:00", "deadline 1999-01-01", "close later", "affected x y",
    "retro cause nonsense x", "miss", "win", "feedback", "plan", "update extra",
]), junk=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30))
def test_rejected_commands_leave_the_database_unchanged(chat, core, line, junk):
    if "R1" not in chat.say("/mend status"):
        open_recovery(chat)
        chat.say("/mend action Add renewals to the tracker @sam due friday")
    before = snapshot(core)
    text = chat.say(f"/mend {line}" + (f" {junk}" if line.startswith(("draft", "close later")) else ""))
    assert "only dana can see this" in text
    assert snapshot(core) == before


def test_ten_thousand_characters_are_refused_kindly(chat, core):
    before = snapshot(core)
    text = chat.say("/mend miss " + "a" * 10_000)
    assert f"Mend keeps at most {MAX_COMMAND:,}" in text
    assert snapshot(core) == before


@pytest.mark.parametrize("line", ["/mend win {{ config }}", "/mend miss {% import os %}", "/mend feedback bell\x07"])
def test_template_syntax_and_control_characters_are_refused(chat, core, line):
    before = snapshot(core)
    text = chat.say(line)
    assert "plain text" in text
    assert snapshot(core) == before
