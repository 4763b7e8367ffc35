"""`mend serve` skeleton: /healthz reports the database and the scheduler; Teams answers 401 when off."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from bot.server import SCHEDULER, build_web_app


async def test_healthz_is_200_when_database_and_scheduler_run(core):
    app = build_web_app(core)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        response = await client.get("/healthz")
        body = await response.json()
        assert response.status == 200
        assert body["database"] == "ok" and body["scheduler"] == "running" and body["status"] == "ok"
        assert body["oldest_overdue_seconds"] is None


async def test_healthz_is_503_when_the_scheduler_stopped(core):
    app = build_web_app(core)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        await app[SCHEDULER].stop()
        response = await client.get("/healthz")
        assert response.status == 503
        assert (await response.json())["scheduler"] == "stopped"


async def test_healthz_is_503_when_the_database_does_not_answer(core, tmp_path):
    from sqlalchemy import create_engine

    app = build_web_app(core)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        working = core.db.engine
        core.db.engine = create_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'x.db'}")
        try:
            response = await client.get("/healthz")
        finally:
            core.db.engine = working
        assert response.status == 503
        assert (await response.json())["database"] == "unavailable"


async def test_teams_endpoint_is_401_without_credentials_or_emulator(core):
    app = build_web_app(core)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        response = await client.post("/api/messages", json={"type": "message", "text": "help"})
        assert response.status == 401
        assert "MICROSOFT_APP_ID" in (await response.json())["error"]
