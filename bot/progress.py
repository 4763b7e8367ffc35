"""Walking the playbook: which checks hold for a recovery, and which step is current."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.playbook import Playbook, RetroQuestion, Step
from bot.store.models import Recovery, StepState

CHECKS: dict[str, Callable[[Recovery, Playbook], bool]] = {
    "affected_counted": lambda r, p: any(g.count > 0 for g in r.affected),
    "deadline_committed": lambda r, p: r.new_deadline is not None,
    "remedy_recorded": lambda r, p: bool(r.remedy),
    "outreach_drafted": lambda r, p: bool(r.affected)
    and {g.audience for g in r.affected if g.count > 0} <= {o.audience for o in r.outreach if o.kind == "draft"},
    "feedback_recorded": lambda r, p: bool(r.feedback),
    "actions_owned": lambda r, p: any(a.owner and a.due for a in r.actions),
    "checkins_recorded": lambda r, p: bool(r.actions)
    and all(a.checkins for a in r.actions if a.status == "open"),
    "update_drafted": lambda r, p: any(o.kind == "update" for o in r.outreach),
    "retro_done": lambda r, p: retro_complete(r, p),
}


def next_retro_question(recovery: Recovery, playbook: Playbook) -> tuple[RetroQuestion, str] | None:
    """The question the retrospective asks next, with its wording; None when it is complete."""
    for question in playbook.retro:
        asked = sum(1 for a in recovery.retro if a.question == question.id)
        if question.followup:
            if recovery.cause_category:
                continue
            if asked == 0:
                return question, question.ask
            if asked < question.max_rounds:
                return question, question.followup
            categories = ", ".join(playbook.cause_categories)
            return question, f"Please name the cause: `retro cause CATEGORY NOTE` (categories: {categories})."
        if asked == 0:
            return question, question.ask
    return None


def retro_complete(recovery: Recovery, playbook: Playbook) -> bool:
    return next_retro_question(recovery, playbook) is None


def unmet(recovery: Recovery, step: Step, playbook: Playbook) -> list[str]:
    """The hints of the checks that do not hold yet: what finishes this step."""
    return [c.hint for c in step.completes_when if not CHECKS[c.check](recovery, playbook)]


def init_steps(recovery: Recovery, playbook: Playbook) -> None:
    recovery.steps = [
        StepState(step_id=step.id, position=i, status="current" if i == 0 else "pending")
        for i, step in enumerate(playbook.steps)
    ]
    recovery.current_step = playbook.steps[0].id


def advance(recovery: Recovery, playbook: Playbook, now: datetime) -> list[Step]:
    """Mark every step whose checks hold as done; the first step not done is current.

    Returns the steps that were completed by this call, so the reply can celebrate them."""
    completed = []
    states = {s.step_id: s for s in recovery.steps}
    current: str | None = None
    for i, step in enumerate(playbook.steps):
        state = states.get(step.id)
        if state is None:
            state = StepState(step_id=step.id, position=i, status="pending")
            recovery.steps.append(state)
        if state.status != "done" and not unmet(recovery, step, playbook):
            state.status, state.completed_at = "done", now
            completed.append(step)
        if state.status != "done":
            if current is None:
                current = step.id
                state.status = "current"
            else:
                state.status = "pending"
    recovery.current_step = current or "complete"
    return completed


def current_step(recovery: Recovery, playbook: Playbook) -> tuple[int, Step] | None:
    for i, step in enumerate(playbook.steps):
        if step.id == recovery.current_step:
            return i, step
    return None
