"""Checking outreach before it goes out: the required elements, and a reading level people can follow."""

from __future__ import annotations

from dataclasses import dataclass

from textstat.textstat import textstatistics  # type: ignore[import-untyped]

from bot.playbook import Playbook

SPANISH_EASE_MIN = 60.0  # Fernandez-Huerta "normal" band and easier, roughly grade 8 and below


@dataclass(frozen=True)
class Reading:
    score: float
    ok: bool
    label: str


def missing_elements(text: str, language: str, playbook: Playbook) -> list[str]:
    """The labels of required elements that no phrase of the text's language shows."""
    lowered = text.lower()
    missing = []
    for element in playbook.outreach_elements.values():
        phrases = element.phrases.get(language) or element.phrases.get("en", [])
        if not any(phrase.lower() in lowered for phrase in phrases):
            missing.append(element.label)
    return missing


def reading_level(text: str, language: str, grade_max: float) -> Reading:
    """Flesch-Kincaid grade for English; Fernandez-Huerta reading ease for Spanish (FK misreads Spanish)."""
    stats = textstatistics()
    if language == "es":
        stats.set_lang("es_ES")
        ease = float(stats.fernandez_huerta(text))
        ok = ease >= SPANISH_EASE_MIN
        return Reading(ease, ok, f"reading ease {ease:.0f} (Fernández-Huerta; aim for {SPANISH_EASE_MIN:.0f} or more)")
    stats.set_lang("en_US")
    grade = float(stats.flesch_kincaid_grade(text))
    return Reading(grade, grade <= grade_max, f"reading grade {grade:.1f} (aim for {grade_max:g} or below)")


def review(text: str, language: str, playbook: Playbook, plain_language: bool) -> tuple[list[str], Reading | None]:
    missing = missing_elements(text, language, playbook)
    reading = reading_level(text, language, playbook.reading_grade_max) if plain_language else None
    return missing, reading


def review_note(missing: list[str] | None, reading: Reading | None) -> str:
    """One line shown beside a draft: what is missing (None: not checked) and how hard it reads."""
    parts = []
    if missing:
        parts.append("⚠️ Missing: " + "; ".join(missing) + ".")
    elif missing is not None:
        parts.append("✓ Has every required element.")
    if reading is not None:
        parts.append(("✓ " if reading.ok else "⚠️ Too hard to read: ") + reading.label + ".")
    return " ".join(parts)
