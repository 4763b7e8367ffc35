"""The one way anything leaves Mend on its own initiative (reminders, standups, notices).

Each adapter supplies an `Outbound`; the scheduler hands it replies whose `channel` or `to_user` is set.
"""

from __future__ import annotations

from typing import Protocol

from bot.messages import Reply


class DeliveryError(Exception):
    """A send failed. `retry_after` (seconds) is set when the platform asked us to wait and retry."""

    def __init__(self, message: str, retry_after: float | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class Outbound(Protocol):
    async def send(self, tenant: str, reply: Reply) -> str | None:
        """Post `reply`; return the platform's message id when it has one. Raise `DeliveryError` on failure."""
        ...
