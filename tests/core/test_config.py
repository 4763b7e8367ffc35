"""Configuration: every variable of the contract is read (from the environment or `.env`) and documented."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from pydantic import AliasChoices

from bot.cli import main
from bot.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"

# CONTRACT.md, "Configuration" (plus `PORT`, which `mend serve` also reads), with a value and where it lands.
CONTRACT = {
    "MEND_DATABASE_URL": ("postgresql+psycopg://mend@db/mend", "database_url"),
    "SLACK_BOT_TOKEN": ("xoxb-not-real", "slack_bot_token"),
    "SLACK_SIGNING_SECRET": ("not-a-real-secret", "slack_signing_secret"),
    "SLACK_APP_TOKEN": ("xapp-not-real", "slack_app_token"),
    "SLACK_API_URL": ("http://127.0.0.1:9/api/", "slack_api_url"),
    "MICROSOFT_APP_ID": ("00000000-1111-2222-3333-444444444444", "microsoft_app_id"),
    "MICROSOFT_APP_PASSWORD": ("not-a-real-password", "microsoft_app_password"),
    "MICROSOFT_APP_TENANT_ID": ("55555555-6666-7777-8888-999999999999", "microsoft_app_tenant_id"),
    "MICROSOFT_APP_TYPE": ("SingleTenant", "microsoft_app_type"),
    "MEND_TEAMS_EMULATOR": ("1", "teams_emulator"),
    "MEND_TIMEZONE": ("America/Chicago", "timezone"),
    "PORT": ("8080", "port"),
}


def _aliases() -> set[str]:
    """Every environment variable `Settings` reads."""
    names: set[str] = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        if isinstance(alias, str):
            names.add(alias)
        elif isinstance(alias, AliasChoices):
            names.update(str(choice) for choice in alias.choices)
    return names


def _readme_variables() -> set[str]:
    text = README.read_text(encoding="utf-8")
    table = text[text.index("## Configuration"):]
    table = table[: table.index("\n## ", 1)]
    return {name for row in table.splitlines() if row.startswith("| `")
            for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No inherited configuration and no `.env` but the one a test writes."""
    for name in _aliases():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_every_contract_variable_is_read_from_the_environment(clean_env, monkeypatch):
    for name, (value, _attribute) in CONTRACT.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    for name, (value, attribute) in CONTRACT.items():
        got = getattr(settings, attribute)
        got = got.get_secret_value() if hasattr(got, "get_secret_value") else got
        expected = {"teams_emulator": True, "port": 8080}.get(attribute, value)
        assert got == expected, name


def test_defaults_are_the_contracts(clean_env):
    settings = Settings()
    assert settings.database_url == "sqlite:///mend.db"
    assert settings.timezone == "UTC"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.slack_bot_token is None and not settings.slack_enabled
    assert not settings.teams_emulator and not settings.teams_credentials
    assert (settings.port, settings.tick_seconds, settings.lease_seconds) == (3000, 2.0, 120.0)


def test_a_dotenv_file_in_the_working_directory_is_read(clean_env):
    (clean_env / ".env").write_text("MEND_TIMEZONE=Europe/Paris\nMEND_LEASE_SECONDS=30\nMEND_TICK_SECONDS=0.5\n")
    settings = Settings()
    assert (settings.timezone, settings.lease_seconds, settings.tick_seconds) == ("Europe/Paris", 30.0, 0.5)


def test_the_readme_documents_exactly_the_variables_mend_reads():
    documented = _readme_variables()
    assert set(CONTRACT) <= documented
    assert documented == _aliases(), "README's configuration table and bot/config.py disagree"


@pytest.mark.parametrize(("name", "value", "message"), [
    ("MEND_LEASE_SECONDS", "0", "MEND_LEASE_SECONDS: Input should be greater than or equal to 1"),
    ("MEND_TICK_SECONDS", "often", "MEND_TICK_SECONDS: Input should be a valid number"),
    ("MEND_TIMEZONE", "Mars/Olympus", "MEND_TIMEZONE='Mars/Olympus' is not an IANA time zone"),
])
def test_a_bad_value_is_one_line_naming_the_variable(clean_env, monkeypatch, capsys, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as info:
        main(["db", "upgrade"])
    assert info.value.code == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"mend: configuration: {message}")


def test_demo_uses_the_database_url_from_dotenv(clean_env, capsys):
    database = clean_env / "demo-from-dotenv.db"
    (clean_env / ".env").write_text(f"MEND_DATABASE_URL=sqlite:///{database}\n")
    assert main(["demo"]) == 0
    assert "Demo finished" in capsys.readouterr().out
    with sqlite3.connect(database) as connection:
        assert connection.execute("select status from recoveries").fetchall() == [("closed",)]


def test_demo_without_a_database_url_leaves_no_file_behind(clean_env, capsys):
    assert main(["demo"]) == 0
    assert "Demo finished" in capsys.readouterr().out
    assert not list(clean_env.iterdir())
