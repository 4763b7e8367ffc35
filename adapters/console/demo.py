"""`mend demo`: a scripted, narrated recovery on a simulated clock, every stage of the playbook in seconds."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from adapters.console.channel import ConsoleChat, ConsoleOutbound
from bot.app import build_core
from bot.clock import SimulatedClock
from bot.config import Settings
from bot.scheduler import DeliveryScheduler

ZONE = "America/New_York"
START = datetime(2026, 11, 23, 8, 30, tzinfo=ZoneInfo(ZONE))  # a Monday morning


def _script() -> list[tuple[str, str | None, str]]:
    """(who, line, narration). `line` None means: let time pass by the narration's amount."""
    return [
        ("narrate", None, "Monday 08:30. Dana, a patient advocate, finds that prior-authorization renewals were missed."),
        ("dana", "/mend miss prior-auth renewals for 14 patients were due 2026-11-20", "Dana acknowledges the miss openly."),
        ("dana", "/mend affected 14 patients 2 payers", "She counts who is affected: no names, just numbers."),
        ("dana", "/mend plan resubmit all 14 renewals with a request for expedited review", "How it will be made right."),
        ("dana", "/mend deadline friday", "A realistic new deadline."),
        ("dana", "/mend draft patients", "A plain-language draft for the patients."),
        ("dana", "/mend draft payers", "And one for the payers."),
        ("sam", "/mend approve patients", "A colleague, not the author, approves the patients' letter."),
        ("dana", "/mend sent patients to all by letter", "Sent: the ledger remembers who is owed the next update."),
        ("dana", "/mend feedback Mrs. Alvarez asked for a phone call instead of a letter, at 555-201-3344",
         "Listening to the people affected. Names and numbers are masked before anything is saved."),
        ("dana", "/mend reached Patient 3 by phone", "Patient 3 got that call."),
        ("dana", "/mend action Add every renewal date to the shared tracker @sam due thursday checkin daily at 09:00",
         "Prevention actions, each with one owner."),
        ("dana", "/mend action Weekly renewal review in team huddle @lee due friday checkin daily at 09:00", ""),
        ("dana", "/mend standup daily at 09:30", "A daily standup in the channel."),
        ("narrate", None, "advance:1d"),
        ("sam", "/mend checkin A1 on-track tracker columns agreed", "Sam answers the reminder."),
        ("lee", "/mend checkin A2 blocked waiting for the huddle agenda owner", "Lee is blocked: the channel hears it."),
        ("narrate", None, "advance:30m"),
        ("dana", "/mend win first 6 renewals resubmitted and acknowledged by the payer", "A small win, celebrated."),
        ("dana", "/mend update", "The promised update, drafted from what is recorded."),
        ("sam", "/mend checkin A1 done", ""),
        ("lee", "/mend checkin A2 done agenda item added for every Monday", ""),
        ("dana", "/mend retro", "The retrospective: what happened, why, what changes."),
        ("dana", "/mend retro renewal dates lived in one advocate's calendar", ""),
        ("dana", "/mend retro nobody else could see them when she was on leave", ""),
        ("dana", "/mend retro cause tracking renewal dates were not in a shared tracker", ""),
        ("dana", "/mend retro every renewal goes in the shared tracker with a 30-day alert", ""),
        ("dana", "/mend status", "Where the recovery stands."),
        ("dana", "/mend report", "The report, for the record."),
        ("dana", "/mend close", "And the recovery is closed."),
    ]


async def _run(out: Callable[[str], None], database_url: str) -> int:
    clock = SimulatedClock(START)
    core = build_core(Settings(database_url=database_url, timezone=ZONE), clock)
    outbound = ConsoleOutbound(printer=out, channel="#renewals")
    chat = ConsoleChat(core.engine, channel="#renewals", speaker="dana", printer=out,
                       zones={"dana": ZONE, "sam": ZONE, "lee": "America/Chicago"})
    scheduler = DeliveryScheduler(core.db, core.engine, {"console": outbound}, clock)
    errors = 0
    for who, line, note in _script():
        if line is None and note.startswith("advance:"):
            amount = note.split(":")[1]
            delta = timedelta(days=int(amount[:-1])) if amount.endswith("d") else timedelta(minutes=int(amount[:-1]))
            end = clock.now() + delta
            out(f"\n~~ time passes: {amount} (simulated) ~~")
            while (due := scheduler.next_due()) is not None and due <= end:  # jump from one due time to the next
                clock.set(max(due, clock.now()))
                await scheduler.tick()
            clock.set(end)
            continue
        if line is None:
            out(f"\n## {note}")
            continue
        if note:
            out(f"\n## {note}")
        out(f"\n@{who} › {line}")
        replies = chat.send(line, as_user=who)
        errors += sum(1 for r in replies if r.kind == "error")
    core.db.dispose()
    out(f"\nDemo finished: {len(outbound.sent)} scheduled messages delivered, {errors} errors.")
    return 0 if errors == 0 else 1


def run_demo(out: Callable[[str], None] = print, database_url: str | None = None) -> int:
    if database_url:
        return asyncio.run(_run(out, database_url))
    with tempfile.TemporaryDirectory(prefix="mend-demo-") as folder:
        return asyncio.run(_run(out, f"sqlite:///{Path(folder) / 'demo.db'}"))
