"""How dates and times read in Mend's messages: short, local, unambiguous."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def day(value: date) -> str:
    return f"{value:%a} {value.day} {value:%b %Y}"


def moment(value: datetime, tz: str) -> str:
    local = value.astimezone(ZoneInfo(tz))
    return f"{local:%a} {local.day} {local:%b %H:%M} {local.tzname()}"


def relative_due(due: date, today: date) -> str:
    delta = (due - today).days
    if delta < 0:
        return f"{day(due)} (overdue by {-delta} day{'s' if delta != -1 else ''})"
    if delta == 0:
        return f"{day(due)} (today)"
    if delta == 1:
        return f"{day(due)} (tomorrow)"
    return f"{day(due)} (in {delta} days)"


_ES_DAYS = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]
_ES_MONTHS = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
              "noviembre", "diciembre"]


def day_in(value: date, language: str) -> str:
    """A date as a person reading `language` expects it (English and Spanish)."""
    if language == "es":
        return f"{_ES_DAYS[value.weekday()]} {value.day} de {_ES_MONTHS[value.month - 1]} de {value.year}"
    return day(value)
