"""The engine: one `Command` in, a list of `Reply` out. It decides; it never delivers.

Every command runs in one transaction: a rejected command (a `UserError`) or a failure writes nothing.
"""

from __future__ import annotations

import difflib
import logging
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from bot.clock import Clock
from bot.commands import CommandSpec, command_table
from bot.context import Context
from bot.errors import UserError
from bot.ledger import owed_updates
from bot.messages import Audience, Command, Mention, Reply, Section
from bot.parsing import check_text, split_word
from bot.playbook import DEFAULT_PLAYBOOK, Playbook, load_playbook, template_environment
from bot.privacy import describe_findings
from bot.progress import advance
from bot.store.db import Database
from bot.store.models import Action, Delivery, Recovery
from bot.timefmt import moment
from bot.views import checkin_reminder, reply, standup_reply, update_due_reminder

log = logging.getLogger(__name__)

LATE_AFTER = timedelta(minutes=2)
RECENT_CHECKIN = timedelta(hours=12)  # a check-in this recent makes the next reminder unnecessary  # a delivery sent later than this after its due time says it is delayed


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

    # --- commands ------------------------------------------------------------------------------
    def handle(self, command: Command) -> list[Reply]:
        """Run one command. Never raises: errors become a private reply."""
        request_id = command.request_id or uuid.uuid4().hex[:12]
        try:
            return self._run(command)
        except UserError as exc:
            return [Reply(text=str(exc), title="That didn't work", audience=Audience.PRIVATE, kind="error")]
        except Exception:
            log.exception("command failed (request %s, platform %s)", request_id, command.platform)
            return [Reply(
                text=f"Sorry, something went wrong on my side, and nothing was saved. Please try again in a "
                     f"moment. If it keeps happening, give your admin this reference: {request_id}.",
                audience=Audience.PRIVATE, kind="error")]

    def _run(self, command: Command) -> list[Reply]:
        check_text(command.text)
        word, rest = split_word(command.text)
        if word.startswith("/mend"):
            word, rest = split_word(rest)
        if not word:
            word = "help"
        spec = self.commands.get(word)
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
            session.flush()
            replies += self._progress(ctx)
            if not spec.writes:
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
            if delivery is None:
                return []
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
                return [checkin_reminder(action, now.astimezone(_zone(action.tz)), late)]
            if delivery.kind == "standup":
                from bot.commands.standup import channel_recoveries

                tz = self._delivery_tz(session, delivery)
                standup = standup_reply(channel_recoveries(session, delivery.scope, delivery.channel), now, tz,
                                        delivery.channel, self.playbook)
                if late:
                    standup = standup.to(context=late, text=standup.text + "\n\n" + late)
                return [standup]
            if delivery.kind == "update_due":
                recovery = session.get(Recovery, delivery.recovery_id) if delivery.recovery_id else None
                if recovery is None or recovery.status != "open":
                    return []
                today = now.astimezone(_zone(recovery.tz)).date()
                return [update_due_reminder(recovery, late, owed_updates(recovery, today, self.playbook))]
        log.warning("delivery %s has unknown kind %s", delivery_id, delivery.kind)
        return []

    def _delivery_tz(self, session, delivery: Delivery) -> str:  # type: ignore[no-untyped-def]
        from bot.store.models import Schedule

        if delivery.schedule_id:
            schedule = session.get(Schedule, delivery.schedule_id)
            if schedule is not None:
                return schedule.tz
        return self.default_tz


def _zone(name: str):  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)
