"""The affected-people ledger: people counted and followed by pseudonym (`Patient 3`), never by name."""

from __future__ import annotations

import re
from datetime import date, timedelta

from bot.errors import UserError
from bot.playbook import Playbook
from bot.store.models import AffectedGroup, AffectedPerson, Recovery

CHANNELS = {"phone": "phone", "call": "phone", "letter": "letter", "mail": "letter", "email": "email",
            "e-mail": "email", "portal": "portal", "in-person": "in person", "in person": "in person",
            "visit": "in person", "text": "text message", "sms": "text message"}
LANGUAGES = {"en": "en", "english": "en", "es": "es", "spanish": "es", "español": "es", "espanol": "es"}
_PEOPLE = re.compile(r"\b(?P<word>[A-Za-z]+)\s*(?P<first>\d{1,5})(?:\s*-\s*(?P<last>\d{1,5}))?\b")


def pseudonym_audiences(playbook: Playbook) -> dict[str, str]:
    """`patient` -> `patients`, for every audience that has a pseudonym."""
    return {a.pseudonym.lower(): name for name, a in playbook.audiences.items() if a.pseudonym}


def pseudonym(person: AffectedPerson, playbook: Playbook) -> str:
    label = playbook.audiences[person.audience].pseudonym if person.audience in playbook.audiences else None
    return f"{label or person.audience.title()} {person.number}"


def set_affected(recovery: Recovery, audience: str, count: int, playbook: Playbook) -> None:
    """Set how many people of an audience are affected, keeping one ledger row per person."""
    group = next((g for g in recovery.affected if g.audience == audience), None)
    if group is None:
        recovery.affected.append(AffectedGroup(audience=audience, count=count))
    else:
        group.count = count
    if not playbook.audiences.get(audience) or not playbook.audiences[audience].pseudonym:
        return
    people = [p for p in recovery.people if p.audience == audience]
    beyond = [p for p in people if p.number > count]
    contacted = [p for p in beyond if p.attempts or p.reached]
    if contacted:
        names = ", ".join(pseudonym(p, playbook) for p in contacted[:5])
        raise UserError(f"{names} already has contact recorded, so the count cannot go below {max(p.number for p in contacted)}.")
    for person in beyond:
        recovery.people.remove(person)
    have = {p.number for p in people}
    for number in range(1, count + 1):
        if number not in have:
            recovery.people.append(AffectedPerson(audience=audience, number=number, language="en", attempts=0,
                                                  reached=False))


def select_people(recovery: Recovery, text: str, playbook: Playbook, form: str) -> list[AffectedPerson]:
    """`Patient 3`, `Patient 1-5, Family 2`, or `all patients`: the ledger rows named."""
    text = text.strip()
    words = text.lower().split()
    if len(words) == 2 and words[0] == "all":
        everyone = [p for p in recovery.people if p.audience == words[1]]
        if not everyone:
            raise UserError(f"No {words[1][:20]} are in the ledger yet. Count them: `affected 14 patients`.", form)
        return everyone
    audiences = pseudonym_audiences(playbook)
    chosen: list[AffectedPerson] = []
    matches = list(_PEOPLE.finditer(text))
    if not matches:
        raise UserError(f"Name people by pseudonym, such as `Patient 3` or `Patient 1-5`; I read `{text[:40]}`.", form)
    for match in matches:
        audience = audiences.get(match["word"].lower())
        if audience is None:
            raise UserError(f"`{match['word'][:20]}` is not a pseudonym. Use " +
                            ", ".join(f"{w.title()} N" for w in audiences) + ".", form)
        first = int(match["first"])
        last = int(match["last"] or first)
        if last < first or last - first > 10_000:
            raise UserError(f"`{match.group(0)}` is not a range I can use.", form)
        for number in range(first, last + 1):
            person = next((p for p in recovery.people if p.audience == audience and p.number == number), None)
            if person is None:
                count = sum(1 for p in recovery.people if p.audience == audience)
                raise UserError(f"There is no {match['word'].title()} {number}: the ledger has {count} {audience}.", form)
            if person not in chosen:
                chosen.append(person)
    return chosen


def summary_lines(recovery: Recovery, today: date) -> list[str]:
    """Counts for status and standups: "9 of 14 patients reached; 2 updates due tomorrow"."""
    lines = []
    for group in recovery.affected:
        people = [p for p in recovery.people if p.audience == group.audience]
        if not people:
            continue
        reached = sum(1 for p in people if p.reached)
        parts = [f"{reached} of {len(people)} {group.audience} reached"]
        overdue = sum(1 for p in people if p.next_update_on and p.next_update_on < today)
        due_today = sum(1 for p in people if p.next_update_on == today)
        due_tomorrow = sum(1 for p in people if p.next_update_on == today + timedelta(days=1))
        if overdue:
            parts.append(f"{overdue} update{'s' if overdue != 1 else ''} overdue")
        if due_today:
            parts.append(f"{due_today} update{'s' if due_today != 1 else ''} due today")
        if due_tomorrow:
            parts.append(f"{due_tomorrow} update{'s' if due_tomorrow != 1 else ''} due tomorrow")
        lines.append("; ".join(parts))
    return lines


def owed_updates(recovery: Recovery, today: date, playbook: Playbook) -> list[str]:
    """Pseudonyms of the people whose promised update date has come."""
    return [pseudonym(p, playbook) for p in recovery.people if p.next_update_on and p.next_update_on <= today]
