"""What `/api/messages` accepts: a JSON activity of the right shape, from someone allowed to send it.

Every refusal is a 4xx naming what was wrong; nothing a caller sends can make the endpoint answer 5xx.
The loopback rule lives here too: without credentials botbuilder trusts any activity and would post to any
`serviceUrl` it names, so emulator mode serves (and posts to) loopback addresses only.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from botbuilder.schema import Activity

MAX_ID = 300  # the store keeps conversation ids in 300 characters


class Refused(Exception):
    """A request Mend will not serve, with the status and a reason safe to show the caller."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason

    def response(self) -> web.Response:
        return web.json_response({"error": self.reason}, status=self.status)


def is_loopback(url: Any) -> bool:
    """Whether `url` is an http(s) URL on this machine: 127.0.0.0/8, ::1 or localhost."""
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return False
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def read_activity(request: web.Request) -> tuple[dict[str, Any], Activity]:
    """The activity in the request, as raw JSON and as botbuilder's `Activity`. Raises `Refused`."""
    if request.content_type != "application/json":
        raise Refused(415, "Content-Type must be application/json")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise Refused(413, "the activity is too large") from exc
    if not raw.strip():
        raise Refused(400, "the body is empty; a Bot Framework activity was expected")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refused(400, "the body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise Refused(400, "an activity is a JSON object")
    problem = shape_problem(body)
    if problem:
        raise Refused(400, problem)
    try:
        activity = Activity().deserialize(body)
    except Exception as exc:  # msrest raises several kinds for values of the wrong type
        raise Refused(400, "the body is not a Bot Framework activity") from exc
    return body, activity


def shape_problem(body: dict[str, Any]) -> str | None:
    """What is wrong with the fields Mend relies on, or None."""
    if not isinstance(body.get("type"), str) or not body["type"] or len(body["type"]) > 64:
        return "`type` must be a non-empty string"
    service_url = body.get("serviceUrl")
    if not isinstance(service_url, str) or _scheme(service_url) not in ("http", "https"):
        return "`serviceUrl` must be an http(s) URL"
    for field in ("conversation", "from", "recipient"):
        account = body.get(field)
        if not isinstance(account, dict):
            return f"`{field}` must be an object"
        if not isinstance(account.get("id"), str) or not account["id"] or len(account["id"]) > 1000:
            return f"`{field}.id` must be a non-empty string"
    if len(body["conversation"]["id"].split(";", 1)[0]) > MAX_ID:
        return "`conversation.id` is too long"
    for field, kind, name in (("text", str, "a string"), ("id", str, "a string"),
                              ("replyToId", str, "a string"), ("localTimezone", str, "a string"),
                              ("entities", list, "a list"), ("attachments", list, "a list"),
                              ("channelData", dict, "an object"), ("membersAdded", list, "a list")):
        if body.get(field) is not None and not isinstance(body[field], kind):
            return f"`{field}` must be {name}"
    if any(not isinstance(entity, dict) for entity in body.get("entities") or []):
        return "every entity must be an object"
    return None


def _scheme(url: str) -> str:
    try:
        return urlsplit(url).scheme
    except ValueError:
        return ""
