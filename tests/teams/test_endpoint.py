"""/api/messages: who may talk to it, and that nothing a caller sends makes it answer 5xx."""

from __future__ import annotations

import logging

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import build_core
from bot.server import ADAPTERS, build_web_app
from bot.store.models import ConversationRef, Recovery
from tests.teams.conftest import TEAM, teams_settings
from tests.teams.teams_client import TeamsClient

APP_ID = "00000000-1111-2222-3333-444444444444"


async def _client(db_url, clock, **settings):
    core = build_core(teams_settings(db_url, **settings), clock)
    return core, TestClient(TestServer(build_web_app(core), host="127.0.0.1"))


async def test_without_credentials_and_without_emulator_mode_the_endpoint_is_401(db_url, clock, connector):
    core, http = await _client(db_url, clock, teams_emulator=False)
    async with http:
        teams = TeamsClient(http, connector, TEAM, clock=clock)
        status, posted = await teams.post(teams.activity("Dana", "miss something"))
    assert status == 401 and posted == []
    with core.db.session() as s:
        assert s.scalars(select(Recovery)).all() == []


@pytest.mark.parametrize("service_url", [
    "https://smba.trafficmanager.net/amer/", "http://10.0.0.8:3978/", "http://127.0.0.1.evil.example/",
    "http://127.0.0.1@evil.example/", "http://localhost.evil.example/", "ftp://127.0.0.1/",
])
async def test_emulator_mode_refuses_a_service_url_off_loopback_and_posts_nothing(teams, teams_core,
                                                                                  service_url):
    teams.service_url = service_url
    status, posted = await teams.post(teams.activity("Dana", "miss something"))
    assert status in (400, 401, 403) and posted == []
    with teams_core.db.session() as s:
        assert s.scalars(select(Recovery)).all() == [] and s.scalars(select(ConversationRef)).all() == []


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "localhost", "[::1]"])
async def test_emulator_mode_serves_every_loopback_address(teams, host):
    port = teams.connector.service_url.rsplit(":", 1)[1]
    teams.service_url = f"http://{host}:{port}"
    status, _posted = await teams.post(teams.activity("Dana", "help"))
    assert status == 200


async def test_with_credentials_a_missing_or_malformed_token_is_401(db_url, clock, connector):
    core, http = await _client(db_url, clock, teams_emulator=False, microsoft_app_id=APP_ID,
                               microsoft_app_password="not-a-real-secret", microsoft_app_type="MultiTenant")
    async with http:
        teams = TeamsClient(http, connector, TEAM, clock=clock)
        for headers in ({}, {"Authorization": "Bearer not.a.token"}, {"Authorization": "Bearer"},
                        {"Authorization": "Basic Zm9vOmJhcg=="}):
            status, posted = await teams.post(teams.activity("Dana", "miss something"), headers=headers)
            assert status == 401 and posted == []
    with core.db.session() as s:
        assert s.scalars(select(Recovery)).all() == []


async def test_credentials_turn_emulator_mode_off(db_url, clock, connector):
    _core, http = await _client(db_url, clock, teams_emulator=True, microsoft_app_id=APP_ID,
                                microsoft_app_password="not-a-real-secret")
    async with http:
        teams = TeamsClient(http, connector, TEAM, clock=clock)
        status, posted = await teams.post(teams.activity("Dana", "help"))
    assert status == 401 and posted == []


@pytest.mark.parametrize(("data", "headers", "expected"), [
    (b"{not json", {"Content-Type": "application/json"}, 400),
    (b"", {"Content-Type": "application/json"}, 400),
    (b"   ", {"Content-Type": "application/json"}, 400),
    (b'["a", "list"]', {"Content-Type": "application/json"}, 400),
    (b"null", {"Content-Type": "application/json"}, 400),
    (b"\xff\xfe\x00garbage", {"Content-Type": "application/json"}, 400),
    (b'{"text": "' + b"x" * 1_100_000 + b'"}', {"Content-Type": "application/json"}, 413),
    (b'{"type": "message"}', {}, 415),
    (b'{"type": "message"}', {"Content-Type": "text/plain"}, 415),
    (b'{"type": "message"}', {"Content-Type": "application/x-www-form-urlencoded"}, 415),
])
async def test_malformed_requests_are_4xx(http, connector, data, headers, expected):
    response = await http.post("/api/messages", data=data, headers=headers)
    assert response.status == expected
    assert "error" in await response.json()
    assert connector.posted == []


@pytest.mark.parametrize("change", [
    {"type": 5}, {"type": ""}, {"type": None}, {"serviceUrl": 42}, {"serviceUrl": "not a url"},
    {"serviceUrl": "http://[::1"}, {"conversation": "19:x"}, {"conversation": {"id": 7}}, {"from": None},
    {"from": {"name": "no id"}}, {"recipient": []}, {"text": {"nested": True}}, {"entities": "mention"},
    {"entities": [1, 2]}, {"channelData": ["tenant"]}, {"localTimezone": 3}, {"replyToId": 9},
    {"conversation": {"id": "19:" + "x" * 400}}, {"timestamp": "not a time"}, {"attachments": {"a": 1}},
])
async def test_activities_with_wrong_types_are_400_and_never_500(teams, teams_core, change):
    body = {**teams.activity("Dana", "miss something"), **change}
    status, posted = await teams.post(body)
    assert status == 400 and posted == []
    with teams_core.db.session() as s:
        assert s.scalars(select(Recovery)).all() == []


@pytest.mark.parametrize("change", [
    {"entities": [{"type": "mention"}, {"type": "mention", "mentioned": "x", "text": 3}, {}]},
    {"value": "just a string"}, {"value": {"mend": 42}}, {"channelData": {"tenant": "not an object"}},
    {"localTimezone": "Mars/Olympus_Mons"}, {"text": "\u0000\u0007 control"}, {"text": "x" * 20_000},
    {"from": {"id": "29:x", "name": {"first": "Dana"}, "aadObjectId": 5}},
])
async def test_odd_but_well_typed_activities_get_a_reply_and_never_500(teams, change):
    status, posted = await teams.post({**teams.activity("Dana", "help"), **change})
    assert status == 200
    assert len(posted) == 1  # an answer (help, or what was wrong), never silence or a stack trace
    assert "Traceback" not in posted[0].text


async def test_an_unreachable_service_url_is_a_logged_delivery_failure_not_a_500(teams, teams_core, caplog):
    teams.service_url = "http://127.0.0.1:9/"  # the discard port: nothing listens there
    with caplog.at_level(logging.WARNING, logger="adapters.teams"):
        status, posted = await teams.post(teams.activity("Dana", "miss prior-auth renewals"))
    assert status == 200 and posted == []
    assert any("delivery failed" in r.getMessage() and "could not be reached" in r.getMessage()
               for r in caplog.records)
    with teams_core.db.session() as s:  # the command itself was handled
        assert s.scalars(select(Recovery.what)).one() == "prior-auth renewals"


async def test_a_connector_error_is_logged_and_the_next_reply_still_goes_out(teams, connector, caplog):
    connector.fail(500, times=1)
    with caplog.at_level(logging.WARNING, logger="adapters.teams"):
        status, posted = await teams.post(teams.activity("Dana", "miss renewals for 14 patients"))
    assert status == 200
    assert any("HTTP 500" in r.getMessage() for r in caplog.records)
    assert posted and "progress" in posted[0].text  # the first reply failed; the second was delivered


async def test_no_tenant_outside_the_emulator_is_answered_not_stored(teams, teams_core):
    body = teams.activity("Dana", "help", conversation="a:1webchat", conversation_type="personal")
    del body["channelData"]
    del body["conversation"]["tenantId"]
    status, posted = await teams.post(body)
    assert status == 200
    # emulator mode: a chat without a tenant (as the Bot Framework Emulator sends) is the "emulator" tenant
    assert "Mend commands" in posted[0].text
    with teams_core.db.session() as s:
        assert s.scalars(select(ConversationRef.scope)).one() == "teams:emulator"


async def test_other_activity_types_are_acknowledged(teams, connector):
    for kind in ("typing", "messageReaction", "installationUpdate", "event"):
        status, posted = await teams.post({**teams.activity("Dana", None), "type": kind})
        assert status == 200 and posted == []
    invoke = {**teams.activity("Dana", None), "type": "invoke", "name": "task/fetch"}
    status, _posted = await teams.post(invoke)
    assert status == 200


async def test_adding_mend_to_a_team_says_hello_and_keeps_the_reference(teams, teams_core, connector):
    body = {**teams.activity("Dana", None), "type": "conversationUpdate",
            "membersAdded": [{"id": "28:bot"}], "conversation": {"id": "19:new@thread.tacv2",
                                                                  "conversationType": "channel"}}
    status, posted = await teams.post(body)
    assert status == 200
    assert "Hello from Mend" in posted[0].text and "@Mend help" in posted[0].text
    with teams_core.db.session() as s:
        assert s.scalars(select(ConversationRef.channel)).one() == "19:new@thread.tacv2"


async def test_outside_emulator_mode_a_message_without_tenant_is_answered_and_nothing_is_kept(
        teams, teams_core, http):
    """Azure's "Test in Web Chat" sends no tenant: Mend says it works in Teams and keeps no data for it."""
    [adapter] = http.app[ADAPTERS]
    adapter.turns.emulator = False  # authenticated mode's tenant rule; the double needs no token
    body = teams.activity("Dana", "miss something", conversation="webchat-1", conversation_type="personal")
    body["channelId"] = "webchat"
    del body["channelData"]
    del body["conversation"]["tenantId"]
    status, [answer] = await teams.post(body)
    assert status == 200 and "Mend works in Microsoft Teams" in answer.text
    with teams_core.db.session() as s:
        assert s.scalars(select(Recovery)).all() == [] and s.scalars(select(ConversationRef)).all() == []
