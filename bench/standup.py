"""Standup render for a channel with many actions: the engine's reply plus Slack's Block Kit, timed, and
checked against Block Kit's limits (a message that breaks one is refused whole)."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from adapters.slack.render import HEADER_CHARS, MESSAGE_BLOCKS, SECTION_CHARS, Message, render_messages
from bot.app import build_core
from bot.config import Settings
from bot.messages import Command
from bot.store.models import Action, Checkin, Delivery, Recovery

CHANNEL = "C0BIG"


@dataclass
class StandupResult:
    actions: int
    median_ms: float
    messages: int
    blocks: int
    within_limits: bool


def _seed(core, actions: int) -> int:  # type: ignore[no-untyped-def]
    """A recovery opened through the engine, then `actions` actions (a third with a check-in) in bulk."""
    [answer, *_] = core.engine.handle(Command(platform="slack", tenant="T1", channel=CHANNEL, user="U0LEAD",
                                              text="miss prior-auth renewals for 14 patients were due 2026-11-20"))
    assert answer.kind != "error", answer.text
    now = core.clock.now()
    with core.db.session() as session:
        recovery = session.query(Recovery).one()
        for i in range(actions):
            action = Action(scope="slack:T1", ref_no=i + 1, recovery=recovery, title=f"Call back family {i}",
                            owner=f"U{i:05d}", owner_name=f"owner{i}", due=(now + timedelta(days=i % 5 - 1)).date(),
                            tz="America/New_York", status="done" if i % 4 == 0 else "open", created_by="U0LEAD",
                            created_at=now)
            session.add(action)
            if i % 3 == 0:
                session.add(Checkin(action=action, status="at-risk", by_user=action.owner, at=now))
        delivery = Delivery(scope="slack:T1", platform="slack", kind="standup", channel=CHANNEL, due_at=now,
                            state="claimed")
        session.add(delivery)
        session.flush()
        return delivery.id


def _within_limits(messages: list[Message]) -> bool:
    for message in messages:
        if len(message.blocks) > MESSAGE_BLOCKS or len(message.text) > 40_000:
            return False
        for block in message.blocks:
            text = block.get("text") or {}
            limit = HEADER_CHARS if block["type"] == "header" else SECTION_CHARS
            if isinstance(text, dict) and len(text.get("text", "")) > limit:
                return False
    return True


def run(folder: Path, *, actions: int, repeat: int = 7) -> StandupResult:
    core = build_core(Settings(database_url=f"sqlite:///{folder / 'standup.db'}", timezone="America/New_York"))
    delivery_id = _seed(core, actions)
    timings, messages = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        [reply] = core.engine.render_delivery(delivery_id)
        messages = render_messages(reply)
        timings.append(time.perf_counter() - start)
    core.db.dispose()
    return StandupResult(actions, statistics.median(timings) * 1000, len(messages),
                         sum(len(m.blocks) for m in messages), _within_limits(messages))
