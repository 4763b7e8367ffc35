"""What a command handler works with: the session, the command, the time, the playbook, the guard."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import ExecutableOption

from bot.errors import UserError
from bot.messages import Command, Mention
from bot.parsing import OwnerToken
from bot.playbook import Playbook
from bot.privacy import Finding, mask_phi
from bot.store.models import Action, Event, Person, Recovery


@dataclass
class Context:
    session: Session
    command: Command
    now: datetime
    playbook: Playbook
    templates: SandboxedEnvironment
    default_tz: str
    findings: list[Finding] = field(default_factory=list)
    touched: list[Recovery] = field(default_factory=list)  # recoveries this command may have moved on

    def touch(self, recovery: Recovery | None) -> Recovery | None:
        if recovery is not None and recovery not in self.touched:
            self.touched.append(recovery)
        return recovery

    # --- privacy -------------------------------------------------------------------------------
    def guard(self, text: str) -> str:
        """Mask protected health information before the text is stored or posted."""
        masked = mask_phi(text)
        self.findings.extend(masked.findings)
        return masked.text

    # --- people and time -----------------------------------------------------------------------
    @property
    def scope(self) -> str:
        return self.command.scope

    @property
    def actor(self) -> str:
        return self.command.user

    @property
    def actor_name(self) -> str:
        return self.command.user_name or self.person_name(self.command.user)

    def person(self, user_id: str) -> Person | None:
        return self.session.scalar(select(Person).where(Person.scope == self.scope, Person.user_id == user_id))

    def person_name(self, user_id: str) -> str:
        person = self.person(user_id)
        return person.name if person and person.name else user_id

    def remember(self, mention: Mention) -> None:
        """Keep what the adapter told us about a person (name, zone) for later reminders."""
        person = self.person(mention.user_id)
        if person is None:
            person = Person(scope=self.scope, user_id=mention.user_id)
            self.session.add(person)
        if mention.name:
            person.name = mention.name
        if mention.tz:
            person.tz = mention.tz

    def mentioned(self, token: OwnerToken, form: str) -> Mention:
        """The person a mention in the text names, with what the adapter knows of them (name, zone).

        Adapters pass every person they recognised as `Command.mentions` (the console recognises `@name`).
        A plain `@name` no adapter recognised has no account behind it, so nothing could ever reach that
        person (on Slack or Teams: typed instead of picked from the mention list): refused."""
        resolved = self.command.mention_for(token.user_id) or self.command.mention_for(f"@{token.user_id}")
        if token.plain and resolved is None:
            raise UserError(f"I can't tell who `@{token.user_id[:40]}` is, so I could not remind them. Mention "
                            "them by typing @ and picking them from the list.", form)
        return Mention(
            user_id=resolved.user_id if resolved else token.user_id,
            name=(resolved.name if resolved else None) or token.name,
            tz=resolved.tz if resolved else None,
        )

    def tz_of(self, user_id: str) -> str:
        if user_id == self.command.user and self.command.user_tz:
            return self.command.user_tz
        person = self.person(user_id)
        return person.tz if person and person.tz else self.default_tz

    @property
    def tz(self) -> str:
        return self.tz_of(self.command.user)

    def today(self, tz: str | None = None) -> date:
        return self.now.astimezone(ZoneInfo(tz or self.tz)).date()

    # --- lookups ---------------------------------------------------------------------------------
    def channel_recovery(self, *load: ExecutableOption) -> Recovery | None:
        """The channel's open recovery; `load`: loader options for what the caller reads next."""
        return self.touch(self.session.scalars(
            select(Recovery).where(
                Recovery.scope == self.scope,
                Recovery.channel == self.command.channel,
                Recovery.status == "open",
            ).options(*load)
        ).unique().first())

    def require_recovery(self, form: str, *load: ExecutableOption) -> Recovery:
        recovery = self.channel_recovery(*load)
        if recovery is None:
            raise UserError(
                "There is no open recovery in this channel. Open one with `miss WHAT WAS MISSED`.", form
            )
        return recovery

    def action(self, ref: str, form: str) -> Action:
        ref = ref.strip().upper()
        if not (len(ref) >= 2 and ref[0] == "A" and ref[1:].isdigit()):
            raise UserError(f"`{ref[:20]}` is not an action reference. Actions look like A3.", form)
        action = self.session.scalar(select(Action).where(Action.scope == self.scope, Action.ref_no == int(ref[1:])))
        if action is None:
            raise UserError(f"I can't find action {ref} in this workspace. `status` lists the actions.", form)
        self.touch(action.recovery)
        return action

    def next_ref(self, model: type[Recovery] | type[Action]) -> int:
        current = self.session.scalar(select(func.max(model.ref_no)).where(model.scope == self.scope))
        return (current or 0) + 1

    def event(self, recovery: Recovery | None, kind: str, summary: str) -> None:
        self.session.add(
            Event(
                scope=self.scope,
                recovery=recovery,
                at=self.now,
                actor=self.actor,
                actor_name=self.actor_name,
                kind=kind,
                summary=summary,
            )
        )
