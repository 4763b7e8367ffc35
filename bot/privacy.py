"""The PHI guard: mask patient identifiers before any text is stored or posted.

Channels are not the place for a patient's identity (CONTRACT.md, "Protected health information"). All
free text passes through `mask_phi`; the author is told privately, via `describe_findings`, what was
masked and why. The detectors (`bot.phi_detectors`) find candidate spans; here overlapping ones merge so
no fragment of an identifier survives beside its placeholder, and masking repeats until nothing changes.
Precompiled regex plus one `phonenumbers` pass keep a 2,000-character message at a few milliseconds
(about 2 ms clean, 6 ms when dense with identifiers).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bot.phi_detectors import (
    KINDS,
    PHONE_CORE,
    PLACEHOLDER,
    PRIORITY,
    PROTECTED,
    Span,
    digits,
    phone_spans,
    rule_spans,
)


@dataclass(frozen=True)
class Finding:
    """One masked span, described in human words; never carries the identifier itself."""

    kind: str
    reason: str


@dataclass(frozen=True)
class Masked:
    """The masked text plus one `Finding` per masked span, in reading order."""

    text: str
    findings: tuple[Finding, ...]

    @property
    def changed(self) -> bool:
        return bool(self.findings)


def _merge(spans: list[Span]) -> list[Span]:
    """Union overlapping spans so no fragment leaks; the highest-priority kind names the union."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, s.rank)):
        last = merged[-1] if merged else None
        if last is not None and span.start < last.end:
            best = last if last.rank <= span.rank else span
            merged[-1] = Span(last.start, max(last.end, span.end), best.kind, best.reason, best.weak)
        else:
            merged.append(span)
    return merged


def _phone_outside(phone: Span, strong: list[Span], text: str) -> Span | None:
    """The part of a phone match outside stronger spans, if it still holds a phone's worth of digits.

    libphonenumber happily reads "Patient 3 123-45-6789" as one number; the SSN is masked on its own,
    and the stray "3" must not be swallowed with it.
    """
    pieces = [(phone.start, phone.end)]
    for other in (o for o in strong if phone.start < o.end and o.start < phone.end):
        pieces = [
            (a, b) for s, e in pieces for a, b in ((s, min(e, other.start)), (max(s, other.end), e)) if a < b
        ]
    best = max(pieces, key=lambda p: digits(text[p[0] : p[1]]), default=None)
    if best is None or digits(text[best[0] : best[1]]) < 7:
        return None
    inner = PHONE_CORE.search(text, best[0], best[1])
    return None if inner is None else Span(inner.start(), inner.end(), phone.kind, phone.reason)


def _spans(text: str) -> list[Span]:
    """One pass of every detector over `text`, merged into disjoint spans in reading order."""
    # Hide earlier placeholders' words ('DOB' in '[DOB]') so they never act as cues.
    scan = PLACEHOLDER.sub(lambda m: "[" + " " * (len(m.group()) - 2) + "]", text)
    protected = [m.span() for m in PROTECTED.finditer(scan)]
    candidates = [
        span
        for detect in (rule_spans, phone_spans)
        for span in detect(scan)
        if span.end > span.start
        and not any(start <= span.start and span.end <= end for start, end in protected)
    ]
    strong = [span for span in candidates if span.rank < (False, PRIORITY["phone number"])]
    candidates = [
        trimmed
        for span in candidates
        if (trimmed := _phone_outside(span, strong, scan) if span.kind == "phone number" else span)
    ]
    return _merge(candidates)


_MAX_PASSES = 4
_Mark = tuple[int, int, Finding]  # a placeholder's position in the masked text and what it hides


def _replace(text: str, spans: list[Span], marks: list[_Mark]) -> tuple[str, list[_Mark]]:
    """Put placeholders over `spans`, keeping earlier placeholders (and their order) that none covers."""
    edits = [(s.start, s.end, KINDS[s.kind][0], Finding(s.kind, s.reason)) for s in spans]
    edits += [
        (start, end, text[start:end], finding)
        for start, end, finding in marks
        if not any(s.start < end and start < s.end for s in spans)
    ]
    pieces: list[str] = []
    placed: list[_Mark] = []
    cursor = length = 0
    for start, end, replacement, finding in sorted(edits, key=lambda edit: edit[0]):
        pieces += [text[cursor:start], replacement]
        length += start - cursor
        placed.append((length, length + len(replacement), finding))
        length += len(replacement)
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces), placed


def mask_phi(text: str) -> Masked:
    """Replace every identifier-looking span with a bracketed placeholder such as `[phone]`.

    Masking repeats until a pass finds nothing new: a placeholder changes its neighbours' context
    (libphonenumber in particular reads digits differently next to it), and the guarantee that
    masking twice equals masking once is what lets every layer call this without coordination.
    """
    masked, marks = text, list[_Mark]()
    for _ in range(_MAX_PASSES):
        spans = _spans(masked)
        if not spans:
            break
        masked, marks = _replace(masked, spans, marks)
    return Masked(masked, tuple(finding for _, _, finding in marks))


_COUNTS = {1: "a", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine"}


def _counted(kind: str, count: int) -> str:
    if count == 1:
        return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"
    return f"{_COUNTS.get(count, str(count))} {KINDS[kind][1] if kind in KINDS else kind + 's'}"


def describe_findings(findings: Sequence[Finding]) -> str:
    """A short, kind, private notice for the author; empty when nothing was masked."""
    parts = [_counted(kind, count) for kind, count in Counter(f.kind for f in findings).items()]
    if not parts:
        return ""
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return (
        f"I masked {listed} before saving this, because channels are not the place for a patient's "
        "identity. Keep identifiers in your records system."
    )
