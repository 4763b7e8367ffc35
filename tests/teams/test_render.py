"""Reply → Adaptive Card: what a person sees, the buttons' commands, the mention, and Teams' size limit."""

from __future__ import annotations

import json

from adapters.teams.render import (
    MAX_CARD_BYTES,
    Addressee,
    can_mention,
    render,
    to_activity,
)
from bot.messages import Button, Field, Reply, Section
from tests.fakes.bot_connector import card_texts

CHECKIN = Reply(
    title="Check-in: A1",
    text="Hi Sam, how is *A1* going?",
    sections=(Section(text="Hi Sam, how is *A1* going?\nAdd dates to the tracker\n\nType `checkin A1 done`."),
              Section(title="The miss", fields=(Field("Lead", "Dana"), Field("New deadline", "Fri 27 Nov")))),
    buttons=(Button("On track", "checkin A1 on-track", "primary"), Button("At risk", "checkin A1 at-risk"),
             Button("Blocked", "checkin A1 blocked", "danger")),
    context="Mend asks every day at 09:00.",
)


def test_a_reply_is_one_adaptive_card_with_title_lines_facts_and_context():
    [message] = render(CHECKIN)
    card = message.card
    assert (card["type"], card["version"], card["$schema"]) == (
        "AdaptiveCard", "1.5", "http://adaptivecards.io/schemas/adaptive-card.json")
    assert card["body"][0] == {"type": "TextBlock", "text": "Check-in: A1", "wrap": True, "size": "Medium",
                               "weight": "Bolder"}
    assert card_texts(card["body"]) == [
        "Check-in: A1", "Hi Sam, how is **A1** going?", "Add dates to the tracker",
        "Type **checkin A1 done**.",
        "The miss", "Lead: Dana", "New deadline: Fri 27 Nov", "Mend asks every day at 09:00.",
    ]
    spacing = [b.get("spacing") for b in card["body"][1:4]]
    assert spacing == ["Medium", "None", "Medium"]  # lines stay together; a blank line opens a paragraph


def test_buttons_submit_their_command_with_teams_styles():
    [message] = render(CHECKIN)
    assert message.card["actions"] == [
        {"type": "Action.Submit", "title": "On track", "data": {"mend": "checkin A1 on-track"},
         "style": "positive"},
        {"type": "Action.Submit", "title": "At risk", "data": {"mend": "checkin A1 at-risk"}},
        {"type": "Action.Submit", "title": "Blocked", "data": {"mend": "checkin A1 blocked"},
         "style": "destructive"},
    ]
    [answered] = render(CHECKIN, buttons=False)
    assert "actions" not in answered.card


def test_section_buttons_are_an_action_set_in_place():
    done = Button("Done", "checkin A1 done")
    reply = Reply(text="A1", sections=(Section(text="A1 tracker", buttons=(done,)),))
    [message] = render(reply)
    [action_set] = [b for b in message.card["body"] if b["type"] == "ActionSet"]
    assert action_set["actions"][0]["data"] == {"mend": "checkin A1 done"}
    assert not [b for b in render(reply, buttons=False)[0].card["body"] if b["type"] == "ActionSet"]


def test_the_plain_text_is_the_summary_and_the_cards_fallback():
    [message] = render(CHECKIN)
    assert message.summary == "Hi Sam, how is A1 going?"
    assert message.card["fallbackText"] == message.summary
    assert message.text is None and message.mention is None
    long = render(Reply(text="word " * 1000))[0]
    assert len(long.summary) <= 500 and long.summary.endswith("…")


def test_a_reply_without_sections_shows_its_text():
    error = Reply(text="I don't know the command `stauts`.\nTry: `status`", title="That didn't work")
    [message] = render(error)
    assert card_texts(message.card["body"]) == ["That didn't work", "I don't know the command **stauts**.",
                                                "Try: **status**"]


def test_markdown_headings_become_bold():
    [message] = render(Reply(text="# R1: renewals\n## Timeline\n- opened"))
    assert card_texts(message.card["body"]) == ["**R1: renewals**", "**Timeline**", "- opened"]


def test_a_mention_is_at_text_plus_an_entity_on_the_activity():
    sam = Addressee("29:1sam", "Sam")
    [message] = render(CHECKIN, mention=sam)
    activity = to_activity(message).serialize()
    assert activity["text"] == "<at>Sam</at>"
    assert activity["entities"] == [{"mentioned": {"id": "29:1sam", "name": "Sam"}, "text": "<at>Sam</at>",
                                     "type": "mention"}]
    assert activity["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert activity["summary"] == message.summary


def test_only_ids_teams_can_resolve_are_mentioned():
    assert can_mention("29:1abc-DEF_ghi") and can_mention("8:orgid:1234")
    assert can_mention("6f1c0b7e-0000-4000-8000-000000000001")
    assert not can_mention("sam") and not can_mention(None) and not can_mention("29:")


def test_a_reply_too_large_for_one_message_is_split_in_order_with_buttons_last():
    lines = "\n".join(f"line {i}: " + "renewal follow-up détail ✅ " * 6 for i in range(600))
    reply = Reply(text=lines, title="Report", sections=(Section(title="Timeline", text=lines),),
                  buttons=(Button("Close", "close"),))
    messages = render(reply)
    assert len(messages) > 2
    for message in messages:
        assert len(json.dumps(message.card)) < MAX_CARD_BYTES
        assert len(json.dumps(to_activity(message).serialize())) < 28_000
    texts = [t for m in messages for t in card_texts(m.card["body"])]
    shown = [t.split(":")[0] for t in texts if t.startswith("line ")]
    assert shown == [f"line {i}" for i in range(600)]  # nothing lost, nothing reordered
    assert card_texts(messages[1].card["body"])[0] == f"Report (2 of {len(messages)})"
    assert [("actions" in m.card) for m in messages] == [False] * (len(messages) - 1) + [True]


def test_a_single_enormous_line_is_shortened_not_refused():
    [message] = render(Reply(text="x" * 100_000, title="Huge"))
    assert len(json.dumps(message.card)) < MAX_CARD_BYTES
    assert card_texts(message.card["body"])[1].endswith("…")
