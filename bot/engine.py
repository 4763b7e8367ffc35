"""The engine: one `Command` in, a list of `Reply` out. It decides; it never delivers.

Every command runs in one transaction: a rejected command (a `UserError`) or a failure writes nothing.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from bot.clock import Clock
from bot.commands import CommandSpec, command_table
from bot.context import Context
from bot.errors import UserError
from bot.ledger import owed_updates
from bot.messages import Audience, Command, Mention, Reply, Section
from bot.parsing import check_text, split_word
from bot.playbook import DEFAULT_PLAYBOOK, Playbook, load_playbook, template_environment
from bot.privacy import describe_findings, mask_phi
from bot.progress import advance
from bot.store.db import Database
from bot.store.models import Action, Delivery, Recovery, Schedule
from bot.timefmt import moment
from bot.views import checkin_reminder, reply, update_due_reminder

log = logging.getLogger(__name__)

LATE_AFTER = timedelta(minutes=2)  # a delivery sent later than this after its due time says it is delayed
RECENT_CHECKIN = timedelta(hours=12)  # a check-in this recent makes the next reminder unnecessary


class CommandRunner(Protocol):
    """Where `Engine.run` sends commands when `mend serve` has workers (bot/workers.py)."""

    async def run(self, command: Command) -> list[Reply] | None: ...

    def alive(self) -> int: ...


class Engine:
    def __init__(self, db: Database, clock: Clock, *, playbook_path: str | Path | None = None,
                 default_tz: str = "UTC") -> None:
        self.db = db
        self.clock = clock
        path = Path(playbook_path) if playbook_path else DEFAULT_PLAYBOOK
        self.playbook: Playbook = load_playbook(path)
        self.templates = template_environment(path.parent)
        self.default_tz = default_tz
        self.commands: dict[str, CommandSpec] = command_table()
        self._command_threads: ThreadPoolExecutor | None = None
        self.workers: CommandRunner | None = None  # set by `mend serve` (bot/workers.py)
        self.on_command: Callable[[float, str], None] | None = None  # seconds, platform: for /metrics

    # --- commands ------------------------------------------------------------------------------
    async def run(self, command: Command) -> list[Reply]:
        """`handle`, off the event loop (what adapters call): in a command worker process when `mend serve`
        started some (bot/workers.py), else on the engine's own command threads.

        One thread on SQLite (it has one writer anyway) and four on PostgreSQL (to overlap network waits):
        every extra thread doing Python work makes the event loop wait for the GIL, and the loop is what
        acks Slack and Teams within their deadlines. Measured in docs/PERFORMANCE.md."""
        started = time.perf_counter()
        try:
            replies = await self.workers.run(command) if self.workers is not None else None
            if replies is not None:
                return replies
            if self._command_threads is None:
                self._command_threads = ThreadPoolExecutor(1 if self.db.dialect == "sqlite" else 4,
                                                           thread_name_prefix="mend-command")
            return await asyncio.get_running_loop().run_in_executor(self._command_threads, self.handle, command)
        finally:
            if self.on_command is not None:
                self.on_command(time.perf_counter() - started, command.platform)

    def handle(self, command: Command) -> list[Reply]:
        """Run one command. Never raises: errors become a private reply."""
        request_id = command.request_id or uuid.uuid4().hex[:12]
        try:
            return self._run(command)
        except UserError as exc:  # it may quote what was typed: masked like everything Mend posts
            return [Reply(text=mask_phi(str(exc)).text, title="That didn't work", audience=Audience.PRIVATE,
                          kind="error")]
        except Exception:
            log.exception("command failed (request %s, platform %s)", request_id, command.platform)
            return [Reply(
                text=f"Sorry, something went wrong on my side, and nothing was saved. Please try again in a "
                     f"moment. If it keeps happening, give your admin this reference: {request_id}.",
                audience=Audience.PRIVATE, kind="error")]

    def _run(self, command: Command) -> list[Reply]:
        word, rest = split_word(command.text)
        if word.startswith("/mend"):
            word, rest = split_word(rest)
        if not word:
            word = "help"
        spec = self.commands.get(word)
        check_text(command.text, form=spec.form if spec else "help")
        if spec is None:
            close = difflib.get_close_matches(word, list(self.commands), n=1)
            hint = f" Did you mean `{close[0]}`?" if close else ""
            raise UserError(f"I don't know the command `{word[:30]}`.{hint} Type `help` to see them all.",
                            self.commands[close[0]].form if close else "help")
        for attempt in range(3):
            try:
                return self._run_once(command, spec, rest)
            except IntegrityError:
                if attempt == 2:
                    raise
                log.info("reference taken by a concurrent command; retrying")
        raise AssertionError("unreachable")

    def _run_once(self, command: Command, spec: CommandSpec, rest: str) -> list[Reply]:
        with self.db.session() as session:
            ctx = Context(session=session, command=command, now=self.clock.now(), playbook=self.playbook,
                          templates=self.templates, default_tz=self.default_tz)
            if spec.writes:
                ctx.remember(Mention(command.user, command.user_name, command.user_tz))
                for mention in command.mentions:
                    ctx.remember(mention)
            replies = spec.handler(ctx, rest)
            if spec.writes:  # only a write can change what the playbook's checks see
                session.flush()
                replies += self._progress(ctx)
            else:  # a read-only command writes nothing, whatever its handler did; the replies are plain data,
                session.expunge_all()  # so its objects are let go first instead of expired one by one
                session.rollback()
        if ctx.findings:
            replies.append(Reply(text=describe_findings(ctx.findings), title="Privacy", audience=Audience.PRIVATE,
                                 kind="privacy"))
        return replies

    def _progress(self, ctx: Context) -> list[Reply]:
        """Advance every recovery this command touched; celebrate completed steps and show the next one."""
        out = []
        for obj in ctx.touched:
            if obj.status != "open":
                continue
            done = advance(obj, self.playbook, ctx.now)
            if not done:
                continue
            names = ", ".join(step.title for step in done)
            text = f"✅ Step done: {names}."
            from bot.views import step_section

            section = step_section(obj, self.playbook)
            target = obj.channel if obj.channel != ctx.command.channel else None
            out.append(reply(f"{obj.ref}: progress", Section(text=text), section, kind="progress").to(channel=target))
        return out

    # --- scheduled deliveries ------------------------------------------------------------------
    def render_delivery(self, delivery_id: int) -> list[Reply]:
        """The replies one due delivery should send; [] when it no longer applies (action done, closed)."""
        now = self.clock.now()
        with self.db.session() as session:
            delivery = session.get(Delivery, delivery_id)
            return [] if delivery is None else self._render(session, delivery, now)

    def render_deliveries(self, ids: Sequence[int]) -> dict[int, list[Reply] | Exception]:
        """`render_delivery` for many rows at once (the scheduler's chunks): the rows, their actions with
        check-ins and recoveries, their schedules and the recoveries owed an update are loaded in a few
        queries, then each row is rendered from the session. A row that fails to render gets its exception;
        the others are unaffected. Missing rows get []."""
        now = self.clock.now()
        out: dict[int, list[Reply] | Exception] = {i: [] for i in ids}
        with self.db.session() as session:
            deliveries = list(session.scalars(select(Delivery).where(Delivery.id.in_(list(ids)))))
            actions = {d.action_id for d in deliveries if d.kind == "checkin" and d.action_id}
            schedules = {d.schedule_id for d in deliveries if d.schedule_id}
            recoveries = {d.recovery_id for d in deliveries if d.kind == "update_due" and d.recovery_id}
            # loaded into the session's identity map, where `_render` finds them without further SQL
            if actions:
                session.scalars(select(Action).where(Action.id.in_(actions))
                                .options(selectinload(Action.checkins), selectinload(Action.recovery))).all()
            if schedules:
                session.scalars(select(Schedule).where(Schedule.id.in_(schedules))).all()
            if recoveries:
                session.scalars(select(Recovery).where(Recovery.id.in_(recoveries))
                                .options(selectinload(Recovery.people))).all()
            for delivery in deliveries:
                try:
                    out[delivery.id] = self._render(session, delivery, now)
                except Exception as exc:
                    log.exception("delivery %s could not be rendered", delivery.id)
                    out[delivery.id] = exc
        return out

    def _render(self, session: Session, delivery: Delivery, now: datetime) -> list[Reply]:
        late = None
        if now - delivery.due_at > LATE_AFTER:
            tz = self._delivery_tz(session, delivery)
            late = f"(due at {moment(delivery.due_at, tz)}, delayed: Mend was not running then)"
        if delivery.kind == "checkin":
            action = session.get(Action, delivery.action_id) if delivery.action_id else None
            if action is None or action.status != "open" or action.recovery.status != "open":
                return []
            if action.checkins and now - action.checkins[-1].at < RECENT_CHECKIN:
                return []  # the owner answered recently: do not nag
            return [checkin_reminder(action, now.astimezone(ZoneInfo(action.tz)), late)]
        if delivery.kind == "standup":
            from bot.commands.standup import channel_standup

            tz = self._delivery_tz(session, delivery)
            standup = channel_standup(session, delivery.scope, delivery.channel, now, tz, self.playbook)
            if late:
                standup = standup.to(context=late, text=standup.text + "\n\n" + late)
            return [standup]
        if delivery.kind == "update_due":
            recovery = session.get(Recovery, delivery.recovery_id) if delivery.recovery_id else None
            if recovery is None or recovery.status != "open":
                return []
            today = now.astimezone(ZoneInfo(recovery.tz)).date()
            return [update_due_reminder(recovery, late, owed_updates(recovery, today, self.playbook))]
        log.warning("delivery %s has unknown kind %s", delivery.id, delivery.kind)
        return []

    def _delivery_tz(self, session: Session, delivery: Delivery) -> str:
        if delivery.schedule_id:
            schedule = session.get(Schedule, delivery.schedule_id)
            if schedule is not None:
                return schedule.tz
        return self.default_tz

