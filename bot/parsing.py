"""Reading what people type: words, dates, times, zones, cadences and mentions.

Every function either returns a value or raises `UserError` with the right form, so no bad input
reaches the store.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from bot.errors import UserError

MAX_TEXT = 1_000  # characters of free text kept per field
MAX_COMMAND = 3_000

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_WEEKDAY_ALIASES = {d[:3]: i for i, d in enumerate(WEEKDAYS)} | {d: i for i, d in enumerate(WEEKDAYS)}
_WEEKDAY_ALIASES |= {"tues": 1, "wednes": 2, "thur": 3, "thurs": 3}

DATE_FORM = "YYYY-MM-DD, today, tomorrow, a weekday name, or in N days"
CADENCE_FORM = "daily at 09:00 [TZ] | weekdays at 09:00 [TZ] | weekly on monday at 09:00 [TZ] | at 15:00 [TZ]"

MENTION = re.compile(r"<@(?P<id>[A-Za-z0-9_:.\-]+)(?:\|(?P<name>[^>]{1,80}))?>|(?<![\w<])@(?P<plain>[A-Za-z][\w.\-]{0,79})")
_TEMPLATE_SYNTAX = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")


def check_text(text: str, *, limit: int = MAX_COMMAND, form: str | None = None) -> str:
    """Refuse text Mend should not keep: too long, control characters, template syntax.

    `form` is the right way to write the command, shown with the error (the contract asks every error to)."""
    if len(text) > limit:
        raise UserError(
            f"That is {len(text):,} characters long; Mend keeps at most {limit:,}. Please shorten it.", form
        )
    for ch in text:
        if ch not in "\n\t" and unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co"):
            raise UserError(
                f"That text contains an invisible control character (U+{ord(ch):04X}). Please retype it as plain text.",
                form,
            )
    if _TEMPLATE_SYNTAX.search(text):
        raise UserError("Template markers such as `{{`, `{%` or `{#` are not accepted. Please write it as plain text.",
                        form)
    return text


def free_text(text: str, what: str, form: str) -> str:
    """A required piece of free text: trimmed, checked, non-empty."""
    text = " ".join(text.split())
    if not text:
        raise UserError(f"Please add {what}.", form)
    return check_text(text, limit=MAX_TEXT, form=form)


def split_word(text: str) -> tuple[str, str]:
    text = text.strip()
    if not text:
        return "", ""
    head, _, rest = text.partition(" ")
    return head.lower(), rest.strip()


def zone(name: str, form: str | None = None) -> ZoneInfo:
    """An IANA zone or UTC; anything else is a clear error."""
    if name.upper() == "UTC":
        return ZoneInfo("UTC")
    try:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}", name):
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UserError(
            f"I don't know the time zone `{name[:60]}`. Use an IANA name such as America/New_York, or UTC.", form
        ) from exc


def parse_date(text: str, today: date, *, allow_past: bool = False, form: str = DATE_FORM) -> date:
    """DATE as the contract lists it, resolved against `today` (already in the person's zone)."""
    words = text.strip().lower().split()
    result: date | None = None
    if len(words) == 1:
        word = words[0]
        if word == "today":
            result = today
        elif word == "tomorrow":
            result = today + timedelta(days=1)
        elif word in _WEEKDAY_ALIASES:
            ahead = (_WEEKDAY_ALIASES[word] - today.weekday()) % 7 or 7
            result = today + timedelta(days=ahead)
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", word):
            try:
                result = date.fromisoformat(word)
            except ValueError as exc:
                raise UserError(f"`{word}` is not a real date.", form) from exc
    elif len(words) == 3 and words[0] == "in" and words[1].isdigit() and words[2] in ("day", "days"):
        days = int(words[1])
        if days > 3650:
            raise UserError("That is more than ten years away. Please pick a nearer date.", form)
        result = today + timedelta(days=days)
    elif len(words) == 3 and words[0] == "in" and words[1].isdigit() and words[2] in ("week", "weeks"):
        result = today + timedelta(weeks=min(int(words[1]), 520))
    if result is None:
        shown = text.strip()[:40] or "(nothing)"
        raise UserError(f"I could not read `{shown}` as a date. Use {DATE_FORM}.", form)
    if not allow_past and result < today:
        raise UserError(f"{result.isoformat()} is in the past. Please pick today or a later date.", form)
    return result


def parse_time(text: str, form: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise UserError(f"`{text[:20]}` is not a time. Use 24-hour HH:MM, such as 09:00 or 16:30.", form)
    return int(match[1]), int(match[2])


@dataclass(frozen=True)
class Cadence:
    """When something recurs, in a named zone, so that DST never moves it."""

    kind: str  # daily, weekdays, weekly, once
    hour: int
    minute: int
    tz: str
    weekday: int | None = None  # 0 = Monday, for weekly
    on: date | None = None  # for once: the local date

    def describe(self) -> str:
        at = f"at {self.hour:02d}:{self.minute:02d} {self.tz}"
        if self.kind == "weekly":
            return f"weekly on {WEEKDAYS[self.weekday or 0]} {at}"
        if self.kind == "once":
            return f"once on {self.on.isoformat() if self.on else ''} {at}".replace("  ", " ")
        return f"{self.kind} {at}"

    def next_after(self, moment: datetime) -> datetime | None:
        """The first occurrence strictly after `moment` (UTC), computed in the local zone."""
        tzinfo = ZoneInfo(self.tz)
        if self.kind == "once":
            if self.on is None:
                return None
            local = datetime(self.on.year, self.on.month, self.on.day, self.hour, self.minute, tzinfo=tzinfo)
            return local if local > moment else None
        day_of_week = {"daily": "*", "weekdays": "mon-fri", "weekly": WEEKDAYS[self.weekday or 0][:3]}[self.kind]
        trigger = CronTrigger(day_of_week=day_of_week, hour=self.hour, minute=self.minute, timezone=tzinfo)
        return trigger.get_next_fire_time(None, moment + timedelta(microseconds=1))


def parse_cadence(text: str, default_tz: str, now: datetime, form: str = CADENCE_FORM) -> Cadence:
    """`daily at HH:MM [TZ]`, `weekdays at …`, `weekly on DAY at …`, `at HH:MM [TZ]` (once)."""
    words = text.strip().split()
    lowered = [w.lower() for w in words]
    weekday = None
    if lowered[:2] in (["daily", "at"], ["weekdays", "at"]):
        kind, rest = lowered[0], words[2:]
    elif len(lowered) >= 4 and lowered[0] == "weekly" and lowered[1] == "on" and lowered[3] == "at":
        if lowered[2] not in _WEEKDAY_ALIASES:
            raise UserError(f"`{words[2][:20]}` is not a day of the week.", form)
        kind, weekday, rest = "weekly", _WEEKDAY_ALIASES[lowered[2]], words[4:]
    elif lowered[:1] == ["at"]:
        kind, rest = "once", words[1:]
    else:
        raise UserError(f"I could not read `{text.strip()[:60]}` as a schedule.", form)
    if not rest or len(rest) > 2:
        raise UserError("Please give one time, and optionally a time zone.", form)
    hour, minute = parse_time(rest[0], form)
    tz = zone(rest[1], form).key if len(rest) == 2 else default_tz
    cadence = Cadence(kind=kind, hour=hour, minute=minute, tz=tz, weekday=weekday)
    if kind == "once":
        local_now = now.astimezone(ZoneInfo(tz))
        on = local_now.date()
        if (hour, minute) <= (local_now.hour, local_now.minute):
            on += timedelta(days=1)
        cadence = Cadence(kind="once", hour=hour, minute=minute, tz=tz, on=on)
    return cadence


def cadence_from_text(stored: str) -> Cadence:
    """Rebuild a cadence from its stored description (`Cadence.describe`)."""
    words = stored.split()
    if words[0] == "once":
        on = date.fromisoformat(words[2])
        hour, minute = (int(x) for x in words[4].split(":"))
        return Cadence("once", hour, minute, words[5], on=on)
    if words[0] == "weekly":
        hour, minute = (int(x) for x in words[4].split(":"))
        return Cadence("weekly", hour, minute, words[5], weekday=WEEKDAYS.index(words[2]))
    hour, minute = (int(x) for x in words[2].split(":"))
    return Cadence(words[0], hour, minute, words[3])


@dataclass(frozen=True)
class OwnerToken:
    user_id: str
    name: str | None
    start: int
    end: int
    plain: bool = False  # typed as `@name`, not a platform mention (the console's way of naming people)


def find_mentions(text: str) -> list[OwnerToken]:
    found = []
    for match in MENTION.finditer(text):
        if match["id"]:
            found.append(OwnerToken(match["id"], match["name"], match.start(), match.end()))
        else:
            found.append(OwnerToken(match["plain"], match["plain"], match.start(), match.end(), plain=True))
    return found
