"""Drive Mend the way Teams does: activities shaped as Teams sends them, POSTed to /api/messages.

Replies are read where Teams would receive them, at the `BotConnectorDouble` the activities name as their
`serviceUrl`. People type mentions as `<at>Name</at>`; the client adds the mention entity Teams would add,
and always mentions the bot in channels and group chats (Teams delivers only those messages to a bot).
"""

from __future__ import annotations

import itertools
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp.test_utils import TestClient

from tests.fakes.bot_connector import BotConnectorDouble, Posted

BOT = {"id": "28:bot", "name": "Mend"}
TENANT = "tenant-1"
TEAM = "19:team-general@thread.tacv2"
CHANNEL = "19:renewals@thread.tacv2"
_AT = re.compile(r"<at>(.*?)</at>")


@dataclass(frozen=True)
class Member:
    name: str
    tz: str | None = None

    @property
    def teams_id(self) -> str:
        return f"29:1{self.name.lower()}-teams-id"

    @property
    def aad(self) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{self.name}.example.org"))

    @property
    def account(self) -> dict[str, Any]:
        return {"id": self.teams_id, "name": self.name, "aadObjectId": self.aad}


def readable(posted: Posted) -> str:
    """What a person reads in a posted message (bold markers removed)."""
    return posted.text.replace("**", "")


class TeamsClient:
    def __init__(self, http: TestClient, connector: BotConnectorDouble, members: list[Member], *,
                 tenant: str = TENANT, service_url: str | None = None, clock: Any = None) -> None:
        self.http = http
        self.connector = connector
        self.members = {m.name: m for m in members}
        self.tenant = tenant
        self.service_url = service_url or connector.service_url
        self.clock = clock
        self._ids = itertools.count(1)

    def member(self, name: str) -> Member:
        return self.members[name]

    # --- building activities ------------------------------------------------------------------------
    def activity(self, who: str, text: str | None = None, *, conversation: str = CHANNEL,
                 conversation_type: str = "channel", value: dict[str, Any] | None = None,
                 reply_to: str | None = None, mention_bot: bool | None = None) -> dict[str, Any]:
        member = self.members[who]
        activity_id = f"1:{next(self._ids)}"
        if conversation_type == "channel":
            thread = reply_to or activity_id
            conversation_id = f"{conversation};messageid={thread}"
        else:
            conversation_id = conversation
        entities: list[dict[str, Any]] = []
        if text is not None:
            if mention_bot if mention_bot is not None else conversation_type != "personal":
                text = f"<at>{BOT['name']}</at> {text}"
            for name in _AT.findall(text):
                account = BOT if name == BOT["name"] else {"id": self.members[name].teams_id, "name": name}
                entities.append({"type": "mention", "text": f"<at>{name}</at>", "mentioned": account})
        now = self.clock.now() if self.clock else datetime.now().astimezone()
        body: dict[str, Any] = {
            "type": "message",
            "id": activity_id,
            "timestamp": now.isoformat(),
            "localTimestamp": now.isoformat(),
            "serviceUrl": self.service_url,
            "channelId": "msteams",
            "from": member.account,
            "conversation": {"id": conversation_id, "conversationType": conversation_type,
                             "tenantId": self.tenant,
                             **({"isGroup": True} if conversation_type != "personal" else {})},
            "recipient": BOT,
            "textFormat": "plain",
            "locale": "en-US",
            "entities": entities,
            "channelData": {"tenant": {"id": self.tenant}},
        }
        if member.tz:
            body["localTimezone"] = member.tz
        if conversation_type == "channel":
            body["channelData"].update(team={"id": TEAM}, channel={"id": conversation})
        if text is not None:
            body["text"] = text
        if value is not None:
            body["value"] = value
        if reply_to is not None:
            body["replyToId"] = reply_to
        return body

    # --- talking --------------------------------------------------------------------------------------
    async def post(self, body: Any, **kwargs: Any) -> tuple[int, list[Posted]]:
        """POST one activity; return the status and everything the bot sent while handling it."""
        before = len(self.connector.posted)
        response = await self.http.post("/api/messages", json=body, **kwargs)
        await response.read()
        return response.status, self.connector.posted[before:]

    async def say(self, who: str, text: str, **kwargs: Any) -> list[Posted]:
        status, posted = await self.post(self.activity(who, text, **kwargs))
        assert status == 200, status
        return posted

    async def says(self, who: str, text: str, **kwargs: Any) -> str:
        """What the bot answered, as a person reads it."""
        return "\n".join(readable(p) for p in await self.say(who, text, **kwargs))

    async def press(self, who: str, card: Posted, value: str, *, conversation: str = CHANNEL) -> list[Posted]:
        """Press the button with `value` on a card the bot posted, as Teams sends it (Action.Submit)."""
        assert value in card.buttons, (value, card.buttons)
        body = self.activity(who, None, conversation=conversation, value={"mend": value}, reply_to=card.id)
        status, posted = await self.post(body)
        assert status == 200, status
        return posted
