"""The Slack app manifest (``manifest.json``): what a deployer pastes into "Create an app > From a manifest".

Limits are Slack's, from the app manifest reference (docs.slack.dev/reference/app-manifest): slash command
at most 32 characters, its description at most 2,000 and its usage hint at most 1,000; the app's name at
most 35 and its short description at most 140. The scopes and events are pinned exactly, because every
extra scope is one more thing a workspace admin must approve and one more kind of data Mend could read.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUEST_PATH = "/slack/events"
BOT_SCOPES = {"app_mentions:read", "chat:write", "commands", "users:read", "im:write"}
CONTRACT_COMMANDS = {
    "help", "miss", "status", "draft", "action", "checkin", "standup",
    "update", "win", "feedback", "retro", "close", "report",
}  # fmt: skip


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return json.loads((ROOT / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def mend(manifest: dict[str, Any]) -> dict[str, Any]:
    commands = manifest["features"]["slash_commands"]
    assert [c["command"] for c in commands] == ["/mend"]
    return commands[0]


def test_slash_command_escapes_mentions_and_channels(mend: dict[str, Any]) -> None:
    # With escaping on, Slack sends <@U123|name> and <#C123|name>, which is how Mend recognises an @OWNER.
    assert mend["should_escape"] is True


def test_one_request_url_serves_commands_events_and_interactivity(
    manifest: dict[str, Any], mend: dict[str, Any]
) -> None:
    settings = manifest["settings"]
    urls = [
        mend["url"],
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    ]
    for url in urls:
        assert url.startswith("https://") and url.endswith(REQUEST_PATH), url
    assert len(set(urls)) == 1, "the contract promises one Request URL for all three"
    assert settings["interactivity"]["is_enabled"] is True


def test_events_are_exactly_the_ones_mend_handles(manifest: dict[str, Any]) -> None:
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert sorted(events) == ["app_home_opened", "app_mention"]
    assert "user_events" not in manifest["settings"]["event_subscriptions"]


def test_bot_scopes_are_exactly_the_five_mend_uses(manifest: dict[str, Any]) -> None:
    scopes = manifest["oauth_config"]["scopes"]
    assert len(scopes["bot"]) == len(set(scopes["bot"])) == 5
    assert set(scopes["bot"]) == BOT_SCOPES
    assert set(scopes) == {"bot"}, "Mend asks for no user scopes"


def test_texts_are_within_slacks_limits(manifest: dict[str, Any], mend: dict[str, Any]) -> None:
    info = manifest["display_information"]
    assert info["name"] == "Mend" and len(info["name"]) <= 35
    assert 0 < len(info["description"]) <= 140
    assert re.fullmatch(r"#(?:[0-9a-fA-F]{3}){1,2}", info["background_color"])
    assert mend["command"].startswith("/") and len(mend["command"]) <= 32
    assert 0 < len(mend["description"]) <= 2000
    assert 0 < len(mend["usage_hint"]) <= 1000


def test_usage_hint_shows_real_commands(mend: dict[str, Any]) -> None:
    hint = mend["usage_hint"]
    assert hint.startswith("help | miss WHAT | status | action TITLE @OWNER due DATE")
    words = [part.split()[0] for part in hint.split("|") if part.strip() and part.split()[0] != "..."]
    assert words and set(words) <= CONTRACT_COMMANDS


def test_bot_user_app_home_and_settings(manifest: dict[str, Any]) -> None:
    features = manifest["features"]
    assert features["bot_user"] == {"display_name": "Mend", "always_online": True}
    assert features["app_home"] == {
        "home_tab_enabled": True,
        "messages_tab_enabled": True,
        "messages_tab_read_only_enabled": False,
    }
    settings = manifest["settings"]
    assert settings["org_deploy_enabled"] is False
    assert settings["socket_mode_enabled"] is False
    assert settings["token_rotation_enabled"] is False


def test_setup_guide_covers_what_the_manifest_leaves_to_the_deployer() -> None:
    guide = (ROOT / "docs" / "SLACK_SETUP.md").read_text(encoding="utf-8")
    for needed in (
        "manifest.json",
        "YOUR-HOST",
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
    ):
        assert needed in guide, needed
