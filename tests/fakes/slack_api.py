"""A Slack Web API double on 127.0.0.1: records every call and answers the way Slack does.

Point `SLACK_API_URL` (or `AsyncWebClient(base_url=...)`) at `double.api_url`. Each call is recorded with its
method name, its parameters (query string, form or JSON, with `blocks`/`view` decoded) and its
Authorization header. A test can slow a method down (`delay`), script Slack errors and 429s with
Retry-After (`fail`, `rate_limit`), read a message as it now stands after `chat.update` (`message`), and
receive `response_url` posts (`response_url()`). Modelled on bolt-python's tests/mock_web_api_server.

    async with SlackApiDouble() as slack:
        slack.add_user("U1", "dana", tz="America/New_York")
        slack.rate_limit("chat.postMessage", retry_after=7)
        ...
        [call] = await slack.wait_for("chat.postMessage")

Other test folders can use the `slack_api_double` fixture by importing it into their conftest.py.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiohttp import web

_JSON_PARAMS = ("blocks", "view", "attachments", "metadata")


@dataclass
class Call:
    """One request the double received."""

    method: str  # "chat.postMessage", or "response_url" for posts to a response URL
    params: dict[str, Any]
    auth: str | None
    at: float = field(default_factory=time.monotonic)
    path: str = ""

    @property
    def text(self) -> str:
        """Everything a person would read in this call: the fallback text and every block's text."""
        parts = [str(self.params.get("text", ""))]
        parts += _texts(self.params.get("blocks") or [])
        view = self.params.get("view")
        if isinstance(view, dict):
            parts += _texts(view.get("blocks") or [])
        return "\n".join(p for p in parts if p)


def _texts(node: Any) -> list[str]:
    if isinstance(node, list):
        return [t for item in node for t in _texts(item)]
    if isinstance(node, dict):
        found = [node["text"]] if isinstance(node.get("text"), str) else []
        for key, value in node.items():
            if key != "text" or not isinstance(value, str):
                found += _texts(value)
        return found
    return []


@dataclass
class _Scripted:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


class SlackApiDouble:
    def __init__(self, *, team_id: str = "T1", bot_user_id: str = "UBOT", bot_id: str = "BBOT",
                 token: str | None = None) -> None:
        self.team_id, self.bot_user_id, self.bot_id = team_id, bot_user_id, bot_id
        self.token = token  # when set, calls with another bearer token answer invalid_auth
        self.calls: list[Call] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.delay: dict[str, float] = {}  # seconds per method; "*" for every method
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}  # (channel, ts) → the message as it stands
        self._scripts: dict[str, list[_Scripted]] = defaultdict(list)
        self._ts = itertools.count(1)
        self._views = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    # --- life cycle -------------------------------------------------------------------------------
    async def start(self) -> SlackApiDouble:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{key}", self._response_url)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackApiDouble:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_url(self) -> str:
        """The Web API base URL, with the trailing slash slack_sdk expects."""
        return self.url + "api/"

    def response_url(self, key: str = "cmd") -> str:
        return f"{self.url}response/{key}"

    # --- set-up -----------------------------------------------------------------------------------
    def add_user(self, user_id: str, name: str, *, tz: str = "America/New_York", real_name: str | None = None,
                 team_id: str | None = None) -> None:
        self.users[user_id] = {
            "id": user_id, "team_id": team_id or self.team_id, "name": name.lower(), "real_name": real_name or name,
            "tz": tz, "tz_label": tz, "is_bot": False,
            "profile": {"display_name": name, "real_name": real_name or name},
        }

    def fail(self, method: str, error: str, *, times: int = 1, status: int = 200) -> None:
        """The next `times` calls of `method` answer `{"ok": false, "error": error}`."""
        for _ in range(times):
            self._scripts[method].append(_Scripted(status, {"ok": False, "error": error}, {}))

    def rate_limit(self, method: str, *, retry_after: int = 1, times: int = 1) -> None:
        """The next `times` calls of `method` answer HTTP 429 with `Retry-After`, as Slack does."""
        for _ in range(times):
            self._scripts[method].append(
                _Scripted(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}))

    # --- reading what happened ----------------------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        return self.messages[(channel, ts)]

    async def wait_for(self, method: str, count: int = 1, *, timeout: float = 5.0,
                       where: Callable[[Call], bool] | None = None) -> list[Call]:
        """Wait until `count` matching calls were recorded (the app acks first and calls Slack after)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [c for c in self.calls_to(method) if where is None or where(c)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                seen = [(c.method, c.text[:80]) for c in self.calls]
                raise AssertionError(f"expected {count} call(s) to {method}, got {len(found)}; calls: {seen}")
            await asyncio.sleep(0.01)

    async def settle(self, quiet: float = 0.15, timeout: float = 5.0) -> None:
        """Wait until no call arrived for `quiet` seconds: the app finished what it does after an ack."""
        deadline = time.monotonic() + timeout
        seen = -1
        while time.monotonic() < deadline:
            if len(self.calls) == seen:
                return
            seen = len(self.calls)
            await asyncio.sleep(quiet)

    # --- the server -------------------------------------------------------------------------------
    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        raw = await request.text()
        if raw:
            if request.content_type == "application/json":
                params.update(json.loads(raw))
            else:
                params.update(dict(parse_qsl(raw, keep_blank_values=True)))
        for key in _JSON_PARAMS:
            if isinstance(params.get(key), str) and params[key][:1] in "[{":
                params[key] = json.loads(params[key])
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        call = Call(method, await self._params(request), request.headers.get("Authorization"), path=request.path)
        self.calls.append(call)
        delay = self.delay.get(method, self.delay.get("*", 0.0))
        if delay:
            await asyncio.sleep(delay)
        if self._scripts.get(method):
            scripted = self._scripts[method].pop(0)
            return web.json_response(scripted.body, status=scripted.status, headers=scripted.headers)
        if not (call.auth or "").startswith("Bearer ") or (self.token and call.auth != f"Bearer {self.token}"):
            return web.json_response({"ok": False, "error": "not_authed" if not call.auth else "invalid_auth"})
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        body = handler(call.params) if handler else {"ok": False, "error": "unknown_method"}
        return web.json_response(body)

    async def _response_url(self, request: web.Request) -> web.Response:
        raw = await request.text()
        params = json.loads(raw) if raw.startswith("{") else dict(parse_qsl(raw))
        self.calls.append(Call("response_url", params, request.headers.get("Authorization"), path=request.path))
        return web.Response(text="ok")

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    # --- methods --------------------------------------------------------------------------------------
    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "mend",
                "team_id": self.team_id, "user_id": self.bot_user_id, "bot_id": self.bot_id}

    def _dm(self, channel: str) -> str:
        return "D" + channel[1:] if channel[:1] in ("U", "W") else channel

    def _chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("text") and not params.get("blocks"):
            return {"ok": False, "error": "no_text"}
        channel, ts = self._dm(channel), self._next_ts()
        message = {"text": params.get("text", ""), "blocks": params.get("blocks") or [], "ts": ts}
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel") or not params.get("user"):
            return {"ok": False, "error": "channel_not_found" if not params.get("channel") else "user_not_found"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (str(params.get("channel")), str(params.get("ts")))
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        self.messages[key] = {"text": params.get("text", ""), "blocks": params.get("blocks") or [], "ts": key[1]}
        return {"ok": True, "channel": key[0], "ts": key[1], "text": params.get("text", "")}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(params.get("user")))
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        number = next(self._views)
        return {"ok": True, "view": {"id": f"V{number:04d}", "hash": f"1700000000.{number:08d}",
                                     **(params.get("view") or {})}}

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        number = next(self._views)
        return {"ok": True, "view": {"id": f"V{number:04d}", "hash": f"1700000000.{number:08d}",
                                     **(params.get("view") or {})}}

    _views_update = _views_publish

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = str(params.get("users", ""))
        return {"ok": True, "channel": {"id": self._dm(users.split(",")[0])}}


@pytest.fixture
async def slack_api_double() -> AsyncIterator[SlackApiDouble]:
    """A started double with the default team (T1) and bot (UBOT); `from tests.fakes.slack_api import
    slack_api_double` in a conftest.py makes it available there."""
    async with SlackApiDouble() as double:
        yield double
