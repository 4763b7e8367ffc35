"""Rendering many deliveries at once says exactly what rendering them one by one says, and a standup's cost
does not grow with the number of actions it summarises."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, select

from bot.store.models import Action, Delivery
from tests.conftest import START, open_recovery


def _pending(core) -> list[int]:  # type: ignore[no-untyped-def]
    with core.db.session() as session:
        return list(session.scalars(select(Delivery.id).where(Delivery.state == "pending").order_by(Delivery.id)))


def test_a_chunk_renders_as_each_row_does_whatever_state_its_action_is_in(chat, clock, core):
    open_recovery(chat)
    chat.say("/mend affected 3 patients")
    chat.say("/mend action Add renewals to the tracker @sam due friday checkin daily at 09:00")  # open
    chat.say("/mend action Call the payer @lee due friday checkin daily at 09:00")  # answered just now
    chat.say("/mend action Train the team @sam due friday checkin daily at 09:00")  # done
    chat.say("/mend standup daily at 09:30")
    chat.say("/mend draft patients")  # promises an update: an update-due reminder row
    chat.say("/mend sent patients to Patient 1-3")
    chat.say("/mend checkin A3 done", as_user="sam")
    clock.set(START + timedelta(days=3, hours=2))  # everything is due, some of it late
    chat.say("/mend checkin A2 at-risk waiting on the payer", as_user="lee")
    ids = _pending(core)
    assert len(ids) == 4, "A1 and A2 check-ins, the standup, the promised update (A3 is done)"
    one_by_one = {i: core.engine.render_delivery(i) for i in [*ids, 999_999]}
    at_once = core.engine.render_deliveries([*ids, 999_999])
    assert at_once == one_by_one
    titles = sorted(r.title or "" for replies in at_once.values() for r in replies)  # type: ignore[union-attr]
    assert titles[0] == "Check-in: A1" and titles[2] == "Update due: R1", "A2 was answered an hour ago"
    assert titles[1].startswith("Standup")
    assert any("delayed: Mend was not running then" in r.text for rs in at_once.values() for r in rs)  # type: ignore[union-attr]


def test_one_row_that_cannot_render_does_not_stop_the_others(chat, clock, core):
    open_recovery(chat)
    chat.say("/mend action Add renewals to the tracker @sam due friday checkin daily at 09:00")
    chat.say("/mend action Call the payer @lee due friday checkin daily at 09:00")
    chat.say("/mend standup daily at 09:30")
    ids = _pending(core)
    with core.db.session() as session:
        session.get(Delivery, ids[0]).kind = "mystery"  # an unknown kind renders nothing, with a warning
        session.get(Action, session.get(Delivery, ids[1]).action_id).tz = "Mars/Olympus"  # rendering it fails
    clock.set(START + timedelta(days=1, hours=2))
    rendered = core.engine.render_deliveries(ids)
    assert rendered[ids[0]] == []
    assert isinstance(rendered[ids[1]], Exception), "the failure is the row's own, for the scheduler to retry"
    assert [r.kind for r in rendered[ids[2]]] == ["standup"]  # type: ignore[union-attr]


def _statements_for_standup(core, chat, actions: int) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    for i in range(actions):
        chat.say(f"/mend action Call back family {i} @sam due friday")
        if i % 2:
            chat.say(f"/mend checkin A{i + 1} at-risk")
    statements: list[str] = []
    engine = core.db.engine

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        text = chat.say("/mend standup now")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements), text


def test_a_standup_reads_a_fixed_number_of_queries_however_many_actions(chat, core):
    open_recovery(chat)
    few, text = _statements_for_standup(core, chat, 3)
    assert "Actions: 0 of 3 done" in text and "Check-ins: A2 🟠 at-risk" in text
    many, text = _statements_for_standup(core, chat, 30)
    assert "Actions: 0 of 33 done" in text
    assert many == few, "a query per action would make a standup of 1,000 actions slow"

