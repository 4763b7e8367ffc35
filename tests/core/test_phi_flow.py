"""PHI never reaches storage or a post: each identifier kind, through every kind of text a person types."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import String, Text, select

from bot.messages import Audience
from bot.store import models
from tests.conftest import open_recovery

NY = ZoneInfo("America/New_York")

IDENTIFIERS = [
    ("MRN 4455667", "4455667", "medical record number"),
    ("member ID XJH882233441", "XJH882233441", "member ID"),
    ("claim number 99-8877-66", "99-8877-66", "claim number"),
    ("DOB 03/14/1961", "03/14/1961", "date of birth"),
    ("SSN 123-45-6789", "123-45-6789", "Social Security number"),
    ("call (555) 867-5309", "867-5309", "phone number"),
    ("email jane.doe@example.org", "jane.doe@example.org", "email address"),
    ("lives at 42 Maple Street", "42 Maple Street", "street address"),
    ("patient Maria Lopez", "Maria Lopez", "name"),
]


def all_stored_text(core) -> str:
    """Every string column of every row, concatenated: what the database holds."""
    parts = []
    with core.db.session() as session:
        for table in models.Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text)]
            for row in session.execute(select(*columns)) if columns else []:
                parts += [str(v) for v in row if v is not None]
    return "\n".join(parts)


@pytest.mark.parametrize(("phrase", "secret", "kind"), IDENTIFIERS)
async def test_identifiers_are_masked_in_storage_and_every_post(chat, core, clock, scheduler, outbound,
                                                                 phrase, secret, kind):
    posted = [chat.say(f"/mend miss appeal for {phrase} was missed")]
    notices = [r for r in chat.history if r.kind == "privacy"]
    assert notices and notices[0].audience == Audience.PRIVATE
    assert kind.split()[0].lower() in notices[0].text.lower()  # the author is told what was masked and why
    posted += [
        chat.say("/mend affected 2 patients"),
        chat.say(f"/mend plan resubmit the appeal, {phrase}"),
        chat.say(f"/mend feedback the family said {phrase}"),
        chat.say(f"/mend win appeal refiled for {phrase}"),
        chat.say(f"/mend action Fix intake for {phrase} @sam due friday checkin daily at 09:00"),
        chat.say(f"/mend checkin A1 at-risk {phrase}", as_user="sam"),
        chat.say(f"/mend retro {phrase}"),
        chat.say("/mend draft patients"),
        chat.say("/mend draft payers"),
        chat.say(f"/mend edit payers We are sorry about {phrase}. Next update soon."),
        chat.say("/mend approve payers", as_user="sam"),
        chat.say("/mend sent payers to all by email"),
        chat.say("/mend language Patient 1 spanish"),
        chat.say("/mend draft patients es"),
        chat.say(f"/mend edit patients es Lo sentimos: {phrase}."),
        chat.say("/mend ledger"),
        chat.say("/mend update"),
        chat.say("/mend status"),
        chat.say("/mend standup now"),
        chat.say("/mend standup daily at 09:15"),
        chat.say("/mend report"),
    ]
    clock.set(datetime(2026, 11, 24, 9, 30, tzinfo=NY))  # the check-in reminder and the scheduled standup
    await scheduler.tick()
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=NY))  # the update promised three days on
    await scheduler.tick()
    posted += [r.text for r in outbound.sent]
    titles = [r.title or "" for r in outbound.sent]
    assert any(t.startswith("Check-in: A1") for t in titles), titles
    assert any(t.startswith("Standup") for t in titles), titles
    assert any(t.startswith("Update due: R1") for t in titles), titles
    everything = "\n".join(posted) + "\n".join(r.text for r in chat.history)
    assert secret not in everything
    assert secret not in all_stored_text(core)
    assert "[" in "\n".join(posted)  # the placeholder shows where something was masked
    privacy = [r for r in chat.history if r.kind == "privacy"]
    assert len(privacy) >= 8 and all(r.audience == Audience.PRIVATE for r in privacy)


def test_clean_text_is_not_masked_and_no_notice_is_sent(chat):
    open_recovery(chat)
    chat.say("/mend action Add renewals to the tracker @sam due 2026-12-01 checkin daily at 09:00 UTC")
    assert not [r for r in chat.history if r.kind == "privacy"]
    assert "Add renewals to the tracker" in chat.say("/mend status")
