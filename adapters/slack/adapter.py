"""The Slack adapter: a slack-bolt `AsyncApp` on `POST /slack/events`, and over Socket Mode when configured.

`mend serve` builds it when `SLACK_BOT_TOKEN` is set (bot/server.py). One Request URL takes slash commands,
events and interactivity; every request is signature-checked with `SLACK_SIGNING_SECRET` (a bad signature
or a timestamp more than five minutes off is a 401). A malformed body is a 400, never a stack trace.
The Web API client honours `SLACK_API_URL`, so a proxy, a gateway or a test double can stand in for Slack.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import dedup
from adapters.slack.directory import Directory
from adapters.slack.listeners import Background, SlackListeners
from adapters.slack.outbound import SlackOutbound
from bot.app import Core
from bot.outbound import DeliveryError

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
API_TIMEOUT = 10  # seconds per Web API call; Slack answers in well under one


class _TokenNoteFilter(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN (read from the environment) is unused because a client is given.
    It is used, by `authorize`; the warning would only alarm an operator reading the start-up log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will be unused" not in record.getMessage()


_BOLT_LOG = logging.getLogger("adapters.slack.bolt")


class SlackConfigurationError(ValueError):
    """The Slack adapter is on (a bot token is set) but something it needs is missing."""


class SlackAdapter:
    platform = "slack"

    def __init__(self, core: Core, *, min_interval: float = 1.0) -> None:
        settings = core.settings
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
        secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
        if not token:
            raise SlackConfigurationError("SLACK_BOT_TOKEN is not set")
        if not secret:
            raise SlackConfigurationError(
                "SLACK_SIGNING_SECRET is required when SLACK_BOT_TOKEN is set: Mend verifies every Slack request "
                "with it (Basic Information → App Credentials → Signing Secret).")
        self.core = core
        self._token = token
        self._app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
        self.client = AsyncWebClient(token=token, base_url=settings.slack_api_url, timeout=API_TIMEOUT)
        self.outbound = SlackOutbound(self.client, min_interval=min_interval)
        self.directory = Directory(self.outbound)
        self.background = Background()
        self._verifier = SignatureVerifier(secret)
        # Bolt gets a token-less client of the same base URL: the token reaches it through `authorize`.
        if not any(isinstance(f, _TokenNoteFilter) for f in _BOLT_LOG.filters):
            _BOLT_LOG.addFilter(_TokenNoteFilter())
        self.bolt = AsyncApp(
            name="mend",
            signing_secret=secret,
            client=AsyncWebClient(base_url=settings.slack_api_url, timeout=API_TIMEOUT),
            authorize=self._authorizer(),
            process_before_response=False,
            logger=_BOLT_LOG,
        )
        self.listeners = SlackListeners(core, self.outbound, self.directory, self.background)
        self.listeners.register(self.bolt)
        self.socket_mode: AsyncSocketModeHandler | None = None
        self._session: aiohttp.ClientSession | None = None

    # --- the server's adapter protocol ----------------------------------------------------------------
    def mount(self, app: web.Application) -> None:
        app.router.add_post(EVENTS_PATH, self.handle)

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self.client.session = self._session
        try:
            bot = await asyncio.wait_for(self.directory.identity(), timeout=API_TIMEOUT)
            log.info("Slack: signed in as bot user %s in workspace %s", bot.user_id, bot.team_id)
        except (DeliveryError, TimeoutError) as exc:
            log.error("Slack: auth.test failed (%s); check SLACK_BOT_TOKEN and SLACK_API_URL. Will retry.", exc)
        await asyncio.to_thread(dedup.forget_old, self.core.db, self.core.clock.now())
        if self._app_token:
            self.socket_mode = self.socket_mode_handler()
            await self.socket_mode.connect_async()
            log.info("Slack: Socket Mode connected")

    async def stop(self) -> None:
        if self.socket_mode is not None:
            await self.socket_mode.close_async()
            self.socket_mode = None
        await self.background.drain(timeout=10.0)
        if self._session is not None:
            self.client.session = None
            await self._session.close()
            self._session = None

    def socket_mode_handler(self) -> AsyncSocketModeHandler:
        """Socket Mode (SLACK_APP_TOKEN, `xapp-…`): Slack connects out, no public URL needed. Built in the loop."""
        return AsyncSocketModeHandler(self.bolt, app_token=self._app_token, web_client=self.client,
                                      logger=logging.getLogger("adapters.slack.socket_mode"))

    # --- HTTP -------------------------------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.Response:
        """Verify, parse, dispatch to Bolt. Bolt acks as soon as a listener calls `ack()`."""
        try:
            body = await request.text()
        except (UnicodeDecodeError, ValueError):
            return web.json_response({"error": "malformed request"}, status=400)
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not self._signed(body, timestamp, signature):
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            bolt_request = AsyncBoltRequest(body=body, query=request.query_string,
                                            headers=dict(request.headers))  # type: ignore[arg-type]
        except Exception:  # JSON that is not JSON, a payload that is not an object, ...
            return web.json_response({"error": "malformed request"}, status=400)
        try:
            bolt_response = await self.bolt.async_dispatch(bolt_request)
        except Exception:
            log.exception("Slack request could not be dispatched")
            return web.Response(status=200, text="Sorry, something went wrong on my side. Please try again.")
        if bolt_response.status >= 500:
            log.error("Bolt answered %s; answering 200 so Slack does not retry", bolt_response.status)
            return web.Response(status=200, text="")
        return await to_aiohttp_response(bolt_response)

    def _signed(self, body: str, timestamp: str, signature: str) -> bool:
        """Slack's v0 signature over `v0:timestamp:body`, with the timestamp within five minutes."""
        if not timestamp.isdigit() or not signature.startswith("v0="):
            return False
        return self._verifier.is_valid(body=body, timestamp=timestamp, signature=signature)

    def _authorizer(self) -> Callable[..., Awaitable[AuthorizeResult]]:
        """Single-workspace authorization from the bot token, with the identity learnt once at start.

        Never waits long: an ack must leave within 3 seconds, so without an identity yet the request goes
        on with the token alone. Multi-workspace OAuth would look the token up by `team_id` here.
        (A plain function: Bolt passes arguments by parameter name.)
        """

        async def authorize(enterprise_id: str | None, team_id: str | None, user_id: str | None) -> AuthorizeResult:
            bot = self.directory.known_identity
            if bot is None:
                try:
                    bot = await asyncio.wait_for(self.directory.identity(), timeout=1.0)
                except (DeliveryError, TimeoutError):
                    bot = None
            return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=self._token,
                                   bot_user_id=bot.user_id if bot else None, bot_id=bot.bot_id if bot else None,
                                   user_id=user_id)

        return authorize

