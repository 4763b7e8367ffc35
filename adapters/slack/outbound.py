"""Everything Mend posts to Slack goes through here: one `AsyncWebClient`, paced, with Slack's errors mapped.

`send(tenant, reply)` is the `Outbound` the scheduler uses for reminders and standups; the other methods
serve the answers to commands. Slack allows about one message per second per channel, so posts to one
channel queue behind a lock while different channels go out in parallel. Failures become `DeliveryError`:
`retry_after` from a 429's Retry-After header, `permanent` for errors no retry can fix (the channel is gone,
the bot is not in it, the user left), so the scheduler gives up on those at once.

Single-workspace install: one bot token serves every `tenant`. Multi-workspace distribution (OAuth, an
installation store keyed by team id, one token per tenant) is future work; `tenant` is already passed for it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.render import Message, render_messages
from bot.messages import Audience, Reply
from bot.outbound import DeliveryError

log = logging.getLogger(__name__)

# Errors that a retry cannot fix. Anything else (timeouts, 5xx, `ratelimited`) is worth another try.
PERMANENT_ERRORS = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "channel_is_archived", "user_not_found",
    "user_not_visible", "user_disabled", "account_inactive", "cannot_dm_bot", "invalid_auth", "not_authed",
    "token_revoked", "token_expired", "missing_scope", "no_permission", "restricted_action", "msg_too_long",
    "no_text", "invalid_blocks", "invalid_arguments", "message_not_found", "cant_update_message",
    "edit_window_closed", "team_access_not_granted", "ekm_access_denied",
})
NOT_POSTABLE = frozenset({"channel_not_found", "not_in_channel", "is_archived", "channel_is_archived"})


def slack_error(exc: DeliveryError) -> str:
    """The Slack error code carried by a `DeliveryError` ("not_in_channel"), or "" when there is none."""
    return getattr(exc, "slack_error", "")


def _delivery_error(method: str, error: str, *, retry_after: float | None = None,
                    permanent: bool = False) -> DeliveryError:
    exc = DeliveryError(f"Slack {method}: {error}", retry_after=retry_after, permanent=permanent)
    exc.slack_error = error  # type: ignore[attr-defined]
    return exc


def _retry_after(response: Any) -> float:
    headers = getattr(response, "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after") or "1"
    if isinstance(value, list):
        value = value[0]
    try:
        return max(1.0, float(value))
    except ValueError:
        return 1.0


class SlackOutbound:
    """Posts, ephemeral notes, in-place updates, modals and the Home tab, through one Web API client."""

    def __init__(self, client: AsyncWebClient, *, min_interval: float = 1.0) -> None:
        self.client = client
        self.min_interval = min_interval  # seconds between two posts to one channel
        self._locks: dict[str, asyncio.Lock] = {}
        self._last: dict[str, float] = {}

    # --- the scheduler's Outbound ---------------------------------------------------------------------
    async def send(self, tenant: str, reply: Reply) -> str | None:
        """Post a reminder, standup or notice; return the ts of the last message posted."""
        if reply.audience == Audience.DIRECT or (reply.audience == Audience.PRIVATE and not reply.channel):
            target = reply.to_user
        else:
            target = reply.channel or reply.to_user
        if not target:
            raise _delivery_error("chat.postMessage", "no channel or person to send to", permanent=True)
        if reply.audience == Audience.PRIVATE and reply.channel and reply.to_user:
            for message in render_messages(reply):
                await self.post_ephemeral(reply.channel, reply.to_user, message)
            return None
        ts = None
        for message in render_messages(reply):
            ts, _channel = await self.post(target, message)
        return ts

    # --- posting ----------------------------------------------------------------------------------------
    async def post(self, channel: str, message: Message, *, thread_ts: str | None = None) -> tuple[str, str]:
        """chat.postMessage, paced per channel. A user id as `channel` posts to the bot's DM with that person.

        Returns (ts, channel id); the channel id is the DM's when a user id was given.
        """
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            loop = asyncio.get_running_loop()
            wait = self._last.get(channel, float("-inf")) + self.min_interval - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                extra = {"thread_ts": thread_ts} if thread_ts else {}
                response = await self._call("chat.postMessage", channel=channel, unfurl_links=False,
                                            unfurl_media=False, **message.payload(), **extra)
            finally:
                self._last[channel] = loop.time()
        return str(response.get("ts", "")), str(response.get("channel", channel))

    async def post_ephemeral(self, channel: str, user: str, message: Message) -> None:
        await self._call("chat.postEphemeral", channel=channel, user=user, **message.payload())

    async def update(self, channel: str, ts: str, message: Message) -> None:
        await self._call("chat.update", channel=channel, ts=ts, **message.payload())

    async def respond(self, response_url: str, message: Message, *, in_channel: bool = False,
                      replace_original: bool = False) -> None:
        """Answer through a slash command's or button's response_url (works where the bot is not a member)."""
        webhook = AsyncWebhookClient(response_url, session=self.client.session)
        try:
            result = await webhook.send_dict({
                **message.payload(),
                "response_type": "in_channel" if in_channel else "ephemeral",
                "replace_original": replace_original,
            })
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _delivery_error("response_url", type(exc).__name__) from exc
        if result.status_code >= 400:
            raise _delivery_error("response_url", f"HTTP {result.status_code}", permanent=result.status_code < 500)

    async def open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        await self._call("views.open", trigger_id=trigger_id, view=view)

    async def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        await self._call("views.publish", user_id=user_id, view=view)

    async def user_info(self, user_id: str) -> dict[str, Any]:
        response = await self._call("users.info", user=user_id)
        return dict(response.get("user") or {})

    async def auth_test(self) -> dict[str, Any]:
        return dict((await self._call("auth.test")).data)  # type: ignore[arg-type]

    # --- one Web API call ----------------------------------------------------------------------------
    async def _call(self, method: str, **params: Any) -> Any:
        try:
            return await self.client.api_call(method, json=params) if method != "users.info" else \
                await self.client.api_call(method, http_verb="GET", params=params)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
            if exc.response.status_code == 429 or error == "ratelimited":
                raise _delivery_error(method, "ratelimited", retry_after=_retry_after(exc.response)) from exc
            raise _delivery_error(method, error, permanent=error in PERMANENT_ERRORS) from exc
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            raise _delivery_error(method, type(exc).__name__) from exc
