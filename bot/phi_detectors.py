"""What the PHI guard looks for: identifier patterns, the cue words that raise confidence, and the rules
that turn them into candidate spans. `bot.privacy` walks the text with these and does the masking.

Cues are English and Spanish (drafts for patients and families go out in both), so an edited Spanish
draft or a note such as "la paciente María López" is guarded like its English twin.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from phonenumbers import Leniency, PhoneNumberMatcher


@dataclass(frozen=True)
class Span:
    """A candidate identifier at text[start:end], with its kind and a reason that never quotes it."""

    start: int
    end: int
    kind: str
    reason: str
    weak: bool = False  # a guess without context yields to any cue-backed span it overlaps

    @property
    def rank(self) -> tuple[bool, int]:
        return self.weak, PRIORITY[self.kind]


# kind -> (placeholder, plural); the order is also the priority when candidates overlap.
KINDS: dict[str, tuple[str, str]] = {
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
PRIORITY = {kind: rank for rank, kind in enumerate(KINDS)}
PLACEHOLDER = re.compile("|".join(re.escape(placeholder) for placeholder, _ in KINDS.values()))

# Never identifiers: Slack mentions/channels/specials, money, percentages (a match wholly inside is dropped).
PROTECTED = re.compile(r"<[@#!][^<>\n]{0,120}>|\$\s?[0-9][0-9,]*(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?\s?%")

_STOP = r"(?:(?:[:#=]|no\.?|num(?:ber)?|is|was|id|of|es|de|nro\.?|n[úu]m(?:ero)?)[\s:#=.]*)"  # cue ... value
_ID = r"(?<![\w\[\]/.-])[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?![\w\[\]/@]|\.[0-9]|-[0-9A-Za-z])"
_N = r"(?:\s+(?:id|\#|number|no\.?))"  # optional "ID", "#", "number" after a cue word
_CONTEXT_CUES = {
    "medical record number": rf"MRN|MR\#|(?:medical\s+)?record{_N}?|chart{_N}?|patient{_N}|acc(?:oun)?t{_N}?"
    r"|expediente|historia\s+cl[íi]nica",
    "member ID": rf"(?:member|subscriber|policy|medicaid|medicare){_N}?|(?:insurance|group|plan){_N}|MBI"
    r"|afiliad[oa]|miembro|p[óo]liza",
    "claim number": rf"(?:claim|(?:prior\s+)?auth(?:orization)?|reference|case|appeal){_N}?|PA\s+\#|ref\b"
    r"|reclamo|reclamaci[óo]n|autorizaci[óo]n|apelaci[óo]n|referencia",
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
PHONE_CORE = re.compile(r"[+(0-9].*[0-9)]", re.S)
_SSN_SHAPE = re.compile(r"(?<![\w\[\]-])[0-9]{3}-[0-9]{2}-[0-9]{4}(?![\w\[\]]|-[0-9])")
_SSN_CUE = re.compile(
    r"(?<![\w\[\]])(?P<cue>(?i:SSN|SS\#|social\s+security(?:\s+(?:number|no\.?|\#))?|seguro\s+social|social))"
    r"(?![A-Za-z])"
    r"(?P<fill>[\s:#,(-]*(?:(?i:is|was|no\.?|number|ending(?:\s+in)?|last\s+(?:4|four)(?:\s+digits)?"
    r"(?:\s+(?:is|are))?)[\s:#,(-]*){0,3})"
    r"(?<![0-9])(?P<id>[0-9]{3}[\s-]?[0-9]{2}[\s-]?[0-9]{4}|[0-9]{4})(?![\w\[\]]|-[0-9])"
)

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_MES = r"(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|se?ptiembre|octubre|noviembre|diciembre)"
_DATE = (
    rf"(?<![\w\[\]/.-])(?:[0-9]{{1,2}}[/.-][0-9]{{1,2}}[/.-](?:[0-9]{{4}}|[0-9]{{2}})"
    rf"|[0-9]{{4}}[-/][0-9]{{1,2}}[-/][0-9]{{1,2}}"
    rf"|(?i:{_MONTH})\.?\s+[0-9]{{1,2}}(?:st|nd|rd|th)?,?\s+[0-9]{{4}}"
    rf"|[0-9]{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?i:{_MONTH})\.?,?\s+[0-9]{{4}}"
    rf"|(?i:{_MONTH})\.?,?\s+[0-9]{{4}}"
    rf"|[0-9]{{1,2}}\s+de\s+(?i:{_MES})\s+(?:de|del)\s+[0-9]{{4}})(?![\w\[\]/]|[.-][0-9])"
)
_DOB_CUE = (
    r"(?i:DOB|D\.O\.B\.?|date\s+of\s+birth|birth\s?date|birthday|born(?:\s+on)?"
    r"|fecha\s+de\s+nacimiento|nacid[oa](?:\s+el)?|naci[óo](?:\s+el)?|cumpleaños)"
)
_DOB_AFTER = re.compile(rf"(?<![\w\[\]])(?P<cue>{_DOB_CUE})(?P<fill>[^\[\]\n.!?;]{{0,30}}?)(?P<id>{_DATE})")
_DOB_BEFORE = re.compile(rf"(?P<id>{_DATE})\s*\(?\s*(?P<cue>{_DOB_CUE})(?![\w\[\]])")
_DEADLINE_WORDS = re.compile(
    r"(?i)\b(?:due|by|deadline|until|before|after|expires?|renew\w*|vence\w*|vencimiento|plazo|hasta|antes"
    r"|después|renovaci[óo]n)\b"
)

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
    "Letters Meeting Call Calls Email Phone Address Medicaid Medicare Insurance Team Teams Slack Mend "
    "Manager Managers Director Analyst Specialist Supervisor Nurse Nurses Doctor Worker Staff "
    "Paciente Pacientes Familia Familias Cliente Clientes Servicios Atención Equipo Lunes Martes Miércoles "
    "Jueves Viernes Sábado Domingo Hoy Mañana"
)
_WORD = (
    rf"(?!(?:{'|'.join(_NOT_NAMES.split())})\b)(?!{_MONTH}\.?\s+[0-9\[])"
    rf"[{_UPPER}][{_LOWER}]*(?:['’]?[{_UPPER}])?[{_LOWER}]+(?:-[{_UPPER}][{_LOWER}]+)?(?![\w\[\]])"
)
_PARTICLES = r"(?:(?:de|del|della|da|di|dos|van|von|der|den|le|la|bin|ibn|al|el)\s+){0,2}"
_NAME = re.compile(
    r"(?<![\w\[\]])(?P<cue>(?i:patient|member|client|son|daughter|mother|father|mom|dad|wife|husband|"
    r"sister|brother|spouse|partner|parent|guardian|grandmother|grandfather|grandson|granddaughter|"
    r"child|baby|caregiver|name\s+is|paciente|afiliad[oa]|hij[oa]|madre|padre|mam[áa]|pap[áa]|espos[oa]|"
    r"herman[oa]|abuel[oa]|niet[oa]|tutora?|cuidadora?|se\s+llama|nombre\s+es)"
    r"|Mrs?\.|Mrs?|Ms\.?|Miss|Mx\.?|Srta\.?|Sra\.?|Sr\.?|Dña\.?|Doña)"
    r"(?:\s*[:,(]\s*|\s+(?:(?i:named|called|of|llamad[oa])\s+)?)"
    rf"(?P<id>{_WORD}(?:\s+(?:[{_UPPER}]\.\s+)?{_PARTICLES}{_WORD}){{0,3}})"
)
# "Jamal Harris, DOB ...": a full name right before an identifier cue is the patient's.
_NAME_BEFORE = re.compile(
    rf"(?<![\w\[\]])(?P<id>{_WORD}(?:\s+(?:[{_UPPER}]\.\s+)?{_PARTICLES}{_WORD}){{1,3}})[,;:]?\s*[(-]?\s*"
    rf"(?P<cue>{_DOB_CUE}|(?i:MRN|SSN|member\s+id)(?![A-Za-z]))(?=[\s:#.]*(?:[0-9]|(?i:{_MONTH}|{_MES})))"
)


def digits(text: str) -> int:
    return sum(map(str.isdigit, text))


def _cue_reason(cue: str, prefix: str) -> str:
    """Quote the cue word that gave the identifier away (cues come from fixed lists, never the value)."""
    cue = " ".join(cue.split())
    return f"{prefix} the word '{cue}'" if " " not in cue else f"{prefix} '{cue}'"


def _plausible_id(m: re.Match[str]) -> bool:
    return digits(m["id"]) >= 4 and len(m["id"]) >= 5 and not _DATE_OR_TIME.fullmatch(m["id"])


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
    _Rule(_SSN_CUE, _SSN, "it follows", lambda m: digits(m["id"]) == 9 or m["cue"].lower() != "social"),
    _Rule(_EMAIL, "email address", "it looks like an email address"),
    _Rule(_DOB_AFTER, _DOB, _NEAR, lambda m: not _DEADLINE_WORDS.search(m["fill"])),
    _Rule(_DOB_BEFORE, _DOB, _NEAR),
    *(_Rule(pattern, kind, "it follows", _plausible_id) for kind, pattern in _CONTEXT),
    _Rule(_ADDRESS, "street address", "it looks like a street address"),
    _Rule(_LONG_ID, "medical record number", "it is a long ID number, like a record or member ID", weak=True),
    _Rule(_NAME, "name", f"{_NAMED} after"),
    _Rule(_NAME_BEFORE, "name", f"{_NAMED} just before"),
)


def rule_spans(text: str) -> Iterator[Span]:
    for rule in _RULES:
        group = "id" if "id" in rule.pattern.groupindex else 0
        for m in rule.pattern.finditer(text):
            if rule.keep(m):
                reason = (
                    _cue_reason(m["cue"], rule.reason) if "cue" in rule.pattern.groupindex else rule.reason
                )
                yield Span(m.start(group), m.end(group), rule.kind, reason, rule.weak)


def _underscores(match: re.Match[str]) -> str:
    return "_" * len(match.group())


def phone_spans(text: str) -> Iterator[Span]:
    """Phone numbers via libphonenumber (POSSIBLE leniency, so 555 and 7-digit local numbers count).

    Deadlines, times and short numbers are hidden from the matcher, which would read "2026-12-01 14" as a
    number; it also gives up on "(555) 123-4567 3 times", so common shapes are matched directly too.
    """
    if digits(text) < 7:
        return
    view = _DATE_OR_TIME.sub(_underscores, text)
    found = [m.span() for m in _PHONE_SHAPE.finditer(view)]
    view = _DIGIT_RUN.sub(lambda m: m.group() if digits(m.group()) >= 7 else _underscores(m), view)
    found += [(m.start, m.end) for m in PhoneNumberMatcher(view, "US", leniency=Leniency.POSSIBLE)]
    for start, end in found:
        if start > 0 and text[start - 1].isalnum():  # "A1 555-..." is action A1, not country code 1
            start = _GLUED_HEAD.match(text, start).end()  # type: ignore[union-attr]
        if start < end:
            yield Span(start, end, "phone number", "it looks like a phone number")
