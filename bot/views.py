"""Building the neutral replies people read: status, standup, report, reminders.

The engine decides what to say; these functions only shape recorded facts into `Reply` objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.ledger import summary_lines
from bot.messages import Audience, Button, Field, Reply, Section
from bot.playbook import Playbook
from bot.progress import current_step, unmet
from bot.store.models import Action, Checkin, Delivery, Recovery
from bot.timefmt import day, moment, relative_due

CHECKIN_STATES = {
    "on-track": ("On track", "primary", "🟢"),
    "at-risk": ("At risk", None, "🟠"),
    "blocked": ("Blocked", "danger", "🔴"),
    "done": ("Done", "primary", "✅"),
}

STANDUP_CHECKINS = timedelta(days=1)  # a standup shows the check-ins of the last day
MAX_LISTED = 25  # items shown per list before summarising; keeps replies inside every platform's limits


def listed(names: Sequence[str], limit: int) -> str:
    """`Patient 1, Patient 2 and 3 more`: at most `limit` names, then how many were left out."""
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def affected_summary(recovery: Recovery) -> str:
    groups = [f"{g.count} {g.audience}" for g in recovery.affected if g.count > 0]
    return ", ".join(groups) if groups else "not counted yet"


def action_line(action: Action, today: datetime | None = None) -> str:
    owner = action.owner_name or action.owner
    state = ""
    if action.status == "done":
        state = " ✅ done"
    elif action.last_checkin:
        state = f" {CHECKIN_STATES[action.last_checkin][2]} {action.last_checkin}"
    due = relative_due(action.due, today.date()) if today and action.status == "open" else day(action.due)
    return f"*{action.ref}* {action.title} — {owner}, due {due}{state}"


def step_section(recovery: Recovery, playbook: Playbook) -> Section:
    found = current_step(recovery, playbook)
    if found is None:
        return Section(title="Playbook", text="Every step of the playbook is done. Close the recovery with `close`.")
    index, step = found
    todo = unmet(recovery, step, playbook)
    lines = [f"*Step {index + 1} of {len(playbook.steps)}: {step.title}*", step.prompt]
    lines += [f"• To finish this step, {hint}" for hint in todo]
    return Section(title="Where we are", text="\n".join(lines))


def checkin_buttons(action: Action) -> tuple[Button, ...]:
    return tuple(
        Button(label=label, value=f"checkin {action.ref} {state}", style=style)
        for state, (label, style, _icon) in CHECKIN_STATES.items()
    )


def status_reply(recovery: Recovery, playbook: Playbook, now: datetime, tz: str, upcoming: list[Delivery]) -> Reply:
    local_now = now.astimezone(ZoneInfo(tz))  # "today" is the reader's today, not UTC's
    sections = [step_section(recovery, playbook)]
    facts = [
        Field("Missed", recovery.what),
        Field("Lead", recovery.lead_name or recovery.lead),
        Field("People affected", affected_summary(recovery)),
        *([Field("Impact", recovery.impact)] if recovery.impact else []),
        *([Field("Reached", "; ".join(ledger_lines))] if (ledger_lines := summary_lines(recovery, local_now.date())) else []),
        Field("New deadline", day(recovery.new_deadline) if recovery.new_deadline else "not set (`deadline DATE`)"),
    ]
    if recovery.next_update_at:
        facts.append(Field("Next update promised", moment(recovery.next_update_at, recovery.tz)))
    sections.append(Section(title="The miss", fields=tuple(facts)))
    outreach = []
    for audience in playbook.audiences:
        drafts = [o for o in recovery.outreach if o.audience == audience and o.kind == "draft"]
        if drafts:
            last = drafts[-1]
            state = "sent" if last.sent_at else "approved" if last.approved_at else "drafted"
            outreach.append(f"{playbook.audiences[audience].label}: {state} {day(last.drafted_at.date())}")
    sections.append(Section(title="Outreach", text="\n".join(outreach) or "No drafts yet. Try `draft patients`."))
    actions = [action_line(a, local_now) for a in recovery.actions[:MAX_LISTED]]
    if len(recovery.actions) > MAX_LISTED:
        actions.append(f"…and {len(recovery.actions) - MAX_LISTED} more")
    sections.append(Section(title="Actions", text="\n".join(actions) or "No prevention actions yet."))
    next_lines = [f"{d.kind.replace('_', ' ')} {moment(d.due_at, tz)}" + _for(d, recovery) for d in upcoming[:5]]
    sections.append(Section(title="Next check-ins", text="\n".join(next_lines) or "None scheduled."))
    title = f"{recovery.ref}: {recovery.what}"
    text = _plain(title, sections)
    return Reply(text=text, title=title, sections=tuple(sections), kind="status")


def _for(delivery: Delivery, recovery: Recovery) -> str:
    for action in recovery.actions:
        if action.id == delivery.action_id:
            return f" — {action.ref} with {action.owner_name or action.owner}"
    return ""


def _plain(title: str | None, sections: list[Section] | tuple[Section, ...]) -> str:
    parts = [title] if title else []
    for section in sections:
        lines = [section.title + ":"] if section.title else []
        if section.text:
            lines.append(section.text)
        lines += [f"{f.label}: {f.value}" for f in section.fields]
        parts.append("\n".join(lines))
    return "\n\n".join(p for p in parts if p)


def reply(title: str | None, *sections: Section, buttons: tuple[Button, ...] = (), kind: str = "answer",
          context: str | None = None, audience: Audience = Audience.CHANNEL) -> Reply:
    """A reply whose plain text is built from its structure, so the fallback never drifts."""
    text = _plain(title, sections)
    if context:
        text += f"\n\n{context}"
    return Reply(text=text, title=title, sections=tuple(sections), buttons=buttons, context=context,
                 kind=kind, audience=audience)


def step_title(recovery: Recovery, playbook: Playbook | None) -> str:
    found = current_step(recovery, playbook) if playbook else None
    return found[1].title if found else ("all steps done" if recovery.current_step == "complete" else recovery.current_step)


def standup_reply(recoveries: list[Recovery], checkins: dict[int, list[Checkin]], now: datetime, tz: str,
                  channel: str, playbook: Playbook | None = None) -> Reply:
    """`checkins`: each recovery's check-ins of the last `STANDUP_CHECKINS`, oldest first, by recovery id
    (`bot.commands.standup.channel_standup` fetches both)."""
    today = now.astimezone(ZoneInfo(tz))  # overdue and due soon by the channel's calendar, not UTC's
    title = f"Standup — {moment(now, tz)}"
    if not recoveries:
        return reply(title, Section(text="No open recoveries in this channel. Nice work. 🎉"), kind="standup").to(
            channel=channel
        )
    sections = []
    since = now - STANDUP_CHECKINS
    for recovery in recoveries[:MAX_LISTED]:
        open_actions = [a for a in recovery.actions if a.status == "open"]
        overdue = [a for a in open_actions if a.due < today.date()]
        due_soon = [a for a in open_actions if today.date() <= a.due <= today.date() + timedelta(days=2)]
        recent = checkins.get(recovery.id, [])
        wins = [w for w in recovery.wins if w.at >= since - timedelta(days=6)]
        lines = [f"People affected: {affected_summary(recovery)}. Step: {step_title(recovery, playbook)}."]
        lines += summary_lines(recovery, today.date())
        if overdue:
            lines.append("Overdue: " + "; ".join(f"{a.ref} {a.title} ({a.owner_name or a.owner})" for a in overdue[:10]))
        if due_soon:
            lines.append("Due soon: " + "; ".join(f"{a.ref} {a.title} ({day(a.due)})" for a in due_soon[:10]))
        if recent:
            lines.append(
                "Check-ins: "
                + "; ".join(f"{c.action.ref} {CHECKIN_STATES[c.status][2]} {c.status}" for c in recent[-10:])
            )
        if wins:
            lines.append("Wins: " + "; ".join(w.text for w in wins[-3:]))
        done = sum(1 for a in recovery.actions if a.status == "done")
        lines.append(f"Actions: {done} of {len(recovery.actions)} done, {len(overdue)} overdue.")
        sections.append(Section(title=f"{recovery.ref}: {recovery.what}", text="\n".join(lines)))
    if len(recoveries) > MAX_LISTED:
        sections.append(Section(text=f"…and {len(recoveries) - MAX_LISTED} more open recoveries."))
    return reply(title, *sections, kind="standup").to(channel=channel)


def checkin_reminder(action: Action, now: datetime, late_note: str | None) -> Reply:
    owner = action.owner_name or action.owner
    lines = [f"Hi {owner}, how is *{action.ref}* going?", f"{action.title}", f"Due {relative_due(action.due, now.date())}."]
    if late_note:
        lines.append(late_note)
    lines.append(f"Answer with the buttons, or type `checkin {action.ref} on-track|at-risk|blocked|done NOTE`.")
    section = Section(text="\n".join(lines))
    title = f"Check-in: {action.ref}"
    return reply(title, section, buttons=checkin_buttons(action), kind="reminder", audience=Audience.DIRECT).to(
        to_user=action.owner, channel=action.recovery.channel
    )


def update_due_reminder(recovery: Recovery, late_note: str | None, owed: list[str] | None = None) -> Reply:
    lines = [
        f"The update you promised the people affected by *{recovery.ref}* ({recovery.what}) is due now.",
        "Draft it from what is recorded with `update`, check it, and send it, even if there is little news.",
    ]
    if owed:
        lines.insert(1, f"{len(owed)} people are owed it: {listed(owed, 12)}.")
    if late_note:
        lines.append(late_note)
    return reply(f"Update due: {recovery.ref}", Section(text="\n".join(lines)), kind="reminder",
                 audience=Audience.DIRECT).to(to_user=recovery.lead, channel=recovery.channel)
