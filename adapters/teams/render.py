"""Neutral `Reply` → Teams messages: an Adaptive Card (schema 1.5) with a plain-text summary.

- The card carries everything a person reads: the title, each section's heading, its lines (one TextBlock
  per line, so line breaks survive every Teams client), fields as a FactSet, and buttons as Action.Submit
  with `data = {"mend": COMMAND}`. Pressing one sends that command back as a message activity.
- `summary` (what Teams shows in notifications and the activity feed) and the card's `fallbackText` hold the
  reply's plain text, shortened. `text` stays empty except for a mention, because Teams shows `text` above
  the card and the content would appear twice.
- Teams refuses a message over about 28 KB, the whole activity counted. A card whose JSON would pass
  `MAX_CARD_BYTES` is split across several messages at element boundaries ("(2 of 3)"), buttons on the
  last; a single oversized line is shortened. `bot.views` already summarises long lists.
- Mend's replies use Slack-style `*bold*`, `` `command` `` and `#` headings; TextBlock markdown knows only
  `**bold**` of these, so all three become bold.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from botbuilder.schema import Activity, Attachment, ChannelAccount
from botbuilder.schema import Mention as MentionEntity

from bot.messages import Button, Reply, Section

CARD_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
MAX_CARD_BYTES = 20_000  # leaves room under Teams' ~28 KB for the summary, mention and envelope
MAX_SUMMARY = 500
_STYLES = {"primary": "positive", "danger": "destructive"}

_BOLD = re.compile(r"(?<![\w*])\*([^\s*][^*\n]*?)\*(?![\w*])")
_CODE = re.compile(r"`([^`\n]+)`")
_HEADING = re.compile(r"^#{1,6}\s+(.+)$", re.MULTILINE)
_TEAMS_USER = re.compile(r"^(29:|8:orgid:)\S+$|^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class Addressee:
    """The person a message mentions (`<at>Name</at>` plus a mention entity), e.g. an action's owner."""

    user_id: str
    name: str


@dataclass(frozen=True)
class Message:
    """One Teams message, before it becomes a botbuilder `Activity`."""

    card: dict[str, Any]
    summary: str
    text: str | None = None
    mention: Addressee | None = None


def markdown(text: str) -> str:
    """Mend's Slack-style markup as TextBlock markdown (headings, `*bold*` and `code` all become bold)."""
    return _HEADING.sub(r"**\1**", _CODE.sub(r"**\1**", _BOLD.sub(r"**\1**", text)))


def plain(text: str) -> str:
    return _HEADING.sub(r"\1", _CODE.sub(r"\1", _BOLD.sub(r"\1", text)))


def can_mention(user_id: str | None) -> bool:
    """Whether Teams can resolve this id in a mention entity (a 29: id or an Entra object id)."""
    return bool(user_id and _TEAMS_USER.match(user_id))


def render(reply: Reply, *, mention: Addressee | None = None, buttons: bool = True) -> list[Message]:
    """The messages that show `reply`: usually one; several when the card would be too large for Teams."""
    summary = _shorten(plain(reply.text).strip() or plain(reply.title or ""), MAX_SUMMARY)
    actions = [_submit(b) for b in reply.buttons] if buttons else []
    pages = _pages(_blocks(reply, buttons), MAX_CARD_BYTES - _size(actions) - 2 * len(summary))
    messages = []
    for number, body in enumerate(pages, start=1):
        if number > 1:
            heading = f"{plain(reply.title or 'Continued')} ({number} of {len(pages)})"
            body = [_text(heading, weight="Bolder"), *body]
        card: dict[str, Any] = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body,
                                "fallbackText": summary, "msteams": {"width": "Full"}}
        if number == len(pages) and actions:
            card["actions"] = actions
        addressed = mention if number == 1 else None
        messages.append(Message(card=card, summary=summary, mention=addressed,
                                text=f"<at>{addressed.name}</at>" if addressed else None))
    return messages


def to_activity(message: Message) -> Activity:
    """The botbuilder `Activity` for one message (entities built as objects: a dict would lose its fields)."""
    activity = Activity(
        type="message",
        text=message.text,
        summary=message.summary,
        attachments=[Attachment(content_type=CARD_TYPE, content=message.card)],
    )
    if message.mention is not None:
        activity.entities = [MentionEntity(
            mentioned=ChannelAccount(id=message.mention.user_id, name=message.mention.name),
            text=f"<at>{message.mention.name}</at>", type="mention",
        )]
    return activity


# --- card elements ------------------------------------------------------------------------------------
def _blocks(reply: Reply, buttons: bool) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = []
    if reply.title:
        body.append(_text(reply.title, size="Medium", weight="Bolder"))
    if not reply.sections:
        return body + _lines(reply.text, spacing="Small")
    for section in reply.sections:
        body += _section(section, buttons)
    if reply.context:
        body.append(_text(reply.context, isSubtle=True, size="Small", spacing="Medium"))
    return body


def _section(section: Section, buttons: bool) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = []
    if section.title:
        body.append(_text(section.title, weight="Bolder", spacing="Medium"))
    body += _lines(section.text, spacing="Small" if section.title else "Medium")
    if section.fields:
        facts = [{"title": markdown(f.label), "value": markdown(f.value)} for f in section.fields]
        body.append({"type": "FactSet", "facts": facts, "spacing": "Small"})
    if section.buttons and buttons:
        body.append({"type": "ActionSet", "actions": [_submit(b) for b in section.buttons]})
    return body


def _lines(text: str, *, spacing: str) -> list[dict[str, Any]]:
    """One TextBlock per line; a blank line opens a new paragraph."""
    blocks, gap = [], spacing
    for line in text.strip().splitlines():
        if not line.strip():
            gap = "Medium"
            continue
        blocks.append(_text(line, spacing=gap))
        gap = "None"
    return blocks


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": markdown(text), "wrap": True, **style}


def _submit(button: Button) -> dict[str, Any]:
    action: dict[str, Any] = {"type": "Action.Submit", "title": button.label, "data": {"mend": button.value}}
    if button.style in _STYLES:
        action["style"] = _STYLES[button.style]
    return action


# --- size -----------------------------------------------------------------------------------------------
def _size(node: Any) -> int:
    return len(json.dumps(node))  # ASCII-escaped: never smaller than what goes over the wire


def _pages(blocks: list[dict[str, Any]], limit: int) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = [[]]
    used = 0
    for block in blocks:
        block = _fit(block, limit // 2)
        size = _size(block)
        if pages[-1] and used + size > limit:
            pages.append([])
            used = 0
        pages[-1].append(block)
        used += size
    return pages


def _fit(block: dict[str, Any], limit: int) -> dict[str, Any]:
    """Shorten a single element that could never fit in one message."""
    if _size(block) <= limit:
        return block
    if block.get("type") == "TextBlock":
        return {**block, "text": _shorten(block["text"], limit // 6)}
    if block.get("type") == "FactSet":
        share = max(40, limit // 6 // max(1, len(block["facts"])))
        return {**block, "facts": [{"title": _shorten(f["title"], 80), "value": _shorten(f["value"], share)}
                                   for f in block["facts"]]}
    return block


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- Teams-only notices ---------------------------------------------------------------------------------
WELCOME = Reply(
    title="Hello from Mend",
    text="I help this team recover from a missed deadline: acknowledge it, tell the people affected, fix the "
         "cause, check in until it is done, and learn from it.\n"
         "Mention me with a command, for example `@Mend miss prior-auth renewals for March`, or `@Mend help` "
         "for every command.",
    kind="notice",
)
NO_TENANT = Reply(
    title="Mend works in Microsoft Teams",
    text="This conversation does not say which organisation it belongs to, so Mend cannot keep its data "
         "apart from other organisations'. Add Mend to a team or a chat in Microsoft Teams.",
    kind="error",
)
