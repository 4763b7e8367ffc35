"""Applying a Slack delivery once: redelivered events and second presses of one check-in message.

Slack redelivers an event when it thinks the first delivery failed (`X-Slack-Retry-Num`), and a person can
press a button twice before the message changes. Both are claimed first (`adapters.claims`); only the
first claim does the work.
"""

from __future__ import annotations

from adapters.claims import KEEP_FOR, claim, forget_old, release

__all__ = ["KEEP_FOR", "claim", "forget_old", "press_key", "release"]


def press_key(team: str, channel: str, message_ts: str) -> str:
    """One answer per check-in message."""
    return f"press:{team}:{channel}:{message_ts}"
