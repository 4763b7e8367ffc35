"""The PHI guard: mask patient identifiers before any text is stored or posted.

Channels are not the place for a patient's identity (CONTRACT.md, "Protected health information"). All
free text passes through `mask_phi`; the author is told privately, via `describe_findings`, what was
masked and why. Rules find candidate spans; overlapping ones merge so no fragment of an identifier
survives beside its placeholder. Precompiled regex plus one `phonenumbers` pass keep a 2,000-character
message at a few milliseconds (about 2 ms clean, 6 ms when dense with identifiers).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from phonenumbers import Leniency, PhoneNumberMatcher


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


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    kind: str
    reason: str
    weak: bool = False  # a guess without context yields to any cue-backed span it overlaps

    @property
    def rank(self) -> tuple[bool, int]:
        return self.weak, _PRIORITY[self.kind]


# kind -> (placeholder, plural); the order is also the priority when candidates overlap.
_KINDS: dict[str, tuple[str, str]] = {
    "Social Security number": ("[SSN]", "Social Security numbers"),
    "email address": ("[email]", "email addresses"),
    "date of birth": ("[DOB]", "dates of birth"),
    "medical record number": ("[MRN]", "medical record numbers"),
    "member ID": ("[member ID]", "member IDs"),
    "claim number": ("[claim #]", "claim numbers"),
    "phone number": ("[phone]", "phone numbers"),
    "street address": ("[address]", "street addresses"),
    "name": ("[name]", "names"),
}
_PRIORITY = {kind: rank for rank, kind in enumerate(_KINDS)}
_PLACEHOLDER = re.compile("|".join(re.escape(placeholder) for placeholder, _ in _KINDS.values()))

# Never identifiers: Slack mentions/channels/specials, money, percentages (a match wholly inside is dropped).
_PROTECTED = re.compile(r"<[@#!][^<>\n]{0,120}>|\$\s?[0-9][0-9,]*(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?\s?%")

_STOP = r"(?:(?:[:#=]|no\.?|num(?:ber)?|is|was|id|of)[\s:#=.]*)"  # filler between a cue and its value
_ID = r"(?<![\w\[\]/.-])[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?![\w\[\]/@]|\.[0-9]|-[0-9A-Za-z])"
_N = r"(?:\s+(?:id|\#|number|no\.?))"  # optional "ID", "#", "number" after a cue word
_CONTEXT_CUES = {
    "medical record number": rf"MRN|MR\#|(?:medical\s+)?record{_N}?|chart{_N}?|patient{_N}|acc(?:oun)?t{_N}?",
    "member ID": rf"(?:member|subscriber|policy|medicaid|medicare){_N}?|(?:insurance|group|plan){_N}|MBI",
    "claim number": rf"(?:claim|(?:prior\s+)?auth(?:orization)?|reference|case|appeal){_N}?|PA\s+\#|ref\b",
}
_CONTEXT = [
    (kind, re.compile(rf"(?<![\w\[\]])(?P<cue>(?i:{cues}))(?![A-Za-z])[\s:#=.]*{_STOP}*(?P<id>{_ID})"))
    for kind, cues in _CONTEXT_CUES.items()
]
_DATE_OR_TIME = re.compile(  # deadlines and times: never phone numbers or record IDs
    r"(?<![0-9])(?:[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}|[0-9]{1,2}[-/][0-9]{1,2}[-/][0-9]{2,4}"
    r"|[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)(?![0-9])"
)
_GLUED_HEAD = re.compile(r"\w*[^\w+(]*")
_PHONE_SHAPE = re.compile(
    r"(?<![\w\[\]+@/.-])(?:(?:\+1[\s.-]?|1[\s.-])?(?:\([0-9]{3}\)\s?|[0-9]{3}[\s.-]?)[0-9]{3}[\s.-]?|[0-9]{3}[.-])"
    r"[0-9]{4}(?:\s*(?:x|ext\.?)\s*[0-9]{1,5})?(?![0-9\[\]]|[.-][0-9])"
    r"|(?<![\w\[\]+])\+[0-9]{1,3}(?:[\s.-]?\(?[0-9]{1,4}\)?){2,5}(?![\w\[\]])"
)
_DIGIT_RUN = re.compile(r"[0-9](?:[0-9\s().+/-]*[0-9])?")
_PHONE_CORE = re.compile(r"[+(0-9].*[0-9)]", re.S)
_SSN_SHAPE = re.compile(r"(?<![\w\[\]-])[0-9]{3}-[0-9]{2}-[0-9]{4}(?![\w\[\]]|-[0-9])")
_SSN_CUE = re.compile(
    r"(?<![\w\[\]])(?P<cue>(?i:SSN|SS\#|social\s+security(?:\s+(?:number|no\.?|\#))?|social))(?![A-Za-z])"
    r"(?P<fill>[\s:#,(-]*(?:(?i:is|was|no\.?|number|ending(?:\s+in)?|last\s+(?:4|four)(?:\s+digits)?"
    r"(?:\s+(?:is|are))?)[\s:#,(-]*){0,3})"
    r"(?<![0-9])(?P<id>[0-9]{3}[\s-]?[0-9]{2}[\s-]?[0-9]{4}|[0-9]{4})(?![\w\[\]]|-[0-9])"
)

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_DATE = (
    rf"(?<![\w\[\]/.-])(?:[0-9]{{1,2}}[/.-][0-9]{{1,2}}[/.-](?:[0-9]{{4}}|[0-9]{{2}})"
    rf"|[0-9]{{4}}[-/][0-9]{{1,2}}[-/][0-9]{{1,2}}"
    rf"|(?i:{_MONTH})\.?\s+[0-9]{{1,2}}(?:st|nd|rd|th)?,?\s+[0-9]{{4}}"
    rf"|[0-9]{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?i:{_MONTH})\.?,?\s+[0-9]{{4}}"
    rf"|(?i:{_MONTH})\.?,?\s+[0-9]{{4}})(?![\w\[\]/]|[.-][0-9])"
)
_DOB_CUE = r"(?i:DOB|D\.O\.B\.?|date\s+of\s+birth|birth\s?date|birthday|born(?:\s+on)?)"
_DOB_AFTER = re.compile(rf"(?<![\w\[\]])(?P<cue>{_DOB_CUE})(?P<fill>[^\[\]\n.!?;]{{0,30}}?)(?P<id>{_DATE})")
_DOB_BEFORE = re.compile(rf"(?P<id>{_DATE})\s*\(?\s*(?P<cue>{_DOB_CUE})(?![\w\[\]])")
_DEADLINE_WORDS = re.compile(r"(?i)\b(?:due|by|deadline|until|before|after|expires?|renew\w*)\b")

_EMAIL = re.compile(
    r"(?<![\w\[\].+%-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w\[\]@])"
)
_LONG_ID = re.compile(
    r"(?<![\w\[\]@/$-])(?<![0-9]\.)[A-Z]{0,4}[0-9]{8,}[A-Z]{0,2}(?![\w\[\]%/:@-]|[.,][0-9])"
)

_STREET = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Way|Court|Ct|Place|Pl"
    r"|Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl|Plaza)"
)
_ADDRESS = re.compile(
    r"(?<![\w\[\]/.:,$#-])[0-9]{1,6}[A-Za-z]?\s+"
    rf"(?:(?:[A-Z][A-Za-z'-]*\.?|[0-9]+(?:st|nd|rd|th))\s+){{1,4}}{_STREET}\b\.?(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b\.?)?"
    rf"(?:,?\s*(?:Apt|Apartment|Unit|Suite|Ste|Fl|Floor|\#)\.?\s*\#?\s*[A-Za-z0-9-]*[0-9][A-Za-z0-9-]*)?"
    r"(?:,\s*[A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,2},?\s+[A-Z]{2}(?:\s+[0-9]{5}(?:-[0-9]{4})?)?(?![\w\[\]]))?"
    r"|(?<![\w\[\]])(?i:P\.?\s?O\.?\s+Box)\s+[0-9]+(?![\w\[\]])"
)

_UPPER, _LOWER = "A-ZÀ-ÖØ-ÞĀ-ž", "a-zß-öø-ÿĀ-ž"
_NOT_NAMES = (
    "Patient Patients Member Members Client Clients Family Families Services Service Portal Advocate "
    "Advocates Advocacy Access Care Relations Experience Financial Navigator Navigation Intake Support "
    "Count Counts List Lists Number Numbers Record Records Name Names Info Information Data Safety Rights "
    "Liaison Coordinator Assistance Program Plan Plans Id Status Update Updates Line Hotline Education "
    "Outreach Satisfaction Feedback File Files Chart Charts Is Was Has Had Will The A An And Or But For To "
    "In On At Of With By From Who We I He She They It This That These Those His Her Their Our Your My "
    "Please Thanks Monday Tuesday Wednesday Thursday Friday Saturday Sunday Today Tomorrow Yesterday "
    "One Two Three Four Five Six Seven Eight Nine Ten First Second Third Next Last Prior Appeal Appeals "
    "Claim Claims Referral Referrals Auth Authorization Renewal Deadline Recovery Action Notes Note Letter "
    "Letters Meeting Call Calls Email Phone Address Medicaid Medicare Insurance Team Teams Slack Mend"
)
_WORD = (
    rf"(?!(?:{'|'.join(_NOT_NAMES.split())})\b)(?!{_MONTH}\.?\s+[0-9\[])"
    rf"[{_UPPER}][{_LOWER}]*(?:['’]?[{_UPPER}])?[{_LOWER}]+(?:-[{_UPPER}][{_LOWER}]+)?(?![\w\[\]])"
)
_PARTICLES = r"(?:(?:de|del|della|da|di|dos|van|von|der|den|le|la|bin|ibn|al|el)\s+){0,2}"
_NAME = re.compile(
    r"(?<![\w\[\]])(?P<cue>(?i:patient|member|client|son|daughter|mother|father|mom|dad|wife|husband|"
    r"sister|brother|spouse|partner|parent|guardian|grandmother|grandfather|grandson|granddaughter|"
    r"child|baby|caregiver|name\s+is)|Mrs?\.|Mrs?|Ms\.?|Miss|Mx\.?)"
    r"(?:\s*[:,(]\s*|\s+(?:(?i:named|called|of)\s+)?)"
    rf"(?P<id>{_WORD}(?:\s+(?:[{_UPPER}]\.\s+)?{_PARTICLES}{_WORD}){{0,3}})"
)
# "Jamal Harris, DOB ...": a full name right before an identifier cue is the patient's.
_NAME_BEFORE = re.compile(
    rf"(?<![\w\[\]])(?P<id>{_WORD}(?:\s+(?:[{_UPPER}]\.\s+)?{_PARTICLES}{_WORD}){{1,3}})[,;:]?\s*[(-]?\s*"
    rf"(?P<cue>{_DOB_CUE}|(?i:MRN|SSN|member\s+id)(?![A-Za-z]))(?=[\s:#.]*(?:[0-9]|(?i:{_MONTH})))"
)


def _digits(text: str) -> int:
    return sum(map(str.isdigit, text))


def _cue_reason(cue: str, prefix: str) -> str:
    """Quote the cue word that gave the identifier away (cues come from fixed lists, never the value)."""
    cue = " ".join(cue.split())
    return f"{prefix} the word '{cue}'" if " " not in cue else f"{prefix} '{cue}'"


def _plausible_id(m: re.Match[str]) -> bool:
    return _digits(m["id"]) >= 4 and len(m["id"]) >= 5 and not _DATE_OR_TIME.fullmatch(m["id"])


@dataclass(frozen=True)
class _Rule:
    """A pattern whose `id` group (or whole match) is an identifier; the reason quotes any `cue` group."""

    pattern: re.Pattern[str]
    kind: str
    reason: str
    keep: Callable[[re.Match[str]], bool] = lambda m: True
    weak: bool = False


_SSN, _DOB, _NAMED, _NEAR = "Social Security number", "date of birth", "it is a name", "it is a date near"
_RULES: tuple[_Rule, ...] = (
    _Rule(_SSN_SHAPE, _SSN, "it has the shape of a Social Security number"),
    _Rule(_SSN_CUE, _SSN, "it follows", lambda m: _digits(m["id"]) == 9 or m["cue"].lower() != "social"),
    _Rule(_EMAIL, "email address", "it looks like an email address"),
    _Rule(_DOB_AFTER, _DOB, _NEAR, lambda m: not _DEADLINE_WORDS.search(m["fill"])),
    _Rule(_DOB_BEFORE, _DOB, _NEAR),
    *(_Rule(pattern, kind, "it follows", _plausible_id) for kind, pattern in _CONTEXT),
    _Rule(_ADDRESS, "street address", "it looks like a street address"),
    _Rule(_LONG_ID, "medical record number", "it is a long ID number, like a record or member ID", weak=True),
    _Rule(_NAME, "name", f"{_NAMED} after"),
    _Rule(_NAME_BEFORE, "name", f"{_NAMED} just before"),
)


def _rule_spans(text: str) -> Iterator[_Span]:
    for rule in _RULES:
        group = "id" if "id" in rule.pattern.groupindex else 0
        for m in rule.pattern.finditer(text):
            if rule.keep(m):
                reason = (
                    _cue_reason(m["cue"], rule.reason) if "cue" in rule.pattern.groupindex else rule.reason
                )
                yield _Span(m.start(group), m.end(group), rule.kind, reason, rule.weak)


def _underscores(match: re.Match[str]) -> str:
    return "_" * len(match.group())


def _phones(text: str) -> Iterator[_Span]:
    """Phone numbers via libphonenumber (POSSIBLE leniency, so 555 and 7-digit local numbers count).

    Deadlines, times and short numbers are hidden from the matcher, which would read "2026-12-01 14" as a
    number; it also gives up on "(555) 123-4567 3 times", so common shapes are matched directly too.
    """
    if _digits(text) < 7:
        return
    view = _DATE_OR_TIME.sub(_underscores, text)
    found = [m.span() for m in _PHONE_SHAPE.finditer(view)]
    view = _DIGIT_RUN.sub(lambda m: m.group() if _digits(m.group()) >= 7 else _underscores(m), view)
    found += [(m.start, m.end) for m in PhoneNumberMatcher(view, "US", leniency=Leniency.POSSIBLE)]
    for start, end in found:
        if start > 0 and text[start - 1].isalnum():  # "A1 555-..." is action A1, not country code 1
            start = _GLUED_HEAD.match(text, start).end()  # type: ignore[union-attr]
        if start < end:
            yield _Span(start, end, "phone number", "it looks like a phone number")


def _merge(spans: list[_Span]) -> list[_Span]:
    """Union overlapping spans so no fragment leaks; the highest-priority kind names the union."""
    merged: list[_Span] = []
    for span in sorted(spans, key=lambda s: (s.start, s.rank)):
        last = merged[-1] if merged else None
        if last is not None and span.start < last.end:
            best = last if last.rank <= span.rank else span
            merged[-1] = _Span(last.start, max(last.end, span.end), best.kind, best.reason, best.weak)
        else:
            merged.append(span)
    return merged


def _phone_outside(phone: _Span, strong: list[_Span], text: str) -> _Span | None:
    """The part of a phone match outside stronger spans, if it still holds a phone's worth of digits.

    libphonenumber happily reads "Patient 3 123-45-6789" as one number; the SSN is masked on its own,
    and the stray "3" must not be swallowed with it.
    """
    pieces = [(phone.start, phone.end)]
    for other in (o for o in strong if phone.start < o.end and o.start < phone.end):
        pieces = [
            (a, b) for s, e in pieces for a, b in ((s, min(e, other.start)), (max(s, other.end), e)) if a < b
        ]
    best = max(pieces, key=lambda p: _digits(text[p[0] : p[1]]), default=None)
    if best is None or _digits(text[best[0] : best[1]]) < 7:
        return None
    inner = _PHONE_CORE.search(text, best[0], best[1])
    return None if inner is None else _Span(inner.start(), inner.end(), phone.kind, phone.reason)


def _spans(text: str) -> list[_Span]:
    """One pass of every detector over `text`, merged into disjoint spans in reading order."""
    # Hide earlier placeholders' words ('DOB' in '[DOB]') so they never act as cues.
    scan = _PLACEHOLDER.sub(lambda m: "[" + " " * (len(m.group()) - 2) + "]", text)
    protected = [m.span() for m in _PROTECTED.finditer(scan)]
    candidates = [
        span
        for detect in (_rule_spans, _phones)
        for span in detect(scan)
        if span.end > span.start
        and not any(start <= span.start and span.end <= end for start, end in protected)
    ]
    strong = [span for span in candidates if span.rank < (False, _PRIORITY["phone number"])]
    candidates = [
        trimmed
        for span in candidates
        if (trimmed := _phone_outside(span, strong, scan) if span.kind == "phone number" else span)
    ]
    return _merge(candidates)


_MAX_PASSES = 4
_Mark = tuple[int, int, Finding]  # a placeholder's position in the masked text and what it hides


def _replace(text: str, spans: list[_Span], marks: list[_Mark]) -> tuple[str, list[_Mark]]:
    """Put placeholders over `spans`, keeping earlier placeholders (and their order) that none covers."""
    edits = [(s.start, s.end, _KINDS[s.kind][0], Finding(s.kind, s.reason)) for s in spans]
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
    return f"{_COUNTS.get(count, str(count))} {_KINDS[kind][1] if kind in _KINDS else kind + 's'}"


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
