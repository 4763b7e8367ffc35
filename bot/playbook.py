"""Playbooks are data: YAML steps, prompts, checks and outreach templates, validated by a pydantic schema.

Errors name the file, the line and the field, so a team lead can fix a playbook without reading Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from jinja2 import StrictUndefined, TemplateError, meta, nodes
from jinja2.loaders import FileSystemLoader
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

PLAYBOOK_DIR = Path(__file__).resolve().parent.parent / "playbooks"
DEFAULT_PLAYBOOK = PLAYBOOK_DIR / "missed-deadline.yaml"

# What an outreach template may use (bot/commands/outreach.py `_facts` provides exactly these). A template
# naming anything else would fail only when someone drafts, so `load_playbook` refuses it up front.
TEMPLATE_VARIABLES = frozenset({
    "what", "original_deadline", "new_deadline", "explanation", "impact", "remedy", "next_update", "contact", "count",
    "count_text", "affected_summary", "actions", "open_actions", "done_actions", "wins",
})

# What the engine knows how to check. A step completes when all of its checks hold.
Check = Literal[
    "affected_counted",  # at least one group of affected people is counted
    "deadline_committed",  # a new realistic deadline is set
    "remedy_recorded",  # what is being done to make it right for those affected is written down
    "outreach_drafted",  # an outreach draft exists for every affected audience
    "feedback_recorded",  # at least one piece of feedback is recorded
    "actions_owned",  # at least one prevention action with an owner and a due date
    "checkins_recorded",  # every open action has at least one check-in
    "update_drafted",  # a progress update was drafted
    "retro_done",  # every retrospective question is answered
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Completion(Strict):
    check: Check
    hint: str = Field(min_length=1, description="what to type to satisfy the check")


class Step(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    title: str = Field(min_length=1, max_length=80)
    prompt: str = Field(min_length=1)
    checklist: list[str] = Field(min_length=1)
    completes_when: list[Completion] = Field(min_length=1)


class Audience(Strict):
    label: str
    plain_language: bool = False
    pseudonym: str | None = None  # "Patient" gives "Patient 3"
    template: str  # path relative to the playbook's folder
    translations: dict[str, str] = Field(default_factory=dict)  # language code -> template path


class OutreachElement(Strict):
    """Something every first message must contain, found by any of its phrases (per language)."""

    label: str
    phrases: dict[str, list[str]] = Field(min_length=1)


class RetroQuestion(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    ask: str
    followup: str | None = None  # asked again after each answer until the cause is named
    max_rounds: int = Field(1, ge=1, le=7)


class Playbook(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    name: str
    summary: str
    update_every_days: int = Field(3, ge=1, le=30)
    audiences: dict[str, Audience] = Field(min_length=1)
    cause_categories: list[str] = Field(min_length=1)
    steps: list[Step] = Field(min_length=1)
    retro: list[RetroQuestion] = Field(min_length=1)
    update_template: str
    update_translations: dict[str, str] = Field(default_factory=dict)  # language code -> template path
    languages: dict[str, str] = Field(default_factory=lambda: {"en": "English"})
    outreach_elements: dict[str, OutreachElement] = Field(default_factory=dict)
    reading_grade_max: float = Field(8, ge=1, le=16)

    @field_validator("steps")
    @classmethod
    def _unique_steps(cls, steps: list[Step]) -> list[Step]:
        seen: set[str] = set()
        for step in steps:
            if step.id in seen:
                raise ValueError(f"step id {step.id!r} is used twice")
            seen.add(step.id)
        return steps

    @model_validator(mode="after")
    def _retro_has_ids(self) -> Playbook:
        ids = [q.id for q in self.retro]
        if len(ids) != len(set(ids)):
            raise ValueError("retro question ids must be unique")
        return self

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def step_position(self, step_id: str) -> int:
        return [s.id for s in self.steps].index(step_id)


@dataclass(frozen=True)
class PlaybookProblem:
    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}"


class PlaybookError(Exception):
    def __init__(self, problems: list[PlaybookProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def _to_python(node: yaml.Node, lines: dict[tuple[str | int, ...], int], path: tuple[str | int, ...],
               duplicates: list[tuple[tuple[str | int, ...], int]]) -> Any:
    """Turn a composed YAML node into Python values, remembering the line of every path.

    A key given twice in one mapping is recorded in `duplicates`: YAML would silently keep the last one."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in result:
                duplicates.append(((*path, key), key_node.start_mark.line + 1))
            lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = _to_python(value_node, lines, (*path, key), duplicates)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, lines, (*path, i), duplicates) for i, item in enumerate(node.value)]
    return yaml.SafeLoader(stream="").construct_object(node, deep=True)  # type: ignore[arg-type]


def _line_for(lines: dict[tuple[str | int, ...], int], loc: tuple[str | int, ...]) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _template_problems(playbook: Playbook, folder: Path, file: str, lines: dict[Any, int]) -> list[PlaybookProblem]:
    problems = []
    env = template_environment(folder)
    wanted: list[tuple[tuple[str, ...], str]] = [
        (("audiences", name, "template"), a.template) for name, a in playbook.audiences.items()
    ]
    for name, a in playbook.audiences.items():
        wanted += [(("audiences", name, "translations", lang), path) for lang, path in a.translations.items()]
    wanted.append((("update_template",), playbook.update_template))
    wanted += [(("update_translations", lang), path) for lang, path in playbook.update_translations.items()]
    for loc, name in wanted:
        field = ".".join(map(str, loc))
        try:
            env.get_template(name)
            source = env.loader.get_source(env, name)[0]  # type: ignore[union-attr]
            tree = env.parse(source)
        except TemplateError as exc:
            problems.append(PlaybookProblem(file, _line_for(lines, loc), field, str(exc)))
            continue
        for variable in sorted(meta.find_undeclared_variables(tree) - TEMPLATE_VARIABLES - set(env.globals)):
            where = min((n.lineno for n in tree.find_all(nodes.Name) if n.name == variable), default=None)
            problems.append(PlaybookProblem(
                file, _line_for(lines, loc), field,
                f"{name}" + (f" line {where}" if where else "") + f": unknown variable '{variable}'; templates "
                "can use " + ", ".join(sorted(TEMPLATE_VARIABLES)),
            ))
    return problems


def load_playbook(path: str | Path = DEFAULT_PLAYBOOK) -> Playbook:
    """Load and validate a playbook; raise `PlaybookError` naming file, line and field."""
    path = Path(path)
    file = str(path)
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlaybookError([PlaybookProblem(file, None, "(file)", exc.strerror or str(exc))]) from exc
    try:
        node = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise PlaybookError([PlaybookProblem(file, line, "(yaml)", str(getattr(exc, "problem", exc)))]) from exc
    if node is None:
        raise PlaybookError([PlaybookProblem(file, 1, "(file)", "the playbook is empty")])
    lines: dict[tuple[str | int, ...], int] = {}
    duplicates: list[tuple[tuple[str | int, ...], int]] = []
    data = _to_python(node, lines, (), duplicates)
    if duplicates:
        raise PlaybookError([
            PlaybookProblem(file, line, ".".join(map(str, loc)), "this key is given twice; keep one")
            for loc, line in duplicates
        ])
    try:
        playbook = Playbook.model_validate(data)
    except ValidationError as exc:
        problems = [
            PlaybookProblem(
                file,
                _line_for(lines, tuple(err["loc"])),
                ".".join(str(part) for part in err["loc"]) or "(top)",
                err["msg"],
            )
            for err in exc.errors()
        ]
        raise PlaybookError(problems) from exc
    problems = _template_problems(playbook, path.parent, file, lines)
    if problems:
        raise PlaybookError(problems)
    return playbook


def template_environment(folder: Path) -> SandboxedEnvironment:
    """Templates run sandboxed with strict undefined: a typo fails loudly, user text is only ever data."""
    return SandboxedEnvironment(
        loader=FileSystemLoader(str(folder)),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
