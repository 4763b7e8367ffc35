"""Fixtures for the Teams suite: the server in emulator mode, a connector double, a team of three."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import Core, build_core
from bot.clock import SimulatedClock
from bot.config import Settings
from bot.server import build_web_app
from tests.conftest import NEW_YORK
from tests.fakes.bot_connector import BotConnectorDouble
from tests.teams.teams_client import Member, TeamsClient

TEAM = [Member("Dana", NEW_YORK), Member("Sam", NEW_YORK), Member("Lee", "America/Chicago")]


def teams_settings(db_url: str, **overrides: Any) -> Settings:
    """Emulator mode, every Teams setting given explicitly so a developer's environment cannot leak in."""
    values: dict[str, Any] = dict(database_url=db_url, timezone=NEW_YORK, teams_emulator=True,
                                  microsoft_app_id=None, microsoft_app_password=None,
                                  microsoft_app_tenant_id=None, microsoft_app_type=None,
                                  slack_bot_token=None, tick_seconds=3600)
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
async def connector() -> AsyncIterator[BotConnectorDouble]:
    async with BotConnectorDouble() as double:
        yield double


@pytest.fixture
def teams_core(db_url: str, clock: SimulatedClock) -> Core:
    return build_core(teams_settings(db_url), clock)


@pytest.fixture
async def http(teams_core: Core) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(build_web_app(teams_core), host="127.0.0.1")) as client:
        yield client


@pytest.fixture
def teams(http: TestClient, connector: BotConnectorDouble, clock: SimulatedClock) -> TeamsClient:
    return TeamsClient(http, connector, TEAM, clock=clock)
