"""Where each reply to a command goes on Slack, by its audience.

CHANNEL → chat.postMessage (the reply's channel, else the command's; in the thread when mentioned in one);
PRIVATE → the command's response_url as an ephemeral, else chat.postEphemeral, else a DM; DIRECT → a DM;
SOURCE → chat.update of the message whose button was pressed (its response_url when it was ephemeral).
When the bot cannot post in the command's channel (not invited), the answer still reaches the person
through the response_url or a DM, with the fix. Nothing here raises: a failed post is logged and, where
possible, explained to the person.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial

from adapters.slack.outbound import NOT_POSTABLE, SlackOutbound, slack_error
from adapters.slack.render import Message, render_messages, render_single
from adapters.slack.translate import Origin
from bot.messages import Audience, Reply
from bot.outbound import DeliveryError

log = logging.getLogger(__name__)

MAX_WAIT = 10.0  # seconds worth waiting on a 429 for an answer someone is looking at
INVITE = "I can't post in <#{channel}> yet. Invite me there with `/invite @Mend`, then try again."


class Responder:
    def __init__(self, outbound: SlackOutbound) -> None:
        self.outbound = outbound

    async def deliver(self, origin: Origin, replies: list[Reply]) -> None:
        for reply in replies:
            try:
                await self._one(origin, reply)
            except DeliveryError as exc:
                log.warning("could not deliver a %s reply (%s): %s", reply.audience, reply.kind, exc)
                await self._explain(origin, reply, exc)

    async def _one(self, origin: Origin, reply: Reply) -> None:
        out = self.outbound
        if reply.audience == Audience.PRIVATE:
            await self.private(origin, reply)
        elif reply.audience == Audience.DIRECT and reply.to_user:
            person = reply.to_user
            for message in render_messages(reply):
                await _patiently(partial(out.post, person, message))
        elif reply.audience == Audience.SOURCE and origin.ephemeral and origin.response_url:
            await out.respond(origin.response_url, render_single(reply), replace_original=True)
        elif reply.audience == Audience.SOURCE and origin.message_ts and origin.message_channel:
            channel, ts = origin.message_channel, origin.message_ts
            await _patiently(partial(out.update, channel, ts, render_single(reply)))
        elif reply.audience == Audience.SOURCE and origin.home:
            return  # the Home tab is published again after the press; it shows the new state
        else:
            target = reply.channel or origin.channel
            thread = origin.thread_ts if target == origin.channel else None
            for message in render_messages(reply):
                await _patiently(partial(out.post, target, message, thread_ts=thread))

    async def private(self, origin: Origin, reply: Reply) -> None:
        messages = render_messages(reply)
        if origin.response_url:
            try:
                for message in messages:
                    await self.outbound.respond(origin.response_url, message)
                return
            except DeliveryError as exc:
                log.info("response_url failed (%s); trying chat.postEphemeral", exc)
        if not origin.home:
            try:
                for message in messages:
                    await self.outbound.post_ephemeral(origin.channel, origin.user, message)
                return
            except DeliveryError as exc:
                log.info("chat.postEphemeral failed (%s); sending a direct message", exc)
        for message in messages:
            await self.outbound.post(origin.user, message)

    async def _explain(self, origin: Origin, reply: Reply, exc: DeliveryError) -> None:
        """Tell the person what went wrong, once, privately; never raise."""
        channel = reply.channel or origin.channel
        try:
            if slack_error(exc) in NOT_POSTABLE and reply.audience == Audience.CHANNEL:
                if origin.response_url and channel == origin.channel:
                    for message in render_messages(reply):  # the response_url posts where the bot is not a member
                        await self.outbound.respond(origin.response_url, message, in_channel=True)
                    note = Reply(text=INVITE.format(channel=channel), audience=Audience.PRIVATE, kind="error")
                    await self.outbound.respond(origin.response_url, render_single(note))
                    return
                notice = reply.to(text=INVITE.format(channel=channel) + "\n\n" + reply.text,
                                  audience=Audience.PRIVATE)
                await self.private(replace(origin, response_url=None), notice)
                return
            if reply.audience != Audience.PRIVATE:  # at least the person who asked sees the answer
                await self.private(origin, reply.to(audience=Audience.PRIVATE))
        except DeliveryError as again:
            log.warning("could not tell the person either: %s", again)


async def _patiently(call: Callable[[], Awaitable[object]]) -> None:
    """Make a Web API call; on a short 429 (someone is waiting for this answer), wait as asked and try again."""
    try:
        await call()
    except DeliveryError as exc:
        if exc.retry_after is None or exc.retry_after > MAX_WAIT:
            raise
        await asyncio.sleep(exc.retry_after)
        await call()


__all__ = ["Message", "Responder"]
