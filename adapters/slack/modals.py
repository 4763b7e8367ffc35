"""The two Slack modals: "report a missed deadline" (`/mend miss` with no words) and "add a note" to a check-in.

Each builder returns a `views.open` view; each reader turns a `view_submission` into the command words the
engine already understands, or into field errors that Slack shows next to the inputs (`response_action:
errors`). Readers only check the form itself, so they can run before the 3-second ack; everything the
engine checks (text rules, privacy) is answered after.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

MISS_CALLBACK = "mend_miss"
NOTE_CALLBACK = "mend_note"
AUDIENCES = ("patients", "families", "providers", "payers")
MAX_COUNT = 100_000
MAX_WHAT = 1000
CHECKIN_CHOICES = {"on-track": "🟢 On track", "at-risk": "🟠 At risk", "blocked": "🔴 Blocked", "done": "✅ Done"}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False,
           hint: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "input", "block_id": block_id, "label": _plain(label),
                             "element": {**element, "action_id": "value"}, "optional": optional}
    if hint:
        block["hint"] = _plain(hint)
    return block


def miss_modal(*, channel: str, channel_name: str | None, user: str, cause_categories: list[str]) -> dict[str, Any]:
    blocks = [
        _input("what", "What was missed?", {"type": "plain_text_input", "multiline": True, "max_length": MAX_WHAT,
                                             "placeholder": _plain("Prior-auth renewals for March")},
               hint="Count people, never name them: no names, record numbers or dates of birth."),
        _input("deadline", "Original deadline", {"type": "datepicker"}, optional=True),
        {"type": "section", "text": {"type": "mrkdwn", "text": "*People affected* (numbers only)"}},
        *(_input(f"affected_{a}", a.capitalize(), {"type": "number_input", "is_decimal_allowed": False,
                                                    "min_value": "0", "max_value": str(MAX_COUNT)}, optional=True)
          for a in AUDIENCES),
        _input("cause", "Likely cause", {"type": "static_select", "placeholder": _plain("Choose a category"),
                                         "options": [{"text": _plain(c.capitalize()), "value": c}
                                                     for c in cause_categories[:100]]}, optional=True),
        _input("lead", "Who leads the recovery?", {"type": "users_select", "initial_user": user}),
    ]
    return {
        "type": "modal", "callback_id": MISS_CALLBACK, "title": _plain("Report a missed deadline"[:24]),
        "submit": _plain("Open recovery"), "close": _plain("Cancel"), "blocks": blocks,
        "private_metadata": json.dumps({"channel": channel, "channel_name": channel_name}),
    }


@dataclass(frozen=True)
class MissForm:
    channel: str
    channel_name: str | None
    commands: list[str]  # the engine commands that open the recovery as the form describes it


def _value(values: dict[str, Any], block: str) -> dict[str, Any]:
    return (values.get(block) or {}).get("value") or {}


def read_miss(view: dict[str, Any], today: date) -> MissForm | dict[str, str]:
    """The commands the form stands for, or {block_id: error} for Slack to show next to the fields."""
    values = (view.get("state") or {}).get("values") or {}
    meta = json.loads(view.get("private_metadata") or "{}")
    errors: dict[str, str] = {}
    what = " ".join(str(_value(values, "what").get("value") or "").split())
    if not what:
        errors["what"] = "Please say what was missed."
    elif len(what) > MAX_WHAT:
        errors["what"] = f"Please keep it under {MAX_WHAT} characters."
    deadline = _value(values, "deadline").get("selected_date")
    if deadline:
        try:
            if date.fromisoformat(deadline) > today:
                errors["deadline"] = "A missed deadline is today or earlier."
        except ValueError:
            errors["deadline"] = "Please pick a date."
    counts: dict[str, int] = {}
    for audience in AUDIENCES:
        raw = _value(values, f"affected_{audience}").get("value")
        if raw in (None, ""):
            continue
        if not str(raw).isdigit() or int(raw) > MAX_COUNT:
            errors[f"affected_{audience}"] = f"A whole number from 0 to {MAX_COUNT:,}."
        elif int(raw) > 0:
            counts[audience] = int(raw)
    if not meta.get("channel"):
        errors["what"] = "This form lost its channel; please run /mend miss again."
    if errors:
        return errors
    commands = [f"miss {what}" + (f" was due {deadline}" if deadline else "")]
    if counts:
        commands.append("affected " + " ".join(f"{n} {a}" for a, n in counts.items()))
    lead = _value(values, "lead").get("selected_user")
    if lead:
        commands.append(f"lead <@{lead}>")
    cause = (_value(values, "cause").get("selected_option") or {}).get("value")
    if cause:
        commands.append(f"retro cause {cause}")
    return MissForm(channel=str(meta["channel"]), channel_name=meta.get("channel_name"), commands=commands)


def note_modal(*, ref: str, channel: str, message_ts: str) -> dict[str, Any]:
    options = [{"text": _plain(label), "value": state} for state, label in CHECKIN_CHOICES.items()]
    return {
        "type": "modal", "callback_id": NOTE_CALLBACK, "title": _plain(f"Check-in: {ref}"[:24]),
        "submit": _plain("Record"), "close": _plain("Cancel"),
        "private_metadata": json.dumps({"ref": ref, "channel": channel, "ts": message_ts}),
        "blocks": [
            _input("state", "How is it going?", {"type": "static_select", "options": options,
                                                 "initial_option": options[0]}),
            _input("note", "Note", {"type": "plain_text_input", "multiline": True, "max_length": 1000,
                                    "placeholder": _plain("Waiting on IT for tracker access")}),
        ],
    }


@dataclass(frozen=True)
class NoteForm:
    command: str
    channel: str  # the reminder's channel and ts; both empty when the note came from the App Home tab
    message_ts: str


def read_note(view: dict[str, Any]) -> NoteForm | dict[str, str]:
    values = (view.get("state") or {}).get("values") or {}
    meta = json.loads(view.get("private_metadata") or "{}")
    state = (_value(values, "state").get("selected_option") or {}).get("value")
    note = " ".join(str(_value(values, "note").get("value") or "").split())
    errors: dict[str, str] = {}
    if state not in CHECKIN_CHOICES:
        errors["state"] = "Please choose how it is going."
    if not note:
        errors["note"] = "Please write the note."
    if not meta.get("ref"):
        errors["note"] = "This form lost its check-in; please use the buttons on the reminder."
    if errors:
        return errors
    return NoteForm(command=f"checkin {meta['ref']} {state} {note}", channel=str(meta.get("channel") or ""),
                    message_ts=str(meta.get("ts") or ""))
