"""`mend chat`: an interactive console channel. Reminders appear in real time while you type."""

from __future__ import annotations

import asyncio
import sys

from adapters.console.channel import ConsoleChat, ConsoleOutbound
from bot.app import build_core
from bot.config import Settings
from bot.scheduler import DeliveryScheduler

BANNER = """Mend chat — you are in {channel} as @{speaker}.
Type commands as in Slack (`/mend help`, or just `help`). `as @name` switches who is speaking.
`quit` leaves. Reminders and standups appear here when they are due."""


async def _loop(settings: Settings, channel: str, speaker: str) -> int:
    core = build_core(settings)
    outbound = ConsoleOutbound(printer=lambda text: print(f"\n{text}", flush=True), channel=channel)
    chat = ConsoleChat(core.engine, channel=channel, speaker=speaker, printer=print,
                       zones={speaker: settings.timezone})
    scheduler = DeliveryScheduler(core.db, core.engine, {"console": outbound}, core.clock,
                                  tick_seconds=min(settings.tick_seconds, 5.0))
    scheduler.start()
    print(BANNER.format(channel=channel, speaker=chat.speaker))
    loop = asyncio.get_running_loop()
    try:
        while True:
            line = await loop.run_in_executor(None, lambda: input(f"@{chat.speaker} › "))
            line = line.strip()
            if not line:
                continue
            if line in ("quit", "exit", "/quit"):
                break
            if line.startswith("as "):
                chat.speaker = line[3:].strip().lstrip("@") or chat.speaker
                chat.zones.setdefault(chat.speaker, settings.timezone)
                print(f"Now speaking as @{chat.speaker}.")
                continue
            await asyncio.to_thread(chat.send, line)
    except (EOFError, KeyboardInterrupt):
        pass
    finally:
        await scheduler.stop()
        core.db.dispose()
    return 0


def run_chat(settings: Settings, *, channel: str = "#general", speaker: str = "you") -> int:
    try:
        return asyncio.run(_loop(settings, channel, speaker))
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 0
