"""Neutral `Reply` → Block Kit: messages (paginated), the App Home view, and the plain fallback text.

Block Kit refuses a whole message when one limit is broken, so every limit is enforced here, by splitting or
shortening, never by failing. The numbers are Slack's (docs.slack.dev/reference/block-kit), mirrored by
slack_sdk's block models: a message holds 50 blocks, a modal or Home tab 100; a header 150 characters of
plain text; a section 3,000 characters of mrkdwn and 10 fields of 2,000; an actions block 25 elements; a
button label 75 characters and its value 2,000; a context block 10 elements.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.messages import Button, Reply, Section

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
HEADER_CHARS = 150
SECTION_CHARS = 3000
FIELD_CHARS = 2000
FIELDS_PER_SECTION = 10
ACTIONS_PER_BLOCK = 25
BUTTON_LABEL_CHARS = 75
BUTTON_VALUE_CHARS = 2000
CONTEXT_CHARS = 2000
FALLBACK_CHARS = 3000  # the notification text; Slack truncates at 40,000 but nobody reads that far

BUTTON_ACTION = "mend_button_{}"  # action_id of a button that runs its value as a command
NOTE_ACTION = "mend_note"  # action_id of "Add a note" on a check-in reminder (opens a modal)
_CHECKIN_VALUE = re.compile(r"checkin (A\d+) [\w-]+")

Block = dict[str, Any]

# Slack's own markup we pass through: user mentions, channel links and links. Everything else in angle
# brackets (notably `<!channel>`, `<!here>`) is escaped so a typed word can never ping a whole channel.
_KEEP = re.compile(r"<(?:@[UW][A-Z0-9]+|#C[A-Z0-9]+|https?://[^\s<>|]+)(?:\|[^<>]*)?>")
_BARE_AMP = re.compile(r"&(?!(?:amp|lt|gt);)")  # already-escaped entities stay as they are


def escape(text: str) -> str:
    """mrkdwn-safe text: `&`, `<` and `>` escaped except in the markup Slack itself sent us."""
    out, last = [], 0
    for match in _KEEP.finditer(text):
        out.append(_escape_plain(text[last:match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(_escape_plain(text[last:]))
    return "".join(out)


def _escape_plain(text: str) -> str:
    return _BARE_AMP.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split_text(text: str, limit: int = SECTION_CHARS) -> list[str]:
    """Cut long text into pieces of at most `limit` characters, at line breaks where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # a single line longer than a section: cut at a space
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:cut])
            line = line[cut:].lstrip()
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        pieces.append(current)
    return [p for p in pieces if p.strip()] or []


@dataclass
class Message:
    """One Slack message: blocks plus the plain text Slack shows in notifications and screen readers."""

    text: str
    blocks: list[Block] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


class _Buttons:
    """Numbers buttons so each action_id is unique within one message or view."""

    def __init__(self) -> None:
        self.count = 0

    def blocks(self, buttons: Iterable[Button]) -> list[Block]:
        elements = [self._element(b) for b in buttons]
        return [{"type": "actions", "elements": elements[i:i + ACTIONS_PER_BLOCK]}
                for i in range(0, len(elements), ACTIONS_PER_BLOCK)]

    def _element(self, button: Button) -> Block:
        element: Block = {
            "type": "button",
            "text": {"type": "plain_text", "text": shorten(button.label, BUTTON_LABEL_CHARS), "emoji": True},
            "value": button.value[:BUTTON_VALUE_CHARS],
            "action_id": BUTTON_ACTION.format(self.count),
        }
        self.count += 1
        if button.style in ("primary", "danger"):
            element["style"] = button.style
        return element


def _with_note(buttons: tuple[Button, ...]) -> list[Block]:
    """Check-in buttons for one action get an "Add a note" button, which opens a modal for a note."""
    refs = {m.group(1) for b in buttons if (m := _CHECKIN_VALUE.fullmatch(b.value))}
    if len(refs) != 1 or not all(_CHECKIN_VALUE.fullmatch(b.value) for b in buttons):
        return []
    return [{"type": "button", "text": {"type": "plain_text", "text": "Add a note…"},
             "value": refs.pop(), "action_id": NOTE_ACTION}]


def _header(title: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": shorten(title, HEADER_CHARS), "emoji": True}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": shorten(escape(text), CONTEXT_CHARS)}]}


def _section_blocks(section: Section, numbering: _Buttons) -> list[Block]:
    blocks: list[Block] = []
    body = escape(section.text)
    if section.title:
        body = f"*{escape(section.title)}*" + (f"\n{body}" if body else "")
    for piece in split_text(body):
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": piece}})
    fields = [
        {"type": "mrkdwn", "text": shorten(f"*{escape(f.label)}*\n{escape(f.value)}", FIELD_CHARS)}
        for f in section.fields
    ]
    for i in range(0, len(fields), FIELDS_PER_SECTION):
        chunk = fields[i:i + FIELDS_PER_SECTION]
        if i == 0 and blocks and "fields" not in blocks[-1]:
            blocks[-1]["fields"] = chunk  # the section's last text and its first fields share one block
        else:
            blocks.append({"type": "section", "fields": chunk})
    if section.buttons:
        blocks += numbering.blocks(section.buttons)
        note = _with_note(section.buttons)
        if note and len(blocks[-1]["elements"]) < ACTIONS_PER_BLOCK:
            blocks[-1]["elements"] += note
    return blocks


def _parts(reply: Reply) -> tuple[list[Block], list[Block]]:
    """The body (header, sections with their own buttons) and the tail (the reply's buttons, its footer)."""
    numbering = _Buttons()
    body: list[Block] = [_header(reply.title)] if reply.title else []
    for section in reply.sections or (Section(text=reply.text),):
        body += _section_blocks(section, numbering)
    tail: list[Block] = []
    if reply.buttons:
        tail = numbering.blocks(reply.buttons)
        note = _with_note(reply.buttons)
        if note and len(tail[-1]["elements"]) < ACTIONS_PER_BLOCK:
            tail[-1]["elements"] += note
    if reply.context:
        tail.append(_context(reply.context))
    return body, tail


def reply_blocks(reply: Reply) -> list[Block]:
    """Every block of a reply, before pagination."""
    body, tail = _parts(reply)
    return body + tail


def _fallback(reply: Reply, page: int, pages: int) -> str:
    if page == 0:
        return shorten(escape(reply.text), FALLBACK_CHARS)
    return shorten(escape(f"{reply.title or 'Mend'} (part {page + 1} of {pages})"), FALLBACK_CHARS)


def render_messages(reply: Reply, *, max_blocks: int = MESSAGE_BLOCKS) -> list[Message]:
    """A reply as one or more messages of at most `max_blocks` blocks each, in reading order.

    A long report becomes several messages ("part 2 of 3") rather than a refused one. The reply's own
    buttons and footer stay on the last message, where a reader finishes.
    """
    body, tail = _parts(reply)
    if len(body) + len(tail) <= max_blocks:
        return [Message(text=_fallback(reply, 0, 1), blocks=body + tail)]
    tail = tail[-max_blocks:]
    pages = [body[i:i + max_blocks] for i in range(0, len(body), max_blocks)] or [[]]
    if len(pages[-1]) + len(tail) <= max_blocks:
        pages[-1] += tail
    else:
        pages.append(tail)
    return [Message(text=_fallback(reply, i, len(pages)), blocks=page) for i, page in enumerate(pages)]


def render_single(reply: Reply, *, max_blocks: int = MESSAGE_BLOCKS) -> Message:
    """A reply as exactly one message or view (to replace a message in place): summarised when too long."""
    body, tail = _parts(reply)
    if len(body) + len(tail) > max_blocks:
        tail = tail[-(max_blocks // 2):]
        room = max_blocks - len(tail) - 1
        body = body[:room] + [_context("…shortened to fit; type `/mend status` in the channel for everything.")]
    return Message(text=_fallback(reply, 0, 1), blocks=body + tail)


def render_home(reply: Reply) -> dict[str, Any]:
    """The App Home tab (`views.publish`): the same blocks, at most 100, summarised beyond that."""
    return {"type": "home", "blocks": render_single(reply, max_blocks=VIEW_BLOCKS).blocks}
