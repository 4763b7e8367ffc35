"""Neutral messages: what adapters hand the engine (`Command`) and what they get back (`Reply`).

Nothing here knows Slack or Teams. An adapter translates a platform payload into a `Command`,
calls the engine once, and renders each `Reply` with its own renderer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum


class Audience(StrEnum):
    """Who sees a reply."""

    CHANNEL = "channel"  # everyone in `Reply.channel`, or the command's channel when that is None
    PRIVATE = "private"  # only the person who typed the command (Slack ephemeral, Teams reply)
    DIRECT = "direct"  # a direct message to `Reply.to_user` (check-in reminders on Slack)
    SOURCE = "source"  # replaces the message whose button was pressed


class Source(StrEnum):
    """How a command reached the engine."""

    TYPED = "typed"  # slash command, mention or console line
    BUTTON = "button"  # a button on a card the bot posted earlier
    FORM = "form"  # a modal or card form submission


@dataclass(frozen=True)
class Mention:
    """A person named in a command, already resolved by the adapter."""

    user_id: str
    name: str | None = None
    tz: str | None = None


@dataclass(frozen=True)
class Command:
    """One request to the engine, as every adapter sees it."""

    platform: str  # "slack", "teams" or "console"
    tenant: str  # Slack team id, Teams tenant id, or "console"
    channel: str  # where the command was typed
    user: str  # the platform's id of the person
    text: str  # the words after `/mend` or the bot's mention
    user_name: str | None = None
    user_tz: str | None = None
    mentions: tuple[Mention, ...] = ()
    source: Source = Source.TYPED
    channel_name: str | None = None
    request_id: str = ""

    @property
    def scope(self) -> str:
        """The isolation key: data of one workspace or tenant never shows in another."""
        return f"{self.platform}:{self.tenant}"

    def mention_for(self, token: str) -> Mention | None:
        """The resolved person behind `<@U1>`, `<@U1|name>` or `@name` in the text."""
        for mention in self.mentions:
            if token in (mention.user_id, f"@{mention.user_id}", f"@{mention.name}", mention.name):
                return mention
        return None


@dataclass(frozen=True)
class Field:
    label: str
    value: str


@dataclass(frozen=True)
class Button:
    """A button whose `value` is the command words it runs when pressed, e.g. `checkin A3 done`."""

    label: str
    value: str
    style: str | None = None  # "primary", "danger" or None


@dataclass(frozen=True)
class Section:
    text: str = ""
    title: str | None = None
    fields: tuple[Field, ...] = ()
    buttons: tuple[Button, ...] = ()  # buttons that belong to this section only (e.g. one action on App Home)


@dataclass(frozen=True)
class Reply:
    """What the bot says. `text` is always complete on its own (the plain fallback)."""

    text: str
    title: str | None = None
    sections: tuple[Section, ...] = ()
    buttons: tuple[Button, ...] = ()
    context: str | None = None  # a small footer line
    audience: Audience = Audience.CHANNEL
    channel: str | None = None  # target channel when it is not the command's
    to_user: str | None = None  # target person for DIRECT, or the person a reminder mentions
    kind: str = "answer"  # answer, error, notice, reminder, standup, ...

    def to(self, **changes: object) -> Reply:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass
class Outcome:
    """The engine's answer to one command: replies, in order."""

    replies: list[Reply] = field(default_factory=list)

    def add(self, reply: Reply) -> None:
        self.replies.append(reply)
