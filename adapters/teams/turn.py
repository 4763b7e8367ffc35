"""One Teams activity, start to finish: translate, run the engine once, deliver each reply.

Where each reply goes:
- an answer (`CHANNEL` without another channel) is a reply in the conversation, in the thread it came from;
- `PRIVATE` (errors, privacy notices) is also a reply in the conversation. Teams has no ephemeral messages
  for bots in channels, and a 1:1 chat works only for people who installed Mend personally; these notices
  are short and never repeat what was masked, so the thread is the place for them;
- `SOURCE` (a check-in answered with a card button) updates that card in place, without buttons; if the
  update fails, the answer is posted as a reply instead. A second press of the same card (a double click,
  a client still showing the old card) records nothing and is told so (`presses`);
- a reply for another channel (a recovery elsewhere) is a proactive post there, through the outbound;
- `DIRECT` in this conversation mentions its person.

An activity Bot Framework delivers again (same id, after a timeout on its side) is handled once: its id is
claimed like a card press, across replicas and restarts.

A failure to deliver is logged and never turns into an HTTP error: the command itself has been handled.
"""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes
from msrest.exceptions import ClientException

from adapters.teams.connector import connector_of, delivery_error
from adapters.teams.outbound import TeamsOutbound
from adapters.teams.people import TeamsPeople
from adapters.teams.presses import ALREADY_ANSWERED, CardPresses
from adapters.teams.references import References, reference_of
from adapters.teams.render import NO_TENANT, WELCOME, Message, render, to_activity
from adapters.teams.translate import (
    button_value,
    channel_of,
    obj,
    string,
    tenant_of,
    to_command,
    user_mentions,
    zone_of,
)
from bot.engine import Engine
from bot.messages import Audience, Command, Reply
from bot.outbound import DeliveryError

log = logging.getLogger(__name__)


class TurnHandler:
    def __init__(self, engine: Engine, people: TeamsPeople, references: References,
                 outbound: TeamsOutbound, presses: CardPresses, *, emulator: bool) -> None:
        self.engine = engine
        self.people = people
        self.references = references
        self.outbound = outbound
        self.presses = presses
        self.emulator = emulator

    async def on_turn(self, context: TurnContext, body: dict[str, Any]) -> None:
        """Handle one activity. Never raises."""
        try:
            kind = body.get("type")
            if kind == ActivityTypes.message:
                await self._message(context, body)
            elif kind == ActivityTypes.conversation_update:
                await self._conversation_update(context, body)
            elif kind == ActivityTypes.invoke:
                # Mend's cards use Action.Submit (a message); answer any other invoke so Teams shows no error.
                await context.send_activity(Activity(type=ActivityTypes.invoke_response,
                                                     value=InvokeResponse(status=200, body={})))
        except Exception as exc:
            if not _is_connector_failure(exc):
                log.exception("Teams activity %s could not be handled", body.get("id"))
                return
            log.warning("Teams activity %s: delivery failed: %s", body.get("id"),
                        delivery_error(exc, "reply"))

    async def _message(self, context: TurnContext, body: dict[str, Any]) -> None:
        tenant = tenant_of(body, emulator=self.emulator)
        if tenant is None:
            log.info("Teams activity %s has no tenant; refused", body.get("id"))
            await self._reply(context, body, NO_TENANT)
            return
        scope = f"teams:{tenant}"
        delivered = self.presses.activity_key(scope, body)
        if delivered and not await self.presses.claim(delivered, scope):
            log.info("Teams activity %s was delivered again; it was handled the first time", body.get("id"))
            return
        await self.people.learn(scope, obj(body.get("from")), zone_of(body))
        await self.references.save(scope, channel_of(body), reference_of(body, tenant))

        async def member(member_id: str) -> dict[str, Any] | None:
            conversations = connector_of(context).conversations
            account = await conversations.get_conversation_member(channel_of(body), member_id)
            return account.serialize() if account is not None else None

        people = {m.id: await self.people.resolve(scope, m, member) for m in user_mentions(body)}
        command = to_command(body, tenant, people)
        if command is None:
            return
        press = self.presses.key(scope, body)
        if press is not None and not await self.presses.claim(press, scope):
            log.info("Teams card %s was pressed again; its first answer stands", body.get("replyToId"))
            await self._reply(context, body, Reply(text=ALREADY_ANSWERED, audience=Audience.PRIVATE, kind="error"))
            return
        replies = await self.engine.run(command)
        if press is not None and all(r.kind == "error" for r in replies):
            await self.presses.release(press)  # nothing was recorded: the card can still be answered
        for reply in replies:
            await self._deliver(context, body, command, reply)

    async def _conversation_update(self, context: TurnContext, body: dict[str, Any]) -> None:
        """Mend was added to a team or chat: keep the reference and say hello once."""
        bot = string(obj(body.get("recipient")).get("id"))
        added = body.get("membersAdded") or []
        if not any(obj(member).get("id") == bot for member in added):
            return
        tenant = tenant_of(body, emulator=self.emulator)
        if tenant is None:
            return
        await self.references.save(f"teams:{tenant}", channel_of(body), reference_of(body, tenant))
        for message in render(WELCOME):
            await self._send(context, message)

    async def _deliver(self, context: TurnContext, body: dict[str, Any], command: Command,
                       reply: Reply) -> None:
        """Deliver one reply; a failure is logged so the replies after it still go out."""
        try:
            if reply.audience == Audience.SOURCE:
                await self._update_source(context, body, reply)
            elif reply.channel and reply.channel != command.channel:
                await self.outbound.send(command.tenant, reply)
            else:
                await self._reply(context, body, reply)
        except Exception as exc:
            error = delivery_error(exc, f"{reply.kind} reply")
            log.warning("Teams activity %s: delivery failed: %s", body.get("id"), error,
                        exc_info=not _is_connector_failure(exc))

    async def _reply(self, context: TurnContext, body: dict[str, Any], reply: Reply) -> None:
        tenant = tenant_of(body, emulator=self.emulator)
        mention = await self.outbound.addressee(f"teams:{tenant}", reply) if tenant else None
        for message in render(reply, mention=mention):
            await self._send(context, message)

    async def _update_source(self, context: TurnContext, body: dict[str, Any], reply: Reply) -> None:
        """Replace the card whose button was pressed with the recorded answer (no buttons)."""
        messages = render(reply, buttons=False)
        card_id = string(body.get("replyToId"))
        if card_id and button_value(body) is not None:
            activity = to_activity(messages[0])
            activity.id = card_id
            connector_of(context)
            try:
                await context.update_activity(activity)
                messages = messages[1:]
            except Exception as exc:
                log.info("Teams card %s could not be updated (%s); answering in the thread instead", card_id,
                         delivery_error(exc, "card update"))
        for message in messages:
            await self._send(context, message)

    @staticmethod
    async def _send(context: TurnContext, message: Message) -> None:
        connector_of(context)  # one attempt, with a timeout
        await context.send_activity(to_activity(message))


def _is_connector_failure(exc: BaseException) -> bool:
    """Expected failures (the connector said no or could not be reached) are logged without a traceback."""
    return isinstance(exc, ClientException | DeliveryError)
