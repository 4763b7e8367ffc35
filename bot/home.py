"""A person's own page (Slack's App Home tab): their open actions, the recoveries they are part of, standups.

Neutral like every view: a `Reply` built from the store, rendered by the adapter. Only recoveries the person
opened, leads, or owns an action in are listed, not every open recovery in the workspace: a recovery may
live in a private channel, Mend has no scope to check who is in which channel, and patient-advocacy work
should show each person what they need and no more.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from bot.messages import Reply, Section
from bot.playbook import Playbook
from bot.store.db import Database
from bot.store.models import Action, Delivery, Person, Recovery
from bot.timefmt import moment, relative_due
from bot.views import CHECKIN_STATES, affected_summary, checkin_buttons, reply, step_title

MAX_ACTIONS = 15  # each action is two blocks on Slack (text and buttons); Home holds 100
MAX_RECOVERIES = 10
MAX_STANDUPS = 5


def _where(recovery: Recovery) -> str:
    return f"#{recovery.channel_name.lstrip('#')}" if recovery.channel_name else "its channel"


def home_view(db: Database, scope: str, user_id: str, now: datetime, default_tz: str = "UTC",
              playbook: Playbook | None = None) -> Reply:
    with db.session() as session:
        person = session.scalar(select(Person).where(Person.scope == scope, Person.user_id == user_id))
        tz = person.tz if person and person.tz else default_tz
        today = now.astimezone(ZoneInfo(tz)).date()
        actions = list(session.scalars(
            select(Action).join(Recovery)
            .where(Action.scope == scope, Action.owner == user_id, Action.status == "open",
                   Recovery.status == "open")
            .order_by(Action.due, Action.ref_no)
        ))
        owned = select(Action.recovery_id).where(Action.scope == scope, Action.owner == user_id)
        recoveries = list(session.scalars(
            select(Recovery)
            .where(Recovery.scope == scope, Recovery.status == "open",
                   or_(Recovery.opened_by == user_id, Recovery.lead == user_id, Recovery.id.in_(owned)))
            .order_by(Recovery.ref_no)
        ))
        channels = {r.channel: r for r in recoveries}
        standups = [d for d in session.scalars(
            select(Delivery).where(Delivery.scope == scope, Delivery.kind == "standup", Delivery.state == "pending",
                                   Delivery.channel.in_(list(channels)))
            .order_by(Delivery.due_at)
        )][:MAX_STANDUPS]

        sections: list[Section] = []
        if actions:
            sections.append(Section(title="Your open actions", text=f"{len(actions)} open, soonest due first."))
        for action in actions[:MAX_ACTIONS]:
            state = f" · last check-in {CHECKIN_STATES[action.last_checkin][2]} {action.last_checkin}" \
                if action.last_checkin else ""
            sections.append(Section(
                text=f"*{action.ref}* {action.title}\nDue {relative_due(action.due, today)} · "
                     f"{action.recovery.ref} {action.recovery.what}{state}",
                buttons=checkin_buttons(action),
            ))
        if len(actions) > MAX_ACTIONS:
            sections.append(Section(text=f"…and {len(actions) - MAX_ACTIONS} more. `status` in each channel lists all."))
        if not actions:
            sections.append(Section(title="Your open actions", text="None. Thank you!"))

        lines = []
        for recovery in recoveries[:MAX_RECOVERIES]:
            open_count = sum(1 for a in recovery.actions if a.status == "open")
            role = "you lead" if recovery.lead == user_id else "you opened it" if recovery.opened_by == user_id \
                else "you own an action"
            lines.append(f"*{recovery.ref}* {recovery.what} — in {_where(recovery)}, {role}. "
                         f"Step: {step_title(recovery, playbook)}. People affected: {affected_summary(recovery)}. "
                         f"{open_count} open action(s).")
        if len(recoveries) > MAX_RECOVERIES:
            lines.append(f"…and {len(recoveries) - MAX_RECOVERIES} more.")
        sections.append(Section(title="Recoveries you are part of", text="\n".join(lines) or (
            "None open. When a deadline slips, type `/mend miss WHAT WAS MISSED` in the team's channel.")))

        standup_lines = [f"{_where(channels[d.channel])}: {moment(d.due_at, tz)}" for d in standups]
        sections.append(Section(title="Next standups",
                                text="\n".join(standup_lines) or "None scheduled (`standup daily at 09:30`)."))
    return reply("Mend", *sections, kind="home",
                 context="Shown: what you own, lead or opened. `/mend help` lists every command.")
