"""Teams conversation references, kept in the database so reminders and standups survive restarts.

A bot can post into a Teams conversation on its own only with that conversation's reference (its id,
the bot's account and the regional `serviceUrl` Teams gave). Every conversation where someone talks to
Mend has its reference stored under the tenant's scope and the conversation id Mend uses as the channel
(a channel's id without `;messageid=`, so a proactive post starts a new thread in the channel).
"""

from __future__ import annotations

import asyncio
from typing import Any

from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from adapters.teams.translate import channel_of, obj, string
from bot.clock import Clock
from bot.store.db import Database
from bot.store.models import ConversationRef


def reference_of(body: dict[str, Any], tenant: str) -> dict[str, Any]:
    """The JSON kept for a conversation: ConversationReference.serialize(), plus the tenant in channelData.

    botbuilder's ConversationAccount spells the tenant `tenantID` and drops Teams' `tenantId`; the tenant is
    therefore also kept in `channelData`, the place Teams itself reads it from.
    """
    conversation = obj(body.get("conversation"))
    sender, bot = obj(body.get("from")), obj(body.get("recipient"))
    reference = ConversationReference(
        user=ChannelAccount(id=string(sender.get("id")), name=string(sender.get("name")),
                            aad_object_id=string(sender.get("aadObjectId"))),
        bot=ChannelAccount(id=string(bot.get("id")), name=string(bot.get("name"))),
        conversation=ConversationAccount(
            id=channel_of(body), conversation_type=string(conversation.get("conversationType")),
            is_group=conversation.get("isGroup") if isinstance(conversation.get("isGroup"), bool) else None,
            tenant_id=tenant,
        ),
        channel_id=string(body.get("channelId")),
        service_url=string(body.get("serviceUrl")),
    )
    return {**reference.serialize(), "channelData": {"tenant": {"id": tenant}}}


class References:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._saved: dict[tuple[str, str], dict[str, Any]] = {}

    async def save(self, scope: str, channel: str, reference: dict[str, Any]) -> None:
        """Keep the newest reference (the serviceUrl can move); written only when it changed."""
        if self._saved.get((scope, channel)) == reference:
            return
        await asyncio.to_thread(self._write, scope, channel, reference)
        self._saved[(scope, channel)] = reference

    def _write(self, scope: str, channel: str, reference: dict[str, Any]) -> None:
        for _attempt in range(2):  # a concurrent first message in the same conversation may insert first
            try:
                with self.db.session() as session:
                    row = session.scalar(_row(scope, channel))
                    if row is None:
                        session.add(ConversationRef(scope=scope, channel=channel, reference=reference,
                                                    updated_at=self.clock.now()))
                    else:
                        row.reference, row.updated_at = reference, self.clock.now()
                return
            except IntegrityError:
                continue

    async def load(self, scope: str, channel: str) -> dict[str, Any] | None:
        return await asyncio.to_thread(self._read, scope, channel)

    def _read(self, scope: str, channel: str) -> dict[str, Any] | None:
        with self.db.session() as session:
            row = session.scalar(_row(scope, channel))
            return dict(row.reference) if row else None


def _row(scope: str, channel: str) -> Select[ConversationRef]:
    return select(ConversationRef).where(ConversationRef.scope == scope, ConversationRef.channel == channel)
