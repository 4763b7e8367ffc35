"""Bolt listeners: ack within Slack's 3 seconds, then do the work (users.info, the engine, the Web API).

Every listener acks first and hands the rest to a background task, so a slow database or a slow Slack never
makes Slack show "operation_timeout" (`process_before_response=False`). Modals are the exception that
proves the rule: their field errors must travel in the ack, so the form is checked (cheaply, without the
database) before acking.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Coroutine
from datetime import UTC, timedelta
from typing import Any

from slack_bolt.async_app import AsyncApp

from adapters.claims import ALREADY_ANSWERED
from adapters.slack import dedup
from adapters.slack.directory import Directory
from adapters.slack.modals import (
    MISS_CALLBACK,
    NOTE_CALLBACK,
    MissForm,
    NoteForm,
    miss_modal,
    note_modal,
    read_miss,
    read_note,
)
from adapters.slack.outbound import SlackOutbound
from adapters.slack.render import BUTTON_ACTION, NOTE_ACTION, render_home
from adapters.slack.responder import Responder
from adapters.slack.translate import (
    Origin,
    Translator,
    action_origin,
    mention_origin,
    slash_origin,
    strip_bot_mention,
    unescape,
)
from bot.app import Core
from bot.home import home_view
from bot.messages import Audience, Command, Reply, Source
from bot.outbound import DeliveryError

log = logging.getLogger(__name__)

_BUTTON = re.compile("^" + BUTTON_ACTION.format(r"\d+") + "$")
_NOT_CHANNEL_NAMES = {"directmessage", "privategroup", "mpdm"}
UNKNOWN_BUTTON = "That button is not one I know (it may be from an older message). Type `/mend help` to see what I do."


class Background:
    """The work listeners hand off after acking; kept so `stop()` can let it finish."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, None], what: str) -> None:
        task = asyncio.create_task(self._guarded(work, what))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    @staticmethod
    async def _guarded(work: Coroutine[Any, Any, None], what: str) -> None:
        try:
            await work
        except Exception:
            log.exception("Slack %s failed after the ack", what)

    async def drain(self, timeout: float) -> None:
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=timeout)


class SlackListeners:
    def __init__(self, core: Core, outbound: SlackOutbound, directory: Directory, background: Background) -> None:
        self.core = core
        self.outbound = outbound
        self.directory = directory
        self.translator = Translator(directory)
        self.responder = Responder(outbound)
        self.background = background

    def register(self, app: AsyncApp) -> None:
        """Each listener acks, then hands the work to the background. (Plain functions, not methods: Bolt
        passes arguments by parameter name and would count `self` as one.)"""
        spawn = self.background.spawn

        async def command(ack: Any, body: dict[str, Any]) -> None:
            await ack()
            spawn(self._command(body), "slash command")

        async def mention(ack: Any, body: dict[str, Any]) -> None:
            await ack()
            spawn(self._mention(body), "app_mention")

        async def home_opened(ack: Any, body: dict[str, Any], event: dict[str, Any]) -> None:
            await ack()
            if event.get("tab", "home") == "home" and event.get("user"):
                spawn(self.publish_home(str(body.get("team_id") or ""), str(event["user"])), "app_home_opened")

        async def button(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
            await ack()
            spawn(self._press(action_origin(body), str(action.get("value") or "")), "button")

        async def note_button(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
            await ack()
            origin = action_origin(body)
            view = note_modal(ref=str(action.get("value") or ""), channel=origin.message_channel or "",
                              message_ts=origin.message_ts or "")
            spawn(self._open(str(body.get("trigger_id") or ""), view, origin), "note button")

        async def unknown_action(ack: Any, body: dict[str, Any]) -> None:
            await ack()
            spawn(self._tell(action_origin(body), UNKNOWN_BUTTON), "unknown action")

        async def other_event(ack: Any, body: dict[str, Any]) -> None:
            await ack()  # acknowledged, so Slack does not redeliver an event Mend has no use for
            log.debug("Slack event %s ignored", (body.get("event") or {}).get("type"))

        async def miss_submitted(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
            await self.on_miss_submitted(ack, body, view)

        async def note_submitted(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
            await self.on_note_submitted(ack, body, view)

        app.command("/mend")(command)
        app.event("app_mention")(mention)
        app.event("app_home_opened")(home_opened)
        app.event(re.compile(".*"))(other_event)  # after the two above: Bolt runs the first listener that matches
        app.action(_BUTTON)(button)
        app.action(NOTE_ACTION)(note_button)
        app.action(re.compile(".*"))(unknown_action)
        app.view(MISS_CALLBACK)(miss_submitted)
        app.view(NOTE_CALLBACK)(note_submitted)

    # --- the engine, off the event loop --------------------------------------------------------------
    async def run(self, command: Command) -> list[Reply]:
        return await self.core.engine.run(command)

    def _scope(self, tenant: str) -> str:
        return f"slack:{tenant}"

    # --- /mend WORDS ------------------------------------------------------------------------------------
    async def _command(self, body: dict[str, Any]) -> None:
        origin = slash_origin(body)
        text = str(body.get("text") or "")
        wants_form = unescape(text).strip().lower() == "miss" and body.get("trigger_id")
        if wants_form and await self._open_miss_form(body, origin):
            return
        channel_name = body.get("channel_name")
        command = await self.translator.command(
            tenant=origin.tenant, channel=origin.channel, user=origin.user, text=text,
            user_name=body.get("user_name"),
            channel_name=None if channel_name in _NOT_CHANNEL_NAMES else channel_name,
        )
        await self.responder.deliver(origin, await self.run(command))

    async def _open_miss_form(self, body: dict[str, Any], origin: Origin) -> bool:
        channel_name = body.get("channel_name")
        view = miss_modal(channel=origin.channel, user=origin.user,
                          channel_name=None if channel_name in _NOT_CHANNEL_NAMES else channel_name,
                          cause_categories=list(self.core.engine.playbook.cause_categories))
        try:
            await self.outbound.open_view(str(body["trigger_id"]), view)
        except DeliveryError as exc:  # the trigger expired (3 s) or Slack refused: answer as typed instead
            log.info("views.open for the miss form failed: %s", exc)
            return False
        return True

    # --- @Mend WORDS --------------------------------------------------------------------------------------
    async def _mention(self, body: dict[str, Any]) -> None:
        event = body.get("event") or {}
        if event.get("bot_id") or event.get("subtype") or not event.get("user"):
            return
        origin = mention_origin(body)
        event_id = body.get("event_id")
        now = self.core.clock.now()
        if event_id and not await asyncio.to_thread(dedup.claim, self.core.db, f"event:{event_id}",
                                                    self._scope(origin.tenant), now):
            log.info("Slack event %s was delivered again; it was applied the first time", event_id)
            return
        bot = self.directory.known_identity
        if bot is None:
            try:
                bot = await self.directory.identity()
            except DeliveryError:
                bot = None
        text = strip_bot_mention(str(event.get("text") or ""), bot.user_id if bot else None)
        command = await self.translator.command(tenant=origin.tenant, channel=origin.channel, user=origin.user,
                                                text=text, exclude=(bot.user_id,) if bot else ())
        await self.responder.deliver(origin, await self.run(command))

    # --- App Home ----------------------------------------------------------------------------------------
    async def publish_home(self, tenant: str, user: str) -> None:
        person = await self.directory.person(user)
        reply = await asyncio.to_thread(
            home_view, self.core.db, self._scope(tenant), user, self.core.clock.now(),
            person.tz or self.core.settings.timezone, self.core.engine.playbook,
        )
        try:
            await self.outbound.publish_home(user, render_home(reply))
        except DeliveryError as exc:
            log.warning("views.publish failed: %s", exc)

    # --- buttons -----------------------------------------------------------------------------------------
    async def _press(self, origin: Origin, words: str) -> None:
        """Run a button's command. A check-in message, or one published Home tab, takes one answer per action:
        a second press is refused."""
        key = None
        if words.startswith("checkin ") and origin.message_ts and origin.message_channel:
            key = dedup.press_key(origin.tenant, origin.message_channel, origin.message_ts)
        elif words.startswith("checkin ") and origin.home and origin.view_state:
            key = dedup.home_press_key(origin.tenant, origin.user, origin.view_state, words)
        if key and not await asyncio.to_thread(dedup.claim, self.core.db, key, self._scope(origin.tenant),
                                               self.core.clock.now()):
            await self._tell(origin, ALREADY_ANSWERED)
            return
        command = await self.translator.command(tenant=origin.tenant, channel=origin.channel, user=origin.user,
                                                text=words, source=Source.BUTTON)
        replies = await self.run(command)
        if key and all(r.kind == "error" for r in replies):
            await asyncio.to_thread(dedup.release, self.core.db, key)  # nothing recorded: the message stays open
        await self.responder.deliver(origin, replies)
        if origin.home:
            await self.publish_home(origin.tenant, origin.user)

    async def _open(self, trigger_id: str, view: dict[str, Any], origin: Origin) -> None:
        try:
            await self.outbound.open_view(trigger_id, view)
        except DeliveryError as exc:
            log.info("views.open failed: %s", exc)
            await self._tell(origin, "I could not open the form. Please type `checkin ACTION STATE NOTE` instead.")

    async def _tell(self, origin: Origin, text: str) -> None:
        await self.responder.deliver(origin, [Reply(text=text, audience=Audience.PRIVATE, kind="error")])

    # --- modal submissions ------------------------------------------------------------------------------
    async def on_note_submitted(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        form = read_note(view)
        if isinstance(form, dict):
            await ack(response_action="errors", errors=form)
            return
        await ack()
        self.background.spawn(self._note(body, form), "note form")

    async def _note(self, body: dict[str, Any], form: NoteForm) -> None:
        # The note completes the reminder's buttons, so it runs as a press: it replaces that message.
        team, user = _team_user(body)
        home = not form.message_ts
        origin = Origin(tenant=team, channel=form.channel or user, user=user, home=home,
                        message_channel=form.channel or None, message_ts=form.message_ts or None)
        await self._press(origin, form.command)

    async def on_miss_submitted(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        latest_today = (self.core.clock.now().astimezone(UTC) + timedelta(hours=14)).date()  # anywhere on Earth
        form = read_miss(view, latest_today)
        if isinstance(form, dict):
            await ack(response_action="errors", errors=form)
            return
        await ack()
        self.background.spawn(self._miss(body, form), "miss form")

    async def _miss(self, body: dict[str, Any], form: MissForm) -> None:
        """Open the recovery as `miss WORDS` does, then record what the form adds (counts, lead, cause)."""
        team, user = _team_user(body)
        origin = Origin(tenant=team, channel=form.channel, user=user)
        for index, words in enumerate(form.commands):
            if words == f"lead <@{user}>":
                continue  # the person who opens a recovery leads it already
            command = await self.translator.command(tenant=team, channel=form.channel, user=user, text=words,
                                                    source=Source.FORM, channel_name=form.channel_name)
            replies = await self.run(command)
            if words.startswith("retro cause"):  # recorded quietly: the retro's questions come later
                replies = [r for r in replies if r.audience == Audience.PRIVATE]
            await self.responder.deliver(origin, replies)
            if index == 0 and any(r.kind == "error" for r in replies):
                return  # the recovery did not open; the person has been told why


def _team_user(body: dict[str, Any]) -> tuple[str, str]:
    user = body.get("user") or {}
    team = (body.get("team") or {}).get("id") or user.get("team_id") or ""
    return str(team), str(user.get("id") or "")
