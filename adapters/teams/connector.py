"""Calls to the Bot Framework connector: one attempt each, and every failure as a `DeliveryError`.

botbuilder's connector client (msrest over `requests`, in a worker thread) retries connection errors and
5xx three times with back-off, and sleeps out a 503's Retry-After itself. For Mend that is wrong twice: a
reply to a person should fail fast (an unreachable serviceUrl held a request for five seconds), and the
scheduler already retries reminders at the time the connector asks for. So each client is tuned to a single
attempt with a timeout, and statuses come back as they are, to be mapped here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from botbuilder.core import TurnContext
from msrest.exceptions import ClientRequestError, HttpOperationError

from bot.outbound import DeliveryError

TIMEOUT_SECONDS = 15
RETRYABLE = frozenset({408, 429, 500, 502, 503, 504})
PERMANENT = frozenset({400, 403, 404, 410, 413})  # 403/404: the bot was removed, or the conversation is gone


def connector_of(context: TurnContext) -> Any:
    """The turn's connector client, tuned to one attempt."""
    client = context.turn_state[context.adapter.BOT_CONNECTOR_CLIENT_KEY]
    tune(client)
    return client


def tune(client: Any) -> None:
    # The session msrest uses was built with this very Retry object, so it is changed in place.
    policy = client.config.retry_policy.policy
    policy.total = policy.connect = policy.read = policy.status = policy.redirect = 0
    policy.status_forcelist = frozenset()
    policy.raise_on_status = False
    client.config.connection.timeout = TIMEOUT_SECONDS


def status_of(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None) if isinstance(exc, HttpOperationError) else None
    return getattr(response, "status_code", None)


def delivery_error(exc: BaseException, what: str) -> DeliveryError:
    """The `DeliveryError` for a failed connector call: when to retry, or that retrying cannot help."""
    if isinstance(exc, DeliveryError):
        return exc
    status = status_of(exc)
    if status is not None:
        headers = getattr(getattr(exc, "response", None), "headers", None) or {}
        wait = retry_after(headers.get("Retry-After"))
        if status == 429 and wait is None:
            wait = 5.0
        return DeliveryError(f"Teams {what}: HTTP {status}",
                             retry_after=wait if status in RETRYABLE else None, permanent=status in PERMANENT)
    if isinstance(exc, ClientRequestError):
        return DeliveryError(f"Teams {what}: the connector could not be reached ({_cause(exc)})")
    return DeliveryError(f"Teams {what}: {type(exc).__name__}")


def retry_after(value: Any) -> float | None:
    """Retry-After in seconds: a number, or an HTTP date."""
    if not value:
        return None
    text = str(value).strip()
    try:
        return max(1.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(1.0, (when - datetime.now(UTC)).total_seconds())


def _cause(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("ConnectionError", "ReadTimeout", "ConnectTimeout", "SSLError"):
        if marker in text:
            return marker
    return type(exc).__name__
