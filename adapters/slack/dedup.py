"""Applying a Slack delivery once: redelivered events and second presses of one check-in message.

Slack redelivers an event when it thinks the first delivery failed (`X-Slack-Retry-Num`), and a person can
press a button twice before the message (or the Home tab) changes. Both are claimed first (`adapters.claims`); only the
first claim does the work.
"""

from __future__ import annotations

from adapters.claims import KEEP_FOR, claim, forget_old, release

__all__ = ["KEEP_FOR", "claim", "forget_old", "home_press_key", "press_key", "release"]


def press_key(team: str, channel: str, message_ts: str) -> str:
    """One answer per check-in message."""
    return f"press:{team}:{channel}:{message_ts}"


def home_press_key(team: str, user: str, view_state: str, words: str) -> str:
    """One answer per action on one published Home tab: the tab is published again after a press, with a
    new hash, so only a second press on the old tab (a double click) finds its claim taken."""
    action = words.split()[1] if len(words.split()) > 1 else words
    return f"home:{team}:{user}:{view_state}:{action.upper()}"
