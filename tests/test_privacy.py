"""The PHI guard: identifiers are masked, Mend's own words pass through untouched."""

from __future__ import annotations

import re
from dataclasses import FrozenInstanceError
from datetime import date
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.privacy import Finding, Masked, describe_findings, mask_phi

CORPUS = Path(__file__).parent / "data" / "phi_corpus.yaml"
PLACEHOLDER = re.compile(r"\[(?:phone|email|DOB|SSN|MRN|member ID|claim #|address|name)\]")


def fragments(identifier: str) -> list[str]:
    """The letter and digit runs of an identifier (accented letters too); none may survive masking."""
    return re.findall(r"[^\W_]+", identifier)


def assert_masked(text: str, identifier: str, placeholder: str, kind: str) -> Masked:
    masked = mask_phi(text)
    assert identifier not in masked.text
    for part in fragments(identifier):
        assert part not in masked.text, f"{part!r} of {identifier!r} survived in {masked.text!r}"
    assert placeholder in masked.text
    assert kind in [finding.kind for finding in masked.findings]
    assert masked.changed
    return masked


# --- each kind of identifier -------------------------------------------------------------------------

KIND_CASES = [
    ("Maria's MRN is 004481223, please update the chart.", "004481223", "[MRN]", "medical record number"),
    ("Record # A7734521 needs the new referral attached.", "A7734521", "[MRN]", "medical record number"),
    ("member ID: XJH123456789 on the renewal form", "XJH123456789", "[member ID]", "member ID"),
    ("Subscriber W88231145 was dropped by the payer", "W88231145", "[member ID]", "member ID"),
    ("policy number 5550123 expired", "5550123", "[member ID]", "member ID"),
    ("claim # 987654321 was denied on appeal", "987654321", "[claim #]", "claim number"),
    ("Auth number PA-2026-44817 lapsed yesterday", "PA-2026-44817", "[claim #]", "claim number"),
    ("DOB 03/14/1961, renewal is late", "03/14/1961", "[DOB]", "date of birth"),
    ("she was born on March 3, 1984 and needs a new referral", "March 3, 1984", "[DOB]", "date of birth"),
    ("date of birth: 1990-07-22", "1990-07-22", "[DOB]", "date of birth"),
    ("d.o.b. 7/4/85", "7/4/85", "[DOB]", "date of birth"),
    ("SSN 123-45-6789 was on the fax", "123-45-6789", "[SSN]", "Social Security number"),
    ("he read out 078-05-1120 on the call", "078-05-1120", "[SSN]", "Social Security number"),
    ("social security number 123456789", "123456789", "[SSN]", "Social Security number"),
    ("SSN last four 6789 for verification", "6789", "[SSN]", "Social Security number"),
    ("call her back at (555) 123-4567 today", "(555) 123-4567", "[phone]", "phone number"),
    ("mobile 555-123-4567", "555-123-4567", "[phone]", "phone number"),
    ("international +1 555 123 4567", "+1 555 123 4567", "[phone]", "phone number"),
    ("the office line is 617.555.0100 ext 23", "617.555.0100", "[phone]", "phone number"),
    (
        "email maria.lopez@example.com the denial letter",
        "maria.lopez@example.com",
        "[email]",
        "email address",
    ),
    ("mail it to 1450 W Maple Ave Apt 3B", "1450 W Maple Ave Apt 3B", "[address]", "street address"),
    (
        "lives at 22 Oak Street, Springfield, IL 62704",
        "22 Oak Street, Springfield, IL 62704",
        "[address]",
        "street address",
    ),
    ("the patient Maria Lopez needs a new referral", "Maria Lopez", "[name]", "name"),
    ("Mrs. O'Brien called about the appeal", "O'Brien", "[name]", "name"),
    ("her son Diego missed the appointment", "Diego", "[name]", "name"),
    ("mother of Ana Maria de la Cruz asked for an update", "Ana Maria de la Cruz", "[name]", "name"),
    ("member John Q. Public is waiting on the payer", "John Q. Public", "[name]", "name"),
    ("a long number 123456789012 with no label", "123456789012", "[MRN]", "medical record number"),
    # Spanish cues: notes and edited drafts for families who prefer Spanish
    ("la paciente María López llamó", "María López", "[name]", "name"),
    ("Sra. Peña-Ortiz pidió una llamada", "Peña-Ortiz", "[name]", "name"),
    ("fecha de nacimiento: 14/03/1961", "14/03/1961", "[DOB]", "date of birth"),
    ("nació el 3 de marzo de 1984", "3 de marzo de 1984", "[DOB]", "date of birth"),
    ("número de afiliado W77310942", "W77310942", "[member ID]", "member ID"),
    ("expediente 0044812 actualizado", "0044812", "[MRN]", "medical record number"),
    ("número de seguro social 219099999", "219099999", "[SSN]", "Social Security number"),
]


@pytest.mark.parametrize(("text", "identifier", "placeholder", "kind"), KIND_CASES)
def test_each_identifier_kind_is_masked(text: str, identifier: str, placeholder: str, kind: str) -> None:
    masked = assert_masked(text, identifier, placeholder, kind)
    for finding in masked.findings:
        assert all(part not in finding.reason for part in fragments(identifier) if len(part) > 2)


def test_one_finding_per_span_in_reading_order() -> None:
    masked = mask_phi("Patient Maria Lopez, MRN 004481223, DOB 03/14/1961, called from (555) 123-4567.")
    assert masked.text == "Patient [name], MRN [MRN], DOB [DOB], called from [phone]."
    assert [f.kind for f in masked.findings] == [
        "name",
        "medical record number",
        "date of birth",
        "phone number",
    ]
    assert masked.findings[1].reason == "it follows the word 'MRN'"
    assert masked.findings[3].reason == "it looks like a phone number"


def test_cue_backed_kind_wins_over_a_bare_long_number() -> None:
    masked = mask_phi("claim number 12345678901 and member # 98765432")
    assert masked.text == "claim number [claim #] and member # [member ID]"


@pytest.mark.parametrize(
    "text",
    [
        "A3 due 2026-12-01, R12 by Friday, original deadline 2026-11-20 at 09:00 America/New_York",
        "<@U123ABC> and <@U123|dana> and @dana can take A14",
        "14 patients and 3 families are affected, about 45% of the panel, costing $1,250.00",
        "Patient 3 and Family 2 need a renewal; Patient count is 12 in 2026",
        "Patient Advocate Sarah Kim called Member Services and Patient Financial Services",
        "check in at 9:30 America/New_York, then again on 2026-12-03 at 14:00 Europe/London",
        "DOB verification is due 2026-12-01 for Patient 4",
        "patients Maria and Jose",  # plural cue: not a single person's name (known limit, see docs)
        "Dr. Alvarez signed the letter of medical necessity",
        "Lo sentimos. La nueva fecha es el viernes 27 de noviembre de 2026.",  # Mend's own Spanish drafts
        "Paciente 3 y Familia 2 prefieren una llamada en español",
        "Sr. Manager Kim approved the plan",  # a job title after an honorific is not a name
    ],
)
def test_mends_own_words_pass_through(text: str) -> None:
    masked = mask_phi(text)
    assert masked.text == text
    assert masked.findings == ()
    assert not masked.changed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A1 000-00-0000 is wrong", "A1 [SSN] is wrong"),  # libphonenumber reads "1 000-00-0000" as a phone
        ("Patient 3 123-45-6789", "Patient 3 [SSN]"),
        ("call (555) 123-4567 3 times", "call [phone] 3 times"),  # the matcher alone gives up here
        ("+1 555 123 4567 14 patients", "[phone] 14 patients"),
        ("due 2026-12-01 14 patients", "due 2026-12-01 14 patients"),
        ("Reach me at 555.222.1234 x105", "Reach me at [phone]"),
        ("$ 555-123-4567", "$ [phone]"),
        ("<mailto:a.b@example.com|a.b@example.com>", "<mailto:[email]|[email]>"),
    ],
)
def test_neighbouring_words_survive_and_identifiers_do_not(text: str, expected: str) -> None:
    assert mask_phi(text).text == expected


def test_masked_and_finding_are_frozen() -> None:
    masked = mask_phi("SSN 123-45-6789")
    with pytest.raises(FrozenInstanceError):
        masked.text = "x"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        masked.findings[0].kind = "x"  # type: ignore[misc]


# --- the private notice ---------------------------------------------------------------------------------


def test_describe_findings_names_each_kind_kindly() -> None:
    findings = mask_phi("call (555) 123-4567, DOB 03/14/1961").findings
    assert describe_findings(findings) == (
        "I masked a phone number and a date of birth before saving this, because channels are not the place "
        "for a patient's identity. Keep identifiers in your records system."
    )


def test_describe_findings_counts_and_articles() -> None:
    findings = [
        Finding("phone number", "r"),
        Finding("email address", "r"),
        Finding("phone number", "r"),
        Finding("member ID", "r"),
    ]
    notice = describe_findings(findings)
    assert notice.startswith(
        "I masked two phone numbers, an email address and a member ID before saving this"
    )


def test_describe_findings_says_nothing_when_nothing_was_masked() -> None:
    assert describe_findings([]) == ""


# --- properties -----------------------------------------------------------------------------------------

lower_words = st.from_regex(r"[a-z]{1,10}", fullmatch=True)
safe_tokens = st.one_of(
    lower_words,
    st.integers(1, 999).map(lambda n: f"A{n}"),
    st.integers(1, 999).map(lambda n: f"R{n}"),
    st.tuples(st.integers(0, 23), st.integers(0, 59)).map(lambda t: f"{t[0]:02d}:{t[1]:02d}"),
    st.dates(date(2000, 1, 1), date(2099, 12, 31)).map(lambda d: f"due {d:%Y-%m-%d}"),
    st.from_regex(r"<@U[A-Z0-9]{6,10}>", fullmatch=True),
    st.from_regex(r"<@U[A-Z0-9]{6,10}\|[a-z]{2,8}>", fullmatch=True),
    st.sampled_from(
        ["America/New_York", "Europe/London", "Patient 3", "Family 2", "14 patients", "by Friday"]
    ),
)
safe_text = st.lists(safe_tokens, max_size=25).map(" ".join)

ssns = st.from_regex(r"[0-8][0-9]{2}-[0-9]{2}-[0-9]{4}", fullmatch=True)
emails = st.from_regex(r"[a-z][a-z0-9._]{0,12}@[a-z]{2,10}\.(com|org|net)", fullmatch=True)
phones = st.tuples(st.integers(200, 999), st.integers(200, 999), st.integers(0, 9999), st.integers(0, 2)).map(
    lambda t: ["({0}) {1}-{2:04d}", "{0}-{1}-{2:04d}", "+1 {0} {1} {2:04d}"][t[3]].format(*t[:3])
)
identifiers = st.one_of(
    ssns.map(lambda s: (s, "[SSN]")),
    emails.map(lambda s: (s, "[email]")),
    phones.map(lambda s: (s, "[phone]")),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(safe_text)
def test_safe_command_text_is_unchanged(text: str) -> None:
    masked = mask_phi(text)
    assert masked.text == text
    assert masked.findings == ()


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(safe_text, identifiers, safe_text)
def test_identifier_in_safe_text_is_always_masked(
    before: str, identifier: tuple[str, str], after: str
) -> None:
    value, placeholder = identifier
    masked = mask_phi(f"{before} {value} {after}")
    assert value not in masked.text
    assert placeholder in masked.text
    assert masked.text.startswith(before) and masked.text.endswith(after)
    assert all(value not in finding.reason for finding in masked.findings)


@settings(max_examples=500)
@given(st.text())
def test_masking_arbitrary_text_is_total_and_consistent(text: str) -> None:
    masked = mask_phi(text)
    assert isinstance(masked.text, str)
    assert masked.changed == (masked.text != text)
    new_placeholders = len(PLACEHOLDER.findall(masked.text)) - len(PLACEHOLDER.findall(text))
    assert new_placeholders == len(masked.findings)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@example("555-123-4567patient Maria ")  # a placeholder changes a cue's left boundary
@example("patient May 12345678")  # "May" before digits is a month, before a placeholder it is not
@example("PO Box 123-45-67894567")  # libphonenumber reads the digits differently beside a placeholder
@given(
    st.one_of(
        st.text(),
        safe_text,
        st.tuples(safe_text, identifiers, st.text()).map(lambda t: f"{t[0]} {t[1][0]} {t[2]}"),
    )
)
def test_masking_is_idempotent(text: str) -> None:
    once = mask_phi(text)
    twice = mask_phi(once.text)
    assert twice.text == once.text
    assert twice.findings == ()


# --- the corpus -----------------------------------------------------------------------------------------


def original_spans(text: str, masked: str) -> list[tuple[int, int]] | None:
    """Where each placeholder came from: the masked text, read as a pattern, matched against the original."""
    pattern = "".join(
        "(.+?)" if PLACEHOLDER.fullmatch(piece) else re.escape(piece)
        for piece in re.split(f"({PLACEHOLDER.pattern})", masked)
    )
    found = re.fullmatch(pattern, text, re.S)
    return None if found is None else [found.span(i) for i in range(1, (found.lastindex or 0) + 1)]


def test_corpus_precision_and_recall(capsys: pytest.CaptureFixture[str]) -> None:
    entries = yaml.safe_load(CORPUS.read_text())
    with_ids = [e for e in entries if e.get("identifiers")]
    assert len(entries) >= 60 and 0.4 <= len(with_ids) / len(entries) <= 0.6
    total = recalled = true_spans = false_spans = 0
    misses: list[str] = []
    for entry in entries:
        text, listed = entry["text"], entry.get("identifiers") or []
        masked = mask_phi(text).text
        spans = original_spans(text, masked)
        assert spans is not None, f"cannot align {masked!r} with {text!r}"
        wanted = [(text.index(i), text.index(i) + len(i)) for i in listed]
        for identifier, (w_start, w_end) in zip(listed, wanted, strict=True):
            total += 1
            # recalled: every letter and digit of it lies under a placeholder
            if all(any(s <= at < e for s, e in spans) for at in range(w_start, w_end) if text[at].isalnum()):
                recalled += 1
            else:
                misses.append(f"{identifier!r} in {masked!r}")
        for start, end in spans:
            if any(start < w_end and w_start < end for w_start, w_end in wanted):
                true_spans += 1
            else:
                false_spans += 1
                misses.append(f"false positive {text[start:end]!r} in {text!r}")
    recall = recalled / total
    precision = true_spans / (true_spans + false_spans)
    with capsys.disabled():  # shown in every run, not only with -s: the issue asks for the figures
        print(f"\nPHI corpus: precision={precision:.3f} recall={recall:.3f} over {total} identifiers "
              f"in {len(entries)} sentences ({len(with_ids)} with identifiers)")
    assert recall == 1.0, misses
    assert precision >= 0.9, misses
