"""Teams activities → neutral `Command`s. Nothing Teams-shaped goes further than the adapter.

Read from the activity's raw JSON rather than botbuilder's `Activity`: botbuilder drops fields Mend needs
(`conversation.tenantId` becomes `tenantID`, mention entities lose `mentioned`), and the raw dict is what
Teams actually sent. Every read is defensive, because anything on the wire may have the wrong type.

Teams writes mentions as `<at>Name</at>` in the text plus a `mention` entity carrying the person's id. The
bot's own mention is removed; each person's becomes `<@ID|Name>`, the form the core parser reads as an
owner, with the resolved `Mention` passed alongside.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.messages import Command, Mention, Source

PLATFORM = "teams"
EMULATOR_TENANT = "emulator"  # a Bot Framework Emulator chat carries no tenant; it gets one fixed tenant
MAX_BUTTON_VALUE = 500

_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_BREAK = re.compile(r"<br\s*/?>|</p>|</div>", re.IGNORECASE)
_AT = re.compile(r"<at>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_SPACES = re.compile(r"[ \t\u00a0]+")
_UNSAFE_NAME = re.compile(r"[<>|\x00-\x1f]")
_PLACEHOLDER = "\x00{}\x00"


def obj(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty one (so lookups on bad input never raise)."""
    return value if isinstance(value, dict) else {}


def string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def tenant_of(body: dict[str, Any], *, emulator: bool) -> str | None:
    """The tenant id: `channelData.tenant.id` (what Teams always sends), else `conversation.tenantId`.

    An Emulator chat has neither and gets `EMULATOR_TENANT`; outside emulator mode there is then no tenant
    to keep the data apart, and the caller refuses the activity.
    """
    found = string(obj(obj(body.get("channelData")).get("tenant")).get("id"))
    found = found or string(obj(body.get("conversation")).get("tenantId"))
    if found:
        return found
    return EMULATOR_TENANT if emulator else None


def channel_of(body: dict[str, Any]) -> str:
    """The conversation id without `;messageid=…`, so every thread of a Teams channel is one place."""
    conversation = string(obj(body.get("conversation")).get("id")) or ""
    return conversation.split(";", 1)[0]


def user_of(body: dict[str, Any]) -> str:
    """The person: their Microsoft Entra object id when given (the same in every app), else the 29: id."""
    sender = obj(body.get("from"))
    return string(sender.get("aadObjectId")) or string(sender.get("id")) or ""


def zone_of(body: dict[str, Any]) -> str | None:
    """The sender's IANA zone from `localTimezone`, when it is one."""
    name = string(body.get("localTimezone"))
    if not name or len(name) > 64:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def button_value(body: dict[str, Any]) -> str | None:
    """The command behind a pressed card button: Action.Submit sends its data as `value` = {"mend": …}."""
    value = obj(body.get("value")).get("mend")
    if isinstance(value, str) and value.strip() and len(value) <= MAX_BUTTON_VALUE:
        return value.strip()
    return None


@dataclass(frozen=True)
class RawMention:
    """A `mention` entity as Teams sent it: the text to find (`<at>Sam</at>`) and the person's account."""

    text: str
    account: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.account.get("id"))

    @property
    def name(self) -> str | None:
        return clean_name(string(self.account.get("name")))


def clean_name(name: str | None) -> str | None:
    """A display name safe inside `<@ID|Name>` and `<at>Name</at>`."""
    if not name:
        return None
    cleaned = " ".join(_UNSAFE_NAME.sub(" ", name).split())[:80]
    return cleaned or None


def mentions_in(body: dict[str, Any]) -> list[RawMention]:
    """Every well-formed mention entity, in order."""
    found = []
    entities = body.get("entities")
    for entity in entities if isinstance(entities, list) else []:
        entity = obj(entity)
        account = obj(entity.get("mentioned"))
        text = string(entity.get("text"))
        if entity.get("type") == "mention" and text and string(account.get("id")):
            found.append(RawMention(text=text, account=account))
    return found


def user_mentions(body: dict[str, Any]) -> list[RawMention]:
    """The people mentioned, without the bot itself."""
    bot = string(obj(body.get("recipient")).get("id"))
    return [m for m in mentions_in(body) if m.id != bot]


def command_text(body: dict[str, Any], people: dict[str, Mention]) -> str:
    """The words for the engine: the bot's mention removed, people's as `<@ID|Name>`, HTML undone.

    `people` maps a mentioned account id to the resolved person. Text a user typed that merely looks like
    Mend's markup (`<@…>`) is broken up, so nobody can name an owner Teams did not resolve.
    """
    text = (string(body.get("text")) or "").replace("\x00", "")  # NUL marks Mend's own placeholders
    bot = string(obj(body.get("recipient")).get("id"))
    markers: list[str] = []
    for mention in mentions_in(body):
        if mention.text not in text:
            continue
        if mention.id == bot:
            text = text.replace(mention.text, " ")
            continue
        person = people.get(mention.id)
        name = (person.name if person else None) or mention.name or mention.id
        markers.append(f"<@{person.user_id if person else mention.id}|{name}>")
        text = text.replace(mention.text, _PLACEHOLDER.format(len(markers) - 1), 1)
    text = _AT.sub(lambda m: m.group(1), text)  # a mention without an entity: keep the name as words
    text = _TAG.sub("", _BREAK.sub("\n", text))
    text = html.unescape(text).replace("<@", "< @")
    for index, marker in enumerate(markers):
        text = text.replace(_PLACEHOLDER.format(index), marker)
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
    text = "\n".join(line for line in lines if line).strip()
    if text.lower() == "/mend" or text.lower().startswith(("/mend ", "/mend\n")):
        text = text[len("/mend"):].strip()
    return text


def to_command(body: dict[str, Any], tenant: str, people: dict[str, Mention]) -> Command | None:
    """The `Command` a message activity asks for, or None when it asks nothing (an empty message)."""
    pressed = button_value(body)
    text = pressed if pressed is not None else command_text(body, people)
    if not text and pressed is None and obj(body.get("value")):
        return None  # a card submission that is not one of Mend's buttons
    mentioned = tuple(dict.fromkeys(people[m.id] for m in user_mentions(body) if m.id in people))
    conversation = obj(body.get("conversation"))
    return Command(
        platform=PLATFORM,
        tenant=tenant,
        channel=channel_of(body),
        user=user_of(body),
        text=text,
        user_name=clean_name(string(obj(body.get("from")).get("name"))),
        user_tz=zone_of(body),
        mentions=mentioned if pressed is None else (),
        source=Source.BUTTON if pressed is not None else Source.TYPED,
        channel_name=string(conversation.get("name")),
        request_id=(string(body.get("id")) or "")[:64],
    )
