"""The command table: words → handler, with the right form and one example each (shown by `help`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.context import Context
from bot.messages import Reply


@dataclass(frozen=True)
class CommandSpec:
    handler: Callable[[Context, str], list[Reply]]
    form: str
    example: str
    summary: str
    writes: bool = True


def command_table() -> dict[str, CommandSpec]:
    """Built explicitly (no registry decorators), so the whole vocabulary reads in one place."""
    from bot.commands import actions, lead, learning, ledger, outreach, recovery, standup

    return {
        "help": CommandSpec(recovery.help_, "help", "help", "what Mend can do", writes=False),
        "miss": CommandSpec(recovery.miss, "miss WHAT WAS MISSED", "miss prior-auth renewals for 14 patients were due 2026-11-20",
                            "open a recovery in this channel"),
        "status": CommandSpec(recovery.status, "status", "status", "where the recovery stands", writes=False),
        "affected": CommandSpec(recovery.affected, "affected N AUDIENCE [N AUDIENCE…]", "affected 14 patients 3 families",
                                "count the people affected"),
        "impact": CommandSpec(recovery.impact, "impact WHAT THE MISS MEANS FOR THE PEOPLE AFFECTED",
                              "impact 14 families waited two extra weeks for treatment", "say what the miss meant"),
        "plan": CommandSpec(recovery.plan, "plan WHAT WE ARE DOING TO MAKE IT RIGHT",
                            "plan resubmit every renewal with an expedited review", "say how you will make it right"),
        "deadline": CommandSpec(recovery.deadline, "deadline DATE", "deadline in 10 days", "commit to a new deadline"),
        "lead": CommandSpec(lead.lead, "lead @PERSON", "lead @sam", "hand the recovery's lead to someone"),
        "draft": CommandSpec(outreach.draft, "draft patients|families|providers|payers|leadership|team",
                             "draft patients", "an outreach draft for the people affected"),
        "edit": CommandSpec(outreach.edit, "edit AUDIENCE [es] THE WHOLE NEW TEXT",
                            "edit patients Hello, we are sorry …", "replace a draft with your own words"),
        "approve": CommandSpec(outreach.approve, "approve AUDIENCE [es]", "approve patients",
                               "approve a colleague's draft"),
        "sent": CommandSpec(outreach.sent, "sent AUDIENCE [es] [to Patient 1-5] [by letter]",
                            "sent patients to all by letter", "mark an approved draft as sent"),
        "reached": CommandSpec(ledger.reached, "reached Patient N by phone|letter|email|portal|in-person",
                               "reached Patient 3 by phone", "record that someone was reached"),
        "attempt": CommandSpec(ledger.attempt, "attempt Patient N phone|letter|email|portal|in-person",
                               "attempt Patient 5 letter", "record an attempt to reach someone"),
        "language": CommandSpec(ledger.language, "language Patient N english|spanish", "language Patient 3 spanish",
                                "record someone's preferred language"),
        "ledger": CommandSpec(ledger.ledger, "ledger", "ledger", "the people affected, by pseudonym", writes=False),
        "update": CommandSpec(outreach.update, "update [es]", "update", "draft the promised progress update"),
        "action": CommandSpec(actions.action, "action TITLE @OWNER due DATE [checkin CADENCE]",
                              "action Add renewals to the shared tracker @dana due friday checkin daily at 09:00",
                              "a prevention action with an owner"),
        "checkin": CommandSpec(actions.checkin, "checkin ACTION on-track|at-risk|blocked|done [NOTE]",
                               "checkin A1 at-risk waiting on IT for tracker access", "record how an action is going"),
        "standup": CommandSpec(standup.standup, "standup now | daily at HH:MM [TZ] | weekdays at HH:MM [TZ] | off",
                               "standup weekdays at 09:30 America/Chicago", "post or schedule the standup"),
        "win": CommandSpec(learning.win, "win TEXT", "win all 14 renewals resubmitted", "celebrate a small win"),
        "feedback": CommandSpec(learning.feedback, "feedback TEXT", "feedback a family asked for a phone call, not a letter",
                                "record feedback from the people affected"),
        "retro": CommandSpec(learning.retro, "retro [ANSWER] | retro cause CATEGORY NOTE",
                             "retro the renewal dates lived in one person's inbox", "the retrospective, one question at a time"),
        "close": CommandSpec(recovery.close, "close [anyway]", "close", "close the recovery"),
        "report": CommandSpec(recovery.report, "report", "report", "the full report", writes=False),
    }
