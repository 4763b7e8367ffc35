"""Slack payloads → neutral `Command`s. Nothing Slack-shaped goes further than this file.

Slack sends text escaped (`&amp;`, `&lt;`, `&gt;`) with its own markup in angle brackets (`<@U1|dana>`,
`<#C1|general>`, `<https://…>`). The words reach the engine unescaped, with that markup kept, so a title
reads "claims & appeals" in the report and `<@U1>` still names an owner. Rendering escapes again.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from adapters.slack.directory import Directory
from bot.messages import Command, Source

PLATFORM = "slack"
USER_MENTION = re.compile(r"<@(?P<id>[UW][A-Z0-9]+)(?:\|(?P<name>[^>]*))?>")
_MARKUP = re.compile(r"<[^<>]*>")


def unescape(text: str) -> str:
    """Slack's three entities back to characters, outside Slack's own markup."""
    out, last = [], 0
    for match in _MARKUP.finditer(text):
        out.append(_plain(text[last:match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(_plain(text[last:]))
    return "".join(out)


def _plain(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def strip_bot_mention(text: str, bot_user_id: str | None) -> str:
    """`<@UBOT> status` → `status`. Without a known bot id, the first mention is taken to be the bot's."""
    if bot_user_id:
        stripped = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text, count=1)
    else:
        stripped = USER_MENTION.sub(" ", text, count=1)
    return " ".join(stripped.split())


@dataclass(frozen=True)
class Origin:
    """Where a command came from on Slack, so its replies go back to the right place."""

    tenant: str
    channel: str
    user: str
    response_url: str | None = None
    message_channel: str | None = None  # the message whose button was pressed
    message_ts: str | None = None
    thread_ts: str | None = None  # answer in the thread the bot was mentioned in
    home: bool = False  # pressed on the App Home tab
    ephemeral: bool = False  # the pressed message is ephemeral: only its response_url can replace it
    view_state: str | None = None  # pressed on the Home tab: that view's id and hash (they change on publish)


class Translator:
    """Builds a `Command`, resolving the speaker and every person mentioned through the directory."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    async def command(self, *, tenant: str, channel: str, user: str, text: str, source: Source = Source.TYPED,
                      user_name: str | None = None, channel_name: str | None = None,
                      request_id: str | None = None, exclude: tuple[str, ...] = ()) -> Command:
        words = unescape(text).strip()
        mentioned = [m["id"] for m in USER_MENTION.finditer(words) if m["id"] not in exclude]
        people = await self.directory.people([user, *mentioned])
        speaker = people[user]
        return Command(
            platform=PLATFORM,
            tenant=tenant,
            channel=channel,
            user=user,
            text=words,
            user_name=speaker.name or user_name,
            user_tz=speaker.tz,
            mentions=tuple(people[m] for m in dict.fromkeys(mentioned)),
            source=source,
            channel_name=channel_name,
            request_id=request_id or uuid.uuid4().hex[:12],
        )


def slash_origin(body: dict[str, Any]) -> Origin:
    return Origin(tenant=str(body["team_id"]), channel=str(body["channel_id"]), user=str(body["user_id"]),
                  response_url=body.get("response_url"))


def mention_origin(body: dict[str, Any]) -> Origin:
    event = body["event"]
    return Origin(tenant=str(body.get("team_id") or event.get("team")), channel=str(event["channel"]),
                  user=str(event["user"]), thread_ts=event.get("thread_ts"))


def action_origin(body: dict[str, Any]) -> Origin:
    """A button press: on a message (channel and ts known) or on the App Home tab (a view, no channel)."""
    container = body.get("container") or {}
    team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
    user = str((body.get("user") or {}).get("id"))
    if container.get("type") == "view" or (body.get("view") or {}).get("type") == "home":
        view = body.get("view") or {}
        state = f"{view['id']}:{view['hash']}" if view.get("id") and view.get("hash") else None
        return Origin(tenant=str(team), channel=user, user=user, home=True, view_state=state)
    channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id"))
    return Origin(tenant=str(team), channel=channel, user=user, response_url=body.get("response_url"),
                  message_channel=channel, message_ts=container.get("message_ts"),
                  ephemeral=bool(container.get("is_ephemeral")))
