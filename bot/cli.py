"""The `mend` command line: demo, chat, serve, db upgrade, playbook check, teams-package."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

if TYPE_CHECKING:
    from bot.config import Settings


def _settings():  # type: ignore[no-untyped-def]
    from bot.config import Settings

    try:
        return Settings()
    except ValidationError as exc:
        for error in exc.errors():
            variable = ".".join(str(part) for part in error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            shown = message if variable.lower() in message.lower() or not variable else f"{variable}: {message}"
            print(f"mend: configuration: {shown}", file=sys.stderr)
        raise SystemExit(2) from exc


def cmd_demo(args: argparse.Namespace) -> int:
    from adapters.console.demo import run_demo

    settings = _settings()  # MEND_DATABASE_URL from the environment or .env; else a temporary SQLite file
    return run_demo(database_url=settings.database_url if "database_url" in settings.model_fields_set else None)


def cmd_chat(args: argparse.Namespace) -> int:
    from adapters.console.interactive import run_chat

    return run_chat(_settings(), channel=args.channel, speaker=args.user)


def _adapter_configuration_errors(settings: Settings) -> tuple[type[Exception], ...]:
    """The errors an adapter raises when its settings are incomplete; imported only for adapters that are on."""
    errors: list[type[Exception]] = []
    if settings.slack_enabled:
        from adapters.slack.adapter import SlackConfigurationError

        errors.append(SlackConfigurationError)
    if settings.teams_credentials or settings.teams_emulator:
        from adapters.teams.adapter import TeamsConfigurationError

        errors.append(TeamsConfigurationError)
    return tuple(errors)


def cmd_serve(args: argparse.Namespace) -> int:
    from bot.server import run_server

    settings = _settings()
    port = args.port if args.port is not None else settings.port
    try:
        return run_server(settings, host=args.host, port=port)
    except _adapter_configuration_errors(settings) as exc:
        print(f"mend: configuration: {exc}", file=sys.stderr)
        return 2


def cmd_db(args: argparse.Namespace) -> int:
    from bot.store.db import Database

    db = Database(_settings().database_url)
    db.upgrade()
    print("Database is up to date.")
    return 0


def cmd_playbook_check(args: argparse.Namespace) -> int:
    from bot.playbook import PlaybookError, load_playbook

    try:
        playbook = load_playbook(args.file)
    except PlaybookError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    print(f"{args.file}: OK — {playbook.name}, {len(playbook.steps)} steps, {len(playbook.audiences)} audiences")
    return 0


def cmd_teams_package(args: argparse.Namespace) -> int:
    from adapters.teams.package import build_package

    settings = _settings()
    out = build_package(settings.microsoft_app_id or "", Path(args.out))
    print(f"Wrote {out}. Upload it in Teams: Apps → Manage your apps → Upload an app.")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="mend", description="Mend: recover from a missed deadline, together.")
    sub = root.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="the scripted walk-through on the console").set_defaults(func=cmd_demo)
    chat = sub.add_parser("chat", help="an interactive console channel")
    chat.add_argument("--channel", default="#general")
    chat.add_argument("--user", default="you")
    chat.set_defaults(func=cmd_chat)
    serve = sub.add_parser("serve", help="the HTTP server for Slack and Teams")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=None)
    serve.set_defaults(func=cmd_serve)
    db = sub.add_parser("db", help="database tasks")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply the migrations").set_defaults(func=cmd_db)
    playbook = sub.add_parser("playbook", help="playbook tasks")
    pb_sub = playbook.add_subparsers(dest="playbook_command", required=True)
    check = pb_sub.add_parser("check", help="validate a playbook file")
    check.add_argument("file")
    check.set_defaults(func=cmd_playbook_check)
    package = sub.add_parser("teams-package", help="write the Teams app package")
    package.add_argument("--out", default="mend-teams.zip")
    package.set_defaults(func=cmd_teams_package)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from bot.app import configure_logging

    configure_logging(logging.INFO if args.command == "serve" else logging.WARNING)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
