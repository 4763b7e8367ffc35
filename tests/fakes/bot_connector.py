"""A Bot Framework connector double on 127.0.0.1: records what the bot posts and answers like the connector.

Activities name their `serviceUrl`; point it at `double.service_url` and every reply, proactive message and
update the bot makes lands here:

    POST /v3/conversations/{id}/activities               a new message (proactive, or a channel post)
    POST /v3/conversations/{id}/activities/{replyToId}   a reply to an activity
    PUT  /v3/conversations/{id}/activities/{activityId}  an update in place (a card whose button was pressed)
    GET  /v3/conversations/{id}/members/{memberId}       one member (registered with `add_member`), else 404

Each request is recorded as a `Posted` with the decoded conversation id, the activity and its Authorization
header, and is answered `{"id": "..."}` as the connector does. A test can slow every answer down (`delay`),
script failures (`fail`: any status, optionally with Retry-After, for a number of requests), read a message
as it now stands after updates (`message`), and wait for what it expects (`wait_for`).

    async with BotConnectorDouble() as connector:
        connector.fail(429, retry_after=7)
        ...
        [posted] = await connector.wait_for(lambda p: p.kind == "send")
        assert "Check-in: A1" in posted.text
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

SEND, REPLY, UPDATE = "send", "reply", "update"


@dataclass
class Posted:
    """One activity the bot sent (or one update it made)."""

    kind: str  # "send", "reply" or "update"
    conversation_id: str
    activity: dict[str, Any]
    auth: str | None
    id: str  # the id the connector gave the activity (the updated activity's id for an update)
    reply_to_id: str | None = None
    at: float = field(default_factory=time.monotonic)

    @property
    def cards(self) -> list[dict[str, Any]]:
        """The Adaptive Cards attached to the activity."""
        return [a.get("content") or {} for a in self.activity.get("attachments") or []
                if a.get("contentType") == "application/vnd.microsoft.card.adaptive"]

    @property
    def text(self) -> str:
        """Everything a person reads in this message: its text, then every card's visible text, in order."""
        parts = [str(self.activity.get("text") or "")]
        for card in self.cards:
            parts += card_texts(card.get("body") or [])
            parts += [str(a.get("title", "")) for a in card.get("actions") or []]
        return "\n".join(p for p in parts if p)

    @property
    def buttons(self) -> list[str]:
        """The command each card button runs (the `mend` value of every Action.Submit)."""
        found = []
        for card in self.cards:
            found += [str((a.get("data") or {}).get("mend")) for a in _actions(card)]
        return found

    @property
    def mentions(self) -> list[dict[str, Any]]:
        return [e for e in self.activity.get("entities") or [] if e.get("type") == "mention"]


def card_texts(node: Any) -> list[str]:
    """The visible text of Adaptive Card elements: TextBlocks, facts (`Title: value`), nested containers."""
    if isinstance(node, list):
        return [t for item in node for t in card_texts(item)]
    if not isinstance(node, dict):
        return []
    if node.get("type") == "TextBlock":
        return [str(node.get("text", ""))]
    if node.get("type") == "FactSet":
        return [f"{f.get('title', '')}: {f.get('value', '')}" for f in node.get("facts") or []]
    found: list[str] = []
    for key in ("items", "columns", "body"):
        found += card_texts(node.get(key) or [])
    return found


def _actions(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [a for item in node for a in _actions(item)]
    if not isinstance(node, dict):
        return []
    if node.get("type") == "Action.Submit":
        return [node]
    found: list[dict[str, Any]] = []
    for key in ("body", "actions", "items", "columns"):
        found += _actions(node.get(key) or [])
    return found


@dataclass
class _Scripted:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    kinds: tuple[str, ...]


class BotConnectorDouble:
    def __init__(self) -> None:
        self.posted: list[Posted] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, failed ones too
        self.delay = 0.0  # seconds before each answer
        self.members: dict[str, dict[str, Any]] = {}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}  # (conversation, id) → activity now
        self._scripts: list[_Scripted] = []
        self._ids = itertools.count(1_700_000_000_001)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.service_url = ""

    # --- life cycle -------------------------------------------------------------------------------
    async def start(self) -> BotConnectorDouble:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._reply)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._update)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.service_url = f"http://127.0.0.1:{port}/"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotConnectorDouble:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- set-up -----------------------------------------------------------------------------------
    def add_member(self, member_id: str, name: str, aad_object_id: str | None = None, **extra: Any) -> None:
        """A person the members API knows (Teams answers with the 29: id, the name and the AAD object id)."""
        self.members[member_id] = {"id": member_id, "name": name, "aadObjectId": aad_object_id, **extra}

    def fail(self, status: int, *, retry_after: float | None = None, times: int = 1,
             kinds: tuple[str, ...] = (SEND, REPLY, UPDATE), body: dict[str, Any] | None = None) -> None:
        """Answer the next `times` matching requests with `status` (and a Retry-After header when given)."""
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        error = body or {"error": {"code": "ScriptedFailure", "message": f"scripted {status}"}}
        for _ in range(times):
            self._scripts.append(_Scripted(status, headers, error, kinds))

    # --- reading ----------------------------------------------------------------------------------
    def of_kind(self, kind: str) -> list[Posted]:
        return [p for p in self.posted if p.kind == kind]

    def message(self, conversation_id: str, activity_id: str) -> dict[str, Any] | None:
        """The activity as it stands now (after any updates)."""
        return self.messages.get((conversation_id.split(";")[0], activity_id))

    async def wait_for(self, predicate: Callable[[Posted], bool] = lambda p: True, *, count: int = 1,
                       timeout: float = 5.0) -> list[Posted]:
        """The first `count` recorded activities matching `predicate`, waiting for them to arrive."""
        async with self._changed:
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: len([p for p in self.posted if predicate(p)]) >= count),
                    timeout,
                )
            except TimeoutError:
                found = [p.text[:200] for p in self.posted]
                raise AssertionError(f"expected {count} matching activities within {timeout}s; "
                                     f"got {found}") from None
            return [p for p in self.posted if predicate(p)][:count]

    def clear(self) -> None:
        self.posted.clear()
        self.requests.clear()

    # --- handlers ---------------------------------------------------------------------------------
    async def _send(self, request: web.Request) -> web.Response:
        return await self._record(request, SEND)

    async def _reply(self, request: web.Request) -> web.Response:
        return await self._record(request, REPLY)

    async def _update(self, request: web.Request) -> web.Response:
        return await self._record(request, UPDATE)

    async def _member(self, request: web.Request) -> web.Response:
        self.requests.append((request.method, request.path))
        member = self.members.get(request.match_info["member"])
        if member is None:
            return web.json_response({"error": {"code": "MemberNotFoundInConversation",
                                                "message": "The member was not found"}}, status=404)
        return web.json_response(member)

    async def _record(self, request: web.Request, kind: str) -> web.Response:
        self.requests.append((request.method, request.path))
        if self.delay:
            await asyncio.sleep(self.delay)
        scripted = next((s for s in self._scripts if kind in s.kinds), None)
        if scripted is not None:
            self._scripts.remove(scripted)
            return web.json_response(scripted.body, status=scripted.status, headers=scripted.headers)
        try:
            activity = json.loads(await request.text())
        except ValueError:
            return web.json_response({"error": {"code": "BadArgument", "message": "not JSON"}}, status=400)
        conversation = request.match_info["conversation"]
        target = request.match_info.get("activity")
        activity_id = target if kind == UPDATE and target else str(next(self._ids))
        posted = Posted(kind=kind, conversation_id=conversation, activity=activity,
                        auth=request.headers.get("Authorization"), id=activity_id,
                        reply_to_id=target if kind == REPLY else None)
        base = conversation.split(";")[0]
        self.messages[(base, activity_id)] = activity
        async with self._changed:
            self.posted.append(posted)
            self._changed.notify_all()
        return web.json_response({"id": activity_id}, status=200 if kind == UPDATE else 201)
