"""Playbooks are data: the shipped one is valid, broken ones are reported by file, line and field."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.playbook import DEFAULT_PLAYBOOK, PlaybookError, load_playbook


def test_the_shipped_playbook_has_the_seven_stages():
    playbook = load_playbook()
    assert [s.id for s in playbook.steps] == [
        "acknowledge", "communicate", "plan", "engage", "accountability", "updates", "learn"
    ]
    assert set(playbook.audiences) == {"patients", "families", "providers", "payers", "leadership", "team"}
    assert all(step.checklist and step.completes_when for step in playbook.steps)


@pytest.fixture
def playbook_copy(tmp_path: Path) -> Path:
    shutil.copytree(DEFAULT_PLAYBOOK.parent / "templates", tmp_path / "templates")
    target = tmp_path / "custom.yaml"
    shutil.copy(DEFAULT_PLAYBOOK, target)
    return target


def _break(path: Path, old: str, new: str) -> int:
    text = path.read_text()
    assert old in text
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1))
    return line


def test_unknown_check_names_file_line_and_field(playbook_copy):
    line = _break(playbook_copy, "check: outreach_drafted", "check: outreach_drafed")
    with pytest.raises(PlaybookError) as info:
        load_playbook(playbook_copy)
    problem = info.value.problems[0]
    assert (problem.file, problem.line, problem.field) == (str(playbook_copy), line, "steps.1.completes_when.0.check")
    assert "outreach_drafted" in problem.message  # pydantic lists the allowed values


def test_missing_field_and_unknown_field(playbook_copy):
    line = _break(playbook_copy, "    title: Tell the people affected\n", "    titel: Tell the people affected\n")
    with pytest.raises(PlaybookError) as info:
        load_playbook(playbook_copy)
    fields = {(p.field, p.line) for p in info.value.problems}
    assert ("steps.1.titel", line) in fields
    assert any(f == "steps.1.title" for f, _ in fields)


def test_yaml_syntax_error_names_the_line(playbook_copy):
    _break(playbook_copy, "update_every_days: 3", "update_every_days: [3")
    with pytest.raises(PlaybookError) as info:
        load_playbook(playbook_copy)
    assert info.value.problems[0].field == "(yaml)" and info.value.problems[0].line is not None


def test_missing_template_is_reported(playbook_copy):
    line = _break(playbook_copy, "template: templates/payers.md.j2", "template: templates/nope.md.j2")
    with pytest.raises(PlaybookError) as info:
        load_playbook(playbook_copy)
    problem = info.value.problems[0]
    assert (problem.field, problem.line) == ("audiences.payers.template", line)


def test_template_with_a_typo_fails_at_load(playbook_copy):
    (playbook_copy.parent / "templates" / "team.md.j2").write_text("Hello {{ what ")
    with pytest.raises(PlaybookError, match="audiences.team.template"):
        load_playbook(playbook_copy)


def test_playbook_check_command(playbook_copy, capsys):
    assert main(["playbook", "check", str(DEFAULT_PLAYBOOK)]) == 0
    assert "OK — Recovering from a missed deadline, 7 steps" in capsys.readouterr().out
    line = _break(playbook_copy, "max_rounds: 5", "max_rounds: 50")
    assert main(["playbook", "check", str(playbook_copy)]) == 1
    err = capsys.readouterr().err
    assert f"{playbook_copy}:{line}: retro.1.max_rounds:" in err


def test_a_new_playbook_needs_no_code(playbook_copy, core, clock):
    """A shorter playbook (two steps) is walked by the same engine."""
    text = playbook_copy.read_text()
    start = text.index("  - id: communicate")
    end = text.index("  - id: learn")
    playbook_copy.write_text(text[:start] + text[end:])
    from adapters.console.channel import ConsoleChat
    from bot.engine import Engine

    engine = Engine(core.db, clock, playbook_path=playbook_copy)
    chat = ConsoleChat(engine, channel="#short")
    opened = chat.say("/mend miss referral cutoff for 2 families")
    assert "Step 2 of 2: Learn and prevent it happening again" in opened


def test_user_text_is_data_not_template_source(chat):
    chat.say("/mend miss renewals for 3 patients")
    chat.say("/mend plan call each family ${7*7} and ((7*7))")
    text = chat.say("/mend draft families")
    assert "call each family ${7*7} and ((7*7))" in text
    assert "49" not in text


def test_a_template_naming_an_unknown_variable_fails_at_load_not_at_draft(playbook_copy, capsys):
    """StrictUndefined alone would only fail when someone drafts; `playbook check` must catch it first."""
    line = _break(playbook_copy, "template: templates/team.md.j2", "template: templates/team.md.j2")
    (playbook_copy.parent / "templates" / "team.md.j2").write_text(
        "Hello team,\n{% for a in actions %}{{ a }}{% endfor %}\nNew date: {{ new_dedline }}\n")
    with pytest.raises(PlaybookError) as info:
        load_playbook(playbook_copy)
    [problem] = info.value.problems
    assert (problem.file, problem.line, problem.field) == (str(playbook_copy), line, "audiences.team.template")
    assert "templates/team.md.j2 line 3: unknown variable 'new_dedline'" in problem.message
    assert main(["playbook", "check", str(playbook_copy)]) == 1
    assert f"{playbook_copy}:{line}: audiences.team.template: templates/team.md.j2 line 3" in capsys.readouterr().err


def test_a_key_given_twice_is_named_with_its_line(playbook_copy):
    line = _break(playbook_copy, "update_every_days: 3", "update_every_days: 3\nupdate_every_days: 30")
    with pytest.raises(PlaybookError) as info:
        load_playbook(playbook_copy)
    [problem] = info.value.problems
    assert (problem.line, problem.field) == (line + 1, "update_every_days")
    assert "given twice" in problem.message


def test_templates_get_exactly_the_variables_the_schema_allows():
    from bot.commands.outreach import _facts
    from bot.playbook import TEMPLATE_VARIABLES
    from bot.store.models import Recovery

    recovery = Recovery(what="renewals", tz="UTC", lead="dana")
    facts = _facts(recovery, "patients", datetime(2026, 11, 26, 15, tzinfo=UTC))
    assert set(facts) == TEMPLATE_VARIABLES
