"""Everything Mend posts to Teams on its own: reminders, standups, notices for another conversation.

`send(tenant, reply)` is the scheduler's `Outbound`. It looks up the stored conversation reference for
`reply.channel` and posts through `continue_conversation`. A check-in or update reminder (`Audience.DIRECT`)
goes into the recovery's channel and @mentions the person it is for, since a Teams bot can only message a
person 1:1 once they have installed it personally; a standup is a plain post in the channel.

Posts go to `{serviceUrl}v3/conversations/{id}/activities` (a new thread in a channel), not as a reply to
the continuation event botbuilder invents. Failures raise `DeliveryError`: `retry_after` from a 429 or
503's Retry-After, `permanent` for 403/404 (the bot was removed from the team, the conversation is gone).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import ConversationReference

from adapters.teams.connector import connector_of, delivery_error
from adapters.teams.guard import is_loopback
from adapters.teams.people import TeamsPeople
from adapters.teams.references import References
from adapters.teams.render import Addressee, Message, can_mention, render, to_activity
from adapters.teams.translate import clean_name
from bot.messages import Audience, Reply
from bot.outbound import DeliveryError

log = logging.getLogger(__name__)


class TeamsOutbound:
    def __init__(self, cloud: CloudAdapter, references: References, people: TeamsPeople, *, app_id: str,
                 loopback_only: bool) -> None:
        self.cloud = cloud
        self.references = references
        self.people = people
        self.app_id = app_id
        self.loopback_only = loopback_only  # emulator mode: never post beyond this machine

    async def send(self, tenant: str, reply: Reply) -> str | None:
        """Post `reply` into its channel's conversation; return the id of the last message posted."""
        scope = f"teams:{tenant}"
        if not reply.channel:
            raise DeliveryError("Teams: the reply names no conversation to post in", permanent=True)
        reference = await self.references.load(scope, reply.channel)
        if reference is None:
            raise DeliveryError(f"Teams: no conversation reference stored for {reply.channel} in {scope}; "
                                "someone has to talk to Mend there first", permanent=True)
        return await self.post(reference, render(reply, mention=await self.addressee(scope, reply)))

    async def addressee(self, scope: str, reply: Reply) -> Addressee | None:
        """Who a reminder mentions: the person it is for, when Teams can resolve their id."""
        if reply.audience != Audience.DIRECT or not can_mention(reply.to_user):
            return None
        assert reply.to_user is not None
        name = await asyncio.to_thread(self.people.name_of, scope, reply.to_user)
        return Addressee(reply.to_user, clean_name(name) or "owner")

    async def post(self, reference: dict[str, Any], messages: list[Message]) -> str | None:
        """Post new messages (not replies) into the referenced conversation."""
        if self.loopback_only and not is_loopback(reference.get("serviceUrl")):
            raise DeliveryError("Teams: emulator mode posts only to a loopback serviceUrl", permanent=True)
        conversation = ConversationReference().deserialize(reference)
        channel_data = reference.get("channelData")
        ids: list[str] = []

        async def post_all(context: TurnContext) -> None:
            connector = connector_of(context)
            for message in messages:
                activity = to_activity(message)
                activity.conversation = conversation.conversation
                activity.from_property = conversation.bot
                activity.channel_id = conversation.channel_id
                activity.service_url = conversation.service_url
                activity.channel_data = channel_data
                response = await connector.conversations.send_to_conversation(
                    conversation.conversation.id, activity)
                ids.append(getattr(response, "id", None) or "")

        try:
            await self.cloud.continue_conversation(conversation, post_all, self.app_id)
        except Exception as exc:
            error = delivery_error(exc, "proactive message")
            log.info("Teams proactive post to %s failed: %s", conversation.conversation.id, error)
            raise error from exc
        return next((i for i in reversed(ids) if i), None)
