"""The shared scenario (tests/scenarios), lived through Slack: the same words and buttons, the same outcome."""

from __future__ import annotations

from tests.scenarios import test_scenario as scenario
from tests.slack.transport import slack_transport


async def test_the_whole_playbook_through_slack(tmp_path, monkeypatch):
    monkeypatch.setitem(scenario.TRANSPORTS, "slack", slack_transport)
    await scenario.test_a_missed_deadline_is_acknowledged_made_right_and_learned_from("slack", tmp_path)
