"""Teams activity JSON → `Command`: mentions, threads, tenants, buttons, and whatever the compose box adds."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from adapters.teams.translate import (
    EMULATOR_TENANT,
    channel_of,
    command_text,
    tenant_of,
    to_command,
    user_mentions,
)
from bot.messages import Mention, Source
from bot.parsing import find_mentions

BOT = {"id": "28:bot", "name": "Mend"}
SAM = Mention("6f1c0b7e-0000-4000-8000-000000000001", "Sam Rivera")


def activity(text: str | None, *, mentions: list[tuple[str, dict[str, Any]]] | None = None,
             **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "message", "id": "1:1", "serviceUrl": "http://127.0.0.1:1/", "channelId": "msteams",
        "from": {"id": "29:dana", "name": "Dana", "aadObjectId": "aad-dana"},
        "conversation": {"id": "19:c@thread.tacv2;messageid=1:1", "conversationType": "channel",
                         "tenantId": "T-conv"},
        "recipient": BOT, "channelData": {"tenant": {"id": "T1"}},
        "entities": [{"type": "mention", "text": t, "mentioned": who} for t, who in mentions or []],
    }
    if text is not None:
        body["text"] = text
    body.update(extra)
    return body


def test_the_bots_own_mention_is_removed_wherever_it_is():
    assert command_text(activity("<at>Mend</at> status", mentions=[("<at>Mend</at>", BOT)]), {}) == "status"
    assert command_text(activity("status <at>Mend</at>", mentions=[("<at>Mend</at>", BOT)]), {}) == "status"
    renamed = activity("<at>Mend Bot</at>  help\n", mentions=[("<at>Mend Bot</at>", {"id": "28:bot"})])
    assert command_text(renamed, {}) == "help"


def test_a_persons_mention_becomes_the_owner_markup_the_core_reads():
    body = activity("<at>Mend</at> action Fix intake <at>Sam Rivera</at> due friday",
                    mentions=[("<at>Mend</at>", BOT),
                              ("<at>Sam Rivera</at>", {"id": "29:sam", "name": "Sam Rivera"})])
    command = to_command(body, "T1", {"29:sam": SAM})
    assert command is not None
    assert command.text == f"action Fix intake <@{SAM.user_id}|Sam Rivera> due friday"
    assert command.mentions == (SAM,)
    [found] = find_mentions(command.text)
    assert (found.user_id, found.name) == (SAM.user_id, "Sam Rivera")
    assert [m.id for m in user_mentions(body)] == ["29:sam"]


def test_two_people_with_the_same_name_stay_two_people():
    other = Mention("aad-other", "Sam")
    body = activity("<at>Sam</at> and <at>Sam</at>",
                    mentions=[("<at>Sam</at>", {"id": "29:a", "name": "Sam"}),
                              ("<at>Sam</at>", {"id": "29:b", "name": "Sam"})])
    text = command_text(body, {"29:a": Mention("aad-a", "Sam"), "29:b": other})
    assert text == "<@aad-a|Sam> and <@aad-other|Sam>"


def test_markup_typed_by_a_person_cannot_name_an_owner():
    text = command_text(activity("action x &lt;@29:victim|Victim&gt; due friday"), {})
    assert [m.user_id for m in find_mentions(text) if m.user_id.startswith("29:")] == []


def test_html_from_the_compose_box_is_undone():
    assert command_text(activity("<p><at>Mend</at>&nbsp;win the payer &amp; the family</p>",
                                 mentions=[("<at>Mend</at>", BOT)]), {}) == "win the payer & the family"
    assert command_text(activity("<div>edit patients</div><div>Hello,<br>we are sorry</div>"), {}) == \
        "edit patients\nHello,\nwe are sorry"


def test_a_leading_slash_mend_is_tolerated():
    assert command_text(activity("/mend status"), {}) == "status"
    assert command_text(activity("/mend"), {}) == ""
    assert command_text(activity("/mending"), {}) == "/mending"


def test_a_channel_thread_is_the_channel():
    assert channel_of(activity("x")) == "19:c@thread.tacv2"
    personal = activity("x", conversation={"id": "a:1personal", "conversationType": "personal"})
    assert channel_of(personal) == "a:1personal"


def test_the_tenant_comes_from_channel_data_then_the_conversation_then_the_emulator():
    assert tenant_of(activity("x"), emulator=False) == "T1"
    assert tenant_of(activity("x", channelData={}), emulator=False) == "T-conv"
    bare = activity("x", channelData={"tenant": "wrong type"}, conversation={"id": "a:1"})
    assert tenant_of(bare, emulator=True) == EMULATOR_TENANT
    assert tenant_of(bare, emulator=False) is None


def test_the_person_is_known_by_entra_id_with_name_and_zone():
    command = to_command(activity("status", localTimezone="America/Chicago"), "T1", {})
    assert command is not None
    assert (command.platform, command.tenant, command.channel) == ("teams", "T1", "19:c@thread.tacv2")
    assert (command.user, command.user_name, command.user_tz) == ("aad-dana", "Dana", "America/Chicago")
    assert command.scope == "teams:T1" and command.source == Source.TYPED
    body = activity("status", **{"from": {"id": "29:dana"}}, localTimezone="Not/AZone")
    no_aad = to_command(body, "T1", {})
    assert no_aad is not None and (no_aad.user, no_aad.user_tz) == ("29:dana", None)


def test_a_pressed_button_runs_its_command():
    command = to_command(activity(None, value={"mend": "checkin A3 done"}, replyToId="1:card"), "T1", {})
    assert command is not None
    assert (command.text, command.source) == ("checkin A3 done", Source.BUTTON)


def test_a_card_submission_that_is_not_mends_is_ignored():
    assert to_command(activity(None, value={"other": "form"}), "T1", {}) is None
    assert to_command(activity(None, value={"mend": "x" * 600}), "T1", {}) is None


_ACCOUNT = st.fixed_dictionaries({"id": st.text(max_size=12)},
                                 optional={"name": st.one_of(st.none(), st.text())})
_ENTITY = st.fixed_dictionaries({}, optional={"type": st.sampled_from(["mention", "clientInfo"]),
                                              "text": st.one_of(st.text(max_size=20), st.integers()),
                                              "mentioned": st.one_of(_ACCOUNT, st.text(), st.none())})


@given(text=st.text(max_size=300), entities=st.lists(_ENTITY, max_size=4),
       value=st.one_of(st.none(), st.dictionaries(st.text(max_size=5), st.text(max_size=20), max_size=2)))
def test_any_text_and_entities_translate_and_name_no_owner_teams_did_not_resolve(text, entities, value):
    body = activity(text, value=value)
    body["entities"] = entities
    command = to_command(body, "T1", {})  # nobody resolved: no `<@ID…>` owner may come out
    if command is not None and command.source == Source.TYPED:
        assert all(command.text[m.start] != "<" for m in find_mentions(command.text))
        assert command.text == command.text.strip()
