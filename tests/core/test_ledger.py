"""The affected-people ledger and the outreach composer: people by pseudonym, promises kept."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.composer import missing_elements, reading_level
from bot.playbook import load_playbook
from bot.store.models import AffectedPerson, Outreach
from tests.conftest import open_recovery, snapshot

NY = ZoneInfo("America/New_York")


def test_counting_people_creates_pseudonyms(chat, core):
    open_recovery(chat)
    text = chat.say("/mend affected 3 families")
    assert "0 of 14 patients reached" in text and "0 of 3 families reached" in text
    with core.db.session() as s:
        people = s.scalars(select(AffectedPerson).order_by(AffectedPerson.audience, AffectedPerson.number)).all()
        assert [(p.audience, p.number) for p in people][:3] == [("families", 1), ("families", 2), ("families", 3)]
        assert len(people) == 17


def test_reached_attempt_language_and_ledger(chat, core):
    open_recovery(chat)
    assert "Patient 3 reached by phone" in chat.say("/mend reached Patient 3 by phone")
    assert "(attempt 1)" in chat.say("/mend attempt Patient 5 letter")
    assert "(attempt 2)" in chat.say("/mend attempt Patient 5 letter")
    assert "Spanish" in chat.say("/mend language Patient 5 spanish")
    ledger = chat.say("/mend ledger")
    assert "1 of 14 patients reached" in ledger
    assert "Patient 3 — reached by phone" in ledger
    assert "Patient 5 — not reached yet (2 attempts, last by letter) · Spanish" in ledger
    assert "Patient 1 — not contacted yet" in ledger


@pytest.mark.parametrize(("line", "message"), [
    ("/mend reached Patient 99 by phone", "There is no Patient 99: the ledger has 14 patients"),
    ("/mend reached Patient 3 by pigeon", "`pigeon` is not a way to reach someone"),
    ("/mend reached Patient 3", "How were they reached?"),
    ("/mend reached Maria Lopez by phone", "Name people by pseudonym"),
    ("/mend attempt Patient 3", "Name the person and how you tried"),
    ("/mend language Patient 3 klingon", "Name the person and their language"),
    ("/mend affected 2 patients", "cannot go below"),
])
def test_ledger_errors_write_nothing(chat, core, line, message):
    open_recovery(chat)
    chat.say("/mend reached Patient 3 by phone")
    before = snapshot(core)
    assert message in chat.say(line)
    assert snapshot(core) == before


def test_draft_edit_approve_and_send_update_the_ledger(chat, core):
    open_recovery(chat)
    chat.say("/mend plan resubmit each renewal")
    chat.say("/mend deadline friday")
    chat.say("/mend draft patients")
    assert "someone other than its author" in chat.say("/mend approve patients")
    assert "needs an approval" in chat.say("/mend sent patients to all by letter")
    assert "Approved by sam" in chat.say("/mend approve patients", as_user="sam")
    sent = chat.say("/mend sent patients to Patient 1-5 by letter")
    assert "Marked sent to 5 patients: Patient 1, Patient 2, Patient 3, Patient 4, Patient 5" in sent
    assert "promised an update by Thu 26 Nov 2026" in sent
    with core.db.session() as s:
        people = s.scalars(select(AffectedPerson).where(AffectedPerson.number <= 6)
                           .order_by(AffectedPerson.number)).all()
        assert [(p.attempts, p.channel) for p in people[:5]] == [(1, "letter")] * 5
        assert people[0].next_update_on.isoformat() == "2026-11-26"
        assert people[5].attempts == 0
        assert s.scalars(select(Outreach)).one().sent_by == "dana"


def test_an_edited_draft_is_checked_for_every_element_and_needs_a_new_approval(chat):
    open_recovery(chat)
    chat.say("/mend draft patients")
    edited = chat.say("/mend edit patients Hi. Your renewal is late. Call us.")
    assert "⚠️ Missing: an apology; what happened, in plain words; what is being done to make it right; " \
           "the new realistic deadline; when the next update comes" in edited
    refused = chat.say("/mend approve patients", as_user="sam")
    assert "This draft is not ready" in refused and "Missing: an apology" in refused


def test_a_draft_above_grade_eight_is_flagged_and_not_approved(chat):
    open_recovery(chat)
    chat.say("/mend draft patients")
    dense = ("We sincerely apologise: notwithstanding considerable organisational deliberation, authorization "
             "documentation remained insufficiently reconciled, precipitating nonsubmission. What happened: "
             "administrative prioritization deficiencies. Remediation: what we are doing is comprehensive "
             "reconciliation. New date: Friday. Next update: Thursday. Contact: Dana.")
    edited = chat.say(f"/mend edit patients {dense}")
    assert "✓ Has every required element." in edited and "⚠️ Too hard to read: reading grade" in edited
    assert "Too hard to read" in chat.say("/mend approve patients", as_user="sam")


def test_spanish_drafts_for_patients_who_prefer_spanish(chat):
    open_recovery(chat)
    chat.say("/mend language Patient 2 spanish")
    chat.say("/mend deadline friday")
    english = chat.say("/mend draft patients")
    assert "1 of them prefer Spanish: `draft patients es`" in english
    spanish = chat.say("/mend draft patients es")
    assert "Lo sentimos." in spanish and "viernes 27 de noviembre de 2026" in spanish
    assert "✓ Has every required element." in spanish and "✓ reading ease" in spanish
    assert "There is no Spanish template for payers" in chat.say("/mend draft payers es")


def test_every_shipped_template_has_every_element():
    playbook = load_playbook()
    from bot.playbook import DEFAULT_PLAYBOOK, template_environment

    env = template_environment(DEFAULT_PLAYBOOK.parent)
    facts = dict(what="renewals", original_deadline="Fri 20 Nov 2026", new_deadline="Fri 27 Nov 2026",
                 explanation="dates lived in one calendar", impact=None, remedy=None, next_update="Thu 26 Nov 2026",
                 contact="Dana", count=3, count_text="3 patients", affected_summary="3 patients",
                 actions=["tracker"], open_actions=[], done_actions=[], wins=[])
    for name, audience in playbook.audiences.items():
        for lang, path in [("en", audience.template), *audience.translations.items()]:
            text = env.get_template(path).render(**facts)
            assert missing_elements(text, lang, playbook) == [], (name, lang)
            if audience.plain_language:
                assert reading_level(text, lang, playbook.reading_grade_max).ok, (name, lang)


def test_the_standup_and_status_show_ledger_counts(chat, clock):
    open_recovery(chat)
    chat.say("/mend reached Patient 1-9 by phone")
    chat.say("/mend deadline friday")
    chat.say("/mend draft patients")
    chat.say("/mend approve patients", as_user="sam")
    chat.say("/mend sent patients to Patient 1-2 by letter")
    clock.set(datetime(2026, 11, 25, 9, tzinfo=NY))
    standup = chat.say("/mend standup now")
    assert "9 of 14 patients reached; 2 updates due tomorrow" in standup
    assert "9 of 14 patients reached" in chat.say("/mend status")


async def test_the_lead_is_reminded_of_the_people_owed_an_update(chat, clock, scheduler, outbound):
    open_recovery(chat)
    chat.say("/mend draft patients")
    chat.say("/mend approve patients", as_user="sam")
    chat.say("/mend sent patients to Patient 4 by email")
    clock.set(datetime(2026, 11, 26, 10, tzinfo=NY))
    await scheduler.tick()
    [reminder] = outbound.sent
    assert reminder.to_user == "dana" and "1 people are owed it: Patient 4" in reminder.text


def test_wins_are_celebrated_with_counts(chat):
    open_recovery(chat)
    chat.say("/mend reached Patient 1-3 by phone")
    text = chat.say("/mend win three families called back")
    assert "That's 1 win on the way back; 3 of 14 patients reached" in text


def test_whoever_edited_a_draft_last_is_its_author_and_cannot_approve_it(chat, core):
    open_recovery(chat)
    chat.say("/mend deadline friday")
    chat.say("/mend draft patients")
    body = ("We are sorry. What happened: we missed the renewal date. What we are doing: we sent it again today. "
            "New date: Friday. Next update: Thursday. Questions? Contact Dana.")
    assert "An edit needs a new approval" in chat.say(f"/mend edit patients {body}", as_user="sam")
    assert "someone other than its author" in chat.say("/mend approve patients", as_user="sam")
    assert "Approved by dana" in chat.say("/mend approve patients")
    with core.db.session() as s:
        draft = s.scalars(select(Outreach)).one()
        assert (draft.drafted_by, draft.approved_by, draft.body) == ("sam", "dana", body)


def test_a_spanish_draft_is_checked_in_spanish():
    playbook = load_playbook()
    assert missing_elements("Lo sentimos. Qué pasó: olvidamos la fecha.", "es", playbook) == [
        "what is being done to make it right", "the new realistic deadline", "when the next update comes",
        "whom to contact"]
    dense = ("La documentación administrativa correspondiente permaneció insuficientemente conciliada, "
             "ocasionando consecuencias organizativas considerablemente desfavorables e imprevisibles.")
    assert not reading_level(dense, "es", playbook.reading_grade_max).ok


def test_the_promised_update_in_spanish_for_those_who_prefer_it(chat, core):
    open_recovery(chat)
    chat.say("/mend deadline friday")
    chat.say("/mend language Patient 2 spanish")
    chat.say("/mend action Add renewals to the tracker @sam due friday")
    english = chat.say("/mend update")
    assert "1 of the people affected prefer Spanish: `update es`" in english
    spanish = chat.say("/mend update es")
    assert "Esta es la actualización que le prometimos" in spanish
    assert "Seguimos en camino de terminar el viernes 27 de noviembre de 2026" in spanish
    assert "Próxima actualización: le volveremos a escribir el jueves 26 de noviembre de 2026" in spanish
    assert "✓ reading ease" in spanish and "translate them before sending" in spanish
    with core.db.session() as s:
        assert [(o.kind, o.language) for o in s.scalars(select(Outreach).order_by(Outreach.id))] == [
            ("update", "en"), ("update", "es")]


def test_sending_to_all_says_who_still_needs_a_draft_in_their_language(chat):
    open_recovery(chat)
    chat.say("/mend language Patient 2 spanish")
    chat.say("/mend draft patients")
    chat.say("/mend approve patients", as_user="sam")
    sent = chat.say("/mend sent patients all by letter")
    assert "Marked sent to 13 patients" in sent
    assert "Not sent to 1 who prefer another language (Patient 2): send them `draft patients es`." in sent
