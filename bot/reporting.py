"""The recovery's report in Markdown: timeline, outreach, actions and check-ins, feedback, wins, lessons."""

from __future__ import annotations

from bot.playbook import Playbook
from bot.store.models import Recovery
from bot.timefmt import day, moment
from bot.views import affected_summary


def report_markdown(recovery: Recovery, playbook: Playbook, tz: str) -> str:
    out = [f"# {recovery.ref}: {recovery.what}", ""]
    out += [
        f"- Status: {recovery.status}" + (f" (closed {moment(recovery.closed_at, tz)})" if recovery.closed_at else ""),
        f"- Opened by {recovery.opened_by_name or recovery.opened_by} on {moment(recovery.opened_at, tz)}",
        f"- Lead: {recovery.lead_name or recovery.lead}",
        f"- People affected: {affected_summary(recovery)}",
    ]
    if recovery.impact:
        out.append(f"- Impact: {recovery.impact}")
    if recovery.original_deadline:
        out.append(f"- Original deadline: {day(recovery.original_deadline)}")
    out.append(f"- New deadline: {day(recovery.new_deadline) if recovery.new_deadline else 'not set'}")
    if recovery.remedy:
        out.append(f"- Making it right: {recovery.remedy}")
    if recovery.cause_category:
        out.append(f"- Cause: {recovery.cause_category}" + (f" — {recovery.cause_note}" if recovery.cause_note else ""))

    out += ["", "## Playbook"]
    states = {s.step_id: s for s in recovery.steps}
    for step in playbook.steps:
        state = states.get(step.id)
        mark = "x" if state and state.status == "done" else " "
        when = f" ({moment(state.completed_at, tz)})" if state and state.completed_at else ""
        out.append(f"- [{mark}] {step.title}{when}")

    out += ["", "## Timeline"]
    out += [f"- {moment(e.at, tz)} — {e.actor_name or e.actor}: {e.summary}" for e in recovery.events]

    out += ["", "## Outreach"]
    if not recovery.outreach:
        out.append("- none")
    for o in recovery.outreach:
        label = playbook.audiences[o.audience].label if o.audience in playbook.audiences else o.audience
        status = "sent" if o.sent_at else "approved" if o.approved_at else "drafted"
        out.append(f"- {label} ({o.kind}), {status}, drafted {moment(o.drafted_at, tz)}")

    out += ["", "## Actions and check-ins"]
    if not recovery.actions:
        out.append("- none")
    for a in recovery.actions:
        out.append(f"- {a.ref} {a.title} — {a.owner_name or a.owner}, due {day(a.due)}, {a.status}")
        for c in a.checkins:
            note = f": {c.note}" if c.note else ""
            out.append(f"  - {moment(c.at, tz)} {c.status} ({c.by_name or c.by_user}){note}")

    out += ["", "## Feedback"] + ([f"- {f.text}" for f in recovery.feedback] or ["- none"])
    out += ["", "## Wins"] + ([f"- {w.text}" for w in recovery.wins] or ["- none"])
    out += ["", "## Lessons"]
    questions = {q.id: q.ask.split("?")[0] + "?" for q in playbook.retro}
    lessons = [f"- {questions.get(r.question, r.question)} {r.answer}" for r in recovery.retro]
    out += lessons or ["- the retrospective has not been held yet (`retro`)"]
    return "\n".join(out)
