"""The Teams adapter: botbuilder's `CloudAdapter` at `POST /api/messages`, and the Teams `Outbound`.

Who may send activities:
- with credentials (`MICROSOFT_APP_ID` …), botbuilder checks every request's Bot Framework token; a missing,
  malformed or wrong token is a 401;
- without credentials, botbuilder would accept anything and post replies to any `serviceUrl` the request
  names. So that needs `MEND_TEAMS_EMULATOR=1`, and even then only activities whose `serviceUrl` is on
  loopback are served (403 otherwise, and nothing is posted); without either, the endpoint answers 401.

A malformed request is a 4xx (see `guard`); a connector that fails or cannot be reached is a logged delivery
failure while the request is still answered 200, because the command itself was handled.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticateRequestResult

from adapters.teams.guard import Refused, is_loopback, read_activity
from adapters.teams.outbound import TeamsOutbound
from adapters.teams.people import TeamsPeople
from adapters.teams.presses import CardPresses
from adapters.teams.references import References
from adapters.teams.turn import TurnHandler
from bot.app import Core
from bot.config import Settings

log = logging.getLogger(__name__)

APP_TYPES = {"multitenant": "MultiTenant", "singletenant": "SingleTenant",
             "userassignedmsi": "UserAssignedMSI"}


class TeamsConfigurationError(ValueError):
    """Teams credentials are set but incomplete or inconsistent; the message says what to set."""


def bot_configuration(settings: Settings) -> SimpleNamespace:
    """The configuration object botbuilder reads (APP_ID, APP_PASSWORD, APP_TENANTID, APP_TYPE).

    Without credentials every value is empty, which is how botbuilder turns authentication off.
    """
    if not settings.teams_credentials:
        return SimpleNamespace(APP_ID=None, APP_PASSWORD=None, APP_TENANTID=None, APP_TYPE="MultiTenant")
    app_type = APP_TYPES.get((settings.microsoft_app_type or "MultiTenant").lower())
    if app_type is None:
        raise TeamsConfigurationError(f"MICROSOFT_APP_TYPE={settings.microsoft_app_type!r} is not one of "
                         "MultiTenant, SingleTenant or UserAssignedMSI")
    if app_type != "MultiTenant" and not settings.microsoft_app_tenant_id:
        raise TeamsConfigurationError(f"MICROSOFT_APP_TYPE={app_type} needs MICROSOFT_APP_TENANT_ID")
    password = settings.microsoft_app_password
    return SimpleNamespace(APP_ID=settings.microsoft_app_id,
                           APP_PASSWORD=password.get_secret_value() if password else None,
                           APP_TENANTID=settings.microsoft_app_tenant_id, APP_TYPE=app_type)


class TeamsAdapter:
    platform = "teams"

    def __init__(self, core: Core) -> None:
        settings = core.settings
        self.authenticated = settings.teams_credentials
        self.emulator = settings.teams_emulator and not self.authenticated
        if settings.teams_emulator and self.authenticated:
            log.warning("MEND_TEAMS_EMULATOR is ignored: Teams credentials are set, so every request is "
                        "authenticated")
        self.auth = ConfigurationBotFrameworkAuthentication(bot_configuration(settings))
        self.cloud = CloudAdapter(self.auth)
        people = TeamsPeople(core.db)
        references = References(core.db, core.clock)
        app_id = settings.microsoft_app_id if self.authenticated else ""
        self.outbound = TeamsOutbound(self.cloud, references, people, app_id=app_id or "",
                                      loopback_only=not self.authenticated)
        self.presses = CardPresses(core.db, core.clock)
        self.turns = TurnHandler(core.engine, people, references, self.outbound, self.presses,
                                 emulator=self.emulator)

    def mount(self, app: web.Application) -> None:
        app.router.add_post("/api/messages", self.handle)

    async def start(self) -> None:
        await self.presses.forget_old()
        mode = ("authenticated" if self.authenticated
                else "emulator (loopback only)" if self.emulator else "off")
        log.info("Teams adapter ready at /api/messages: %s", mode)

    async def stop(self) -> None:
        """Nothing to release: connector clients are made per call."""

    async def handle(self, request: web.Request) -> web.Response:
        try:
            body, activity = await read_activity(request)
            authenticated = await self._authenticate(request, body, activity)
        except Refused as refused:
            return refused.response()

        async def logic(context: TurnContext) -> None:
            await self.turns.on_turn(context, body)

        try:
            invoke = await self.cloud.process_activity(authenticated, activity, logic)
        except Exception:
            log.exception("Teams activity %s could not be processed", body.get("id"))
            return web.json_response({}, status=200)
        if invoke is not None and invoke.status < 500:
            return web.json_response(invoke.body or {}, status=invoke.status)
        return web.json_response({}, status=200)

    async def _authenticate(self, request: web.Request, body: dict[str, object],
                            activity: Activity) -> AuthenticateRequestResult:
        if self.authenticated:
            try:
                header = request.headers.get("Authorization", "")
                return await self.auth.authenticate_request(activity, header)
            except Exception as exc:  # PermissionError, and jwt/ValueError for a token that is not one
                log.info("Teams request refused: authentication failed (%s)", type(exc).__name__)
                raise Refused(401, "the Bot Framework token is missing or not valid") from exc
        if not self.emulator:
            raise Refused(401, "Teams is not configured: set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD, "
                               "or MEND_TEAMS_EMULATOR=1 for local testing.")
        if not is_loopback(body.get("serviceUrl")):
            log.warning("Teams emulator mode: refused an activity whose serviceUrl is not on loopback")
            raise Refused(403, "emulator mode serves only activities whose serviceUrl is on loopback "
                               "(127.0.0.0/8, ::1, localhost)")
        return await self.auth.authenticate_request(activity, None)
