"""Handing a recovery's lead to someone else (the Slack "report a miss" form names the lead at opening).

The lead is who the promised updates are asked of, so naming the right person matters more than who
happened to type `miss`.
"""

from __future__ import annotations

from bot.context import Context
from bot.errors import UserError
from bot.messages import Reply, Section
from bot.parsing import find_mentions
from bot.views import reply

LEAD_FORM = "lead @PERSON"


def lead(ctx: Context, args: str) -> list[Reply]:
    recovery = ctx.require_recovery(LEAD_FORM)
    mentions = find_mentions(args)
    if len(mentions) != 1 or args.replace(args[mentions[0].start:mentions[0].end], "").strip():
        raise UserError("Name one person to lead the recovery.", LEAD_FORM)
    token = mentions[0]
    person = ctx.mentioned(token, LEAD_FORM)
    ctx.remember(person)
    name = person.name or ctx.person_name(person.user_id)
    before = recovery.lead_name or recovery.lead
    recovery.lead, recovery.lead_name = person.user_id, name
    ctx.event(recovery, "lead", f"lead handed from {before} to {name}")
    return [reply(f"{recovery.ref}: {name} leads", Section(
        text=f"{name} now leads {recovery.ref} and will be reminded when an update to the people affected is due."))]
