"""The command-line program: demo, db upgrade, and configuration errors."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, inspect

from adapters.console.demo import run_demo
from bot.cli import main


def test_demo_shows_every_stage_and_succeeds(tmp_path):
    lines: list[str] = []
    started = time.monotonic()
    assert run_demo(lines.append, database_url=f"sqlite:///{tmp_path / 'demo.db'}") == 0
    assert time.monotonic() - started < 30, "the contract's demo runs in under 30 seconds"
    text = "\n".join(lines)
    for stage in [
        "R1 opened",  # the miss acknowledged
        "draft for patients", "draft for payers",  # outreach
        "@sam › /mend approve patients", "Approved by sam",  # approved by someone other than the author
        "Marked sent to 14 patients", "1 of 14 patients reached",  # the ledger
        "“Mrs. [name] asked for a phone call instead of a letter, at [phone]”",  # PHI masked
        "(only dana can see this)\n  I masked a name and a phone number",  # and the author told privately
        "A1 added to R1", "A2 added to R1",  # two prevention actions with owners
        "(direct message to @sam)", "how is A1 going",  # a check-in reminder fired
        "A1 Add every renewal date to the shared tracker: on track",  # and answered
        "Standup — Mon 23 Nov 09:30 EST",  # a standup posted
        "A win for R1", "Feedback recorded", "Retrospective for R1: complete",
        "# R1: prior-auth renewals", "R1 closed",
    ]:
        assert stage in text, stage
    for typed in ("Alvarez", "555-201-3344"):  # only in the line dana typed, never in what Mend says or keeps
        assert text.count(typed) == 1, typed
    assert "Demo finished" in text and ", 0 errors" in text


def test_db_upgrade_creates_the_schema(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'up.db'}"
    monkeypatch.setenv("MEND_DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 0
    assert "up to date" in capsys.readouterr().out
    tables = set(inspect(create_engine(url)).get_table_names())
    assert {"recoveries", "actions", "checkins", "deliveries", "schedules", "alembic_version"} <= tables


def test_a_bad_timezone_setting_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {"MEND_TIMEZONE": "Mars/Olympus", "PATH": "", "MEND_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    result = subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert "is not an IANA time zone" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(("settings", "message"), [
    ({"SLACK_BOT_TOKEN": "xoxb-1111-2222-notreal"}, "SLACK_SIGNING_SECRET is required when SLACK_BOT_TOKEN is set"),
    ({"MICROSOFT_APP_ID": "00000000-1111-2222-3333-444444444444", "MICROSOFT_APP_PASSWORD": "s3cret-not-real",
      "MICROSOFT_APP_TYPE": "SingleTenant"}, "MICROSOFT_APP_TYPE=SingleTenant needs MICROSOFT_APP_TENANT_ID"),
])
def test_serve_with_an_adapter_half_configured_is_a_one_line_error(tmp_path, settings, message):
    env = {"PATH": "", "HOME": str(tmp_path), "MEND_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}", **settings}
    result = subprocess.run([sys.executable, "-m", "bot.cli", "serve", "--port", "0"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = [x for x in result.stderr.splitlines() if x.startswith("mend:")]
    assert line.startswith("mend: configuration: ") and message in line
    for secret in ("xoxb-1111-2222-notreal", "s3cret-not-real"):
        assert secret not in result.stderr + result.stdout
    assert not (tmp_path / "serve.db").exists(), "a configuration error is found before the database is touched"


def test_chat_is_an_interactive_channel_with_several_people(tmp_path):
    lines = "\n".join([
        "/mend miss referral cutoff for 3 families",
        "as @sam",
        "status",
        "/mend checkin A7 done",
        "quit",
    ]) + "\n"
    env = {"MEND_DATABASE_URL": f"sqlite:///{tmp_path / 'chat.db'}", "MEND_TIMEZONE": "America/New_York",
           "PATH": "", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "bot.cli", "chat", "--channel", "#referrals", "--user", "dana"],
                            input=lines, env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Mend chat — you are in #referrals as @dana." in out
    assert "R1 opened: referral cutoff for 3 families" in out
    assert "Now speaking as @sam." in out
    assert "Step 2 of 7: Tell the people affected" in out  # status, asked by sam
    assert "(only sam can see this)" in out and "I can't find action A7" in out


def test_chat_shows_a_reminder_when_it_comes_due_while_you_type(tmp_path):
    """A check-in due a moment after `mend chat` starts appears in the running chat, without a command."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from adapters.console.channel import ConsoleChat
    from bot.app import build_core
    from bot.config import Settings
    from bot.store.models import Delivery

    url = f"sqlite:///{tmp_path / 'chat.db'}"
    core = build_core(Settings(database_url=url, timezone="America/New_York"))
    chat = ConsoleChat(core.engine, channel="#referrals", speaker="dana")
    chat.say("/mend miss referral cutoff for 3 families")
    chat.say("/mend action Call the clinic @sam due friday checkin daily at 09:00")
    with core.db.session() as session:
        session.execute(update(Delivery).values(due_at=datetime.now(UTC) + timedelta(seconds=2)))
    core.db.dispose()
    env = {"MEND_DATABASE_URL": url, "MEND_TIMEZONE": "America/New_York", "MEND_TICK_SECONDS": "0.2",
           "PATH": "", "HOME": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "chat", "--channel", "#referrals", "--user", "dana"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                               cwd=tmp_path)
    try:
        assert process.stdout is not None and process.stdin is not None
        os.set_blocking(process.stdout.fileno(), False)
        seen = b""
        deadline = time.monotonic() + 20
        while b"Check-in: A1" not in seen and time.monotonic() < deadline:
            try:
                seen += os.read(process.stdout.fileno(), 65536)
            except BlockingIOError:
                time.sleep(0.05)
        text = seen.decode()
        assert "Mend (direct message to @sam)" in text and "Hi sam, how is A1 going?" in text, text
        _out, err = process.communicate(b"quit\n", timeout=20)
    finally:
        process.kill()
    assert process.returncode == 0, err
