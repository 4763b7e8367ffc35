"""A console chat with several people: the adapter behind `mend chat`, `mend demo` and the scenario tests.

It translates a typed line into a `Command`, calls the engine once, and renders each `Reply` as text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.engine import Engine
from bot.messages import Audience, Command, Mention, Reply, Source

TENANT = "local"
_BOLD = re.compile(r"(?<![\w*])\*([^\s*][^*\n]*?)\*(?![\w*])")  # *A1* reads as A1 on a terminal
_PLAIN_MENTION = re.compile(r"(?<![\w<])@([A-Za-z][\w.\-]{0,79})")


def render_text(reply: Reply, *, channel: str, speaker: str | None = None) -> str:
    """Plain text for a terminal: who sees it, the title, the body, the buttons as commands."""
    if reply.audience == Audience.PRIVATE:
        where = f"(only {speaker or 'you'} can see this)"
    elif reply.audience == Audience.DIRECT:
        where = f"(direct message to @{reply.to_user})"
    elif reply.audience == Audience.SOURCE:
        where = "(replaces the check-in message)"
    else:
        where = f"[{reply.channel or channel}]"
    lines = [f"Mend {where}"]
    body = _BOLD.sub(r"\1", reply.text)
    lines += ["  " + line if line else "" for line in body.splitlines()]
    if reply.buttons:
        lines.append("  Buttons: " + " · ".join(f"[{b.label}] (/mend {b.value})" for b in reply.buttons))
    return "\n".join(lines)


@dataclass
class ConsoleOutbound:
    """Where reminders and standups go on the console: printed, and kept for tests to read."""

    printer: Callable[[str], None] | None = None
    channel: str = "#general"
    sent: list[Reply] = field(default_factory=list)

    async def send(self, tenant: str, reply: Reply) -> str | None:
        self.sent.append(reply)
        if self.printer:
            self.printer(render_text(reply, channel=self.channel))
        return f"console-{len(self.sent)}"


@dataclass
class ConsoleChat:
    """A channel in which several people type commands. `say` returns what the bot answered, as text."""

    engine: Engine
    channel: str = "#general"
    speaker: str = "dana"
    zones: dict[str, str] = field(default_factory=dict)
    printer: Callable[[str], None] | None = None
    history: list[Reply] = field(default_factory=list)

    def command(self, line: str, *, as_user: str | None = None, source: Source = Source.TYPED,
                channel: str | None = None) -> Command:
        user = (as_user or self.speaker).lstrip("@")
        text = line.strip()
        if text.startswith("/mend"):
            text = text[len("/mend"):].strip()
        mentions = tuple(
            Mention(user_id=name, name=name, tz=self.zones.get(name)) for name in _PLAIN_MENTION.findall(text)
        )
        return Command(platform="console", tenant=TENANT, channel=channel or self.channel, user=user, text=text,
                       user_name=user, user_tz=self.zones.get(user), mentions=mentions, source=source,
                       channel_name=channel or self.channel)

    def send(self, line: str, *, as_user: str | None = None, source: Source = Source.TYPED,
             channel: str | None = None) -> list[Reply]:
        replies = self.engine.handle(self.command(line, as_user=as_user, source=source, channel=channel))
        self.history.extend(replies)
        if self.printer:
            for reply in replies:
                self.printer(render_text(reply, channel=self.channel, speaker=as_user or self.speaker))
        return replies

    def say(self, line: str, *, as_user: str | None = None, source: Source = Source.TYPED,
            channel: str | None = None) -> str:
        """Type a line; get everything the bot answered as one text (what a person would read)."""
        replies = self.send(line, as_user=as_user, source=source, channel=channel)
        return "\n".join(render_text(r, channel=self.channel, speaker=as_user or self.speaker) for r in replies)

    def press(self, button_value: str, *, as_user: str | None = None, channel: str | None = None) -> str:
        """Press a button the bot posted (its value is the command it runs)."""
        return self.say(button_value, as_user=as_user, source=Source.BUTTON, channel=channel)
