"""The whole playbook, as a team lives it, through each transport (only the transport changes)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.clock import SimulatedClock
from tests.scenarios.transports import TRANSPORTS

NY = ZoneInfo("America/New_York")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=NY)


@pytest.mark.parametrize("transport_name", sorted(TRANSPORTS))
async def test_a_missed_deadline_is_acknowledged_made_right_and_learned_from(transport_name, tmp_path):
    clock = SimulatedClock(at(23, 8, 30))
    async with TRANSPORTS[transport_name](f"sqlite:///{tmp_path / 'scenario.db'}", clock) as bot:
        sam, lee = bot.mention("sam"), bot.mention("lee")

        opened = await bot.say("dana", "miss prior-auth renewals for 14 patients were due 2026-11-20")
        assert "R1 opened" in opened and "Acknowledge the miss" in opened

        assert "14 patients, 2 payers" in await bot.say("dana", "affected 2 payers")
        assert "Recorded" in await bot.say("dana", "plan resubmit all 14 renewals with expedited review")
        assert "Fri 27 Nov 2026" in await bot.say("dana", "deadline friday")

        patients = await bot.say("dana", "draft patients")
        assert "We are sorry" in patients and "Fri 27 Nov 2026" in patients and "Contact dana" in patients
        assert "expedited or good-cause review" in await bot.say("dana", "draft payers")
        assert "phone call" in await bot.say("dana", "feedback a family asked for a phone call")

        first = await bot.say("dana", f"action Add renewal dates to the shared tracker {sam} due thursday "
                                      "checkin daily at 09:00")
        assert "A1 added to R1" in first and "daily at 09:00 America/New_York" in first
        second = await bot.say("dana", f"action Review renewals in the weekly huddle {lee} due friday "
                                       "checkin daily at 09:00")
        assert "A2 added to R1" in second and "America/Chicago" in second
        assert "Standup scheduled" in await bot.say("dana", "standup daily at 09:30")

        await bot.advance_to(at(23, 10, 5))
        sent = bot.delivered()
        assert any("how is A1 going" in m.replace("*", "") and "sam" in m for m in sent), sent
        assert any("how is A2 going" in m.replace("*", "") and "lee" in m for m in sent), sent
        assert any("Standup" in m and "R1" in m for m in sent), sent

        assert "on track" in await bot.press("sam", "checkin A1 on-track")
        blocked = await bot.say("lee", "checkin A2 blocked waiting for the huddle agenda owner")
        assert "blocked" in blocked and "waiting for the huddle agenda owner" in blocked

        assert "1 win" in await bot.say("dana", "win first 6 renewals resubmitted")
        update = await bot.say("dana", "update")
        assert "first 6 renewals resubmitted" in update and "Next update" in update

        refused = await bot.say("dana", "close")
        assert "still has 2 open action(s)" in refused
        await bot.say("sam", "checkin A1 done")
        await bot.say("lee", "checkin A2 done")

        assert "What happened" in await bot.say("dana", "retro")
        await bot.say("dana", "retro renewal dates lived in one calendar")
        await bot.say("dana", "retro nobody else could see them")
        await bot.say("dana", "retro cause tracking no shared tracker")
        assert "complete" in await bot.say("dana", "retro every renewal goes in the shared tracker")

        status = await bot.say("dana", "status")
        assert "Every step of the playbook is done" in status

        report = await bot.say("dana", "report")
        for part in ("Timeline", "Outreach", "Actions and check-ins", "Feedback", "Wins", "Lessons"):
            assert part in report
        assert "R1 closed" in await bot.say("dana", "close")
