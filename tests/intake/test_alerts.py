"""Every alerts fixture (a Slack `message` event as Slack sends it) gives exactly its expected mentions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.intake.alerts import read_alert, render

FIXTURES = Path(__file__).parents[1] / "fixtures" / "alerts"
INDEX = json.loads((FIXTURES / "index.json").read_text(encoding="utf-8"))
FIELDS = ("source", "external_id", "url", "author", "text", "published_at", "language", "reach")


def as_json(mention) -> dict:  # type: ignore[no-untyped-def]
    data = mention.model_dump(mode="json")
    return {k: data[k] for k in FIELDS} | {
        "published_at": mention.published_at.isoformat() if mention.published_at else None,
    }


@pytest.mark.parametrize("entry", INDEX, ids=[e["file"] for e in INDEX])
def test_each_fixture_gives_its_expected_mentions(entry):
    payload = json.loads((FIXTURES / entry["file"]).read_text(encoding="utf-8"))
    expected_file = FIXTURES / entry["file"].replace(".json", ".expected.jsonl")
    expected = [json.loads(line) for line in expected_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    message = read_alert(payload["event"])
    got = [as_json(m) for m in message.mentions] if message else []
    assert got == expected, entry["note"]


def test_housekeeping_gives_none_and_a_channel_join_no_mention():
    assert read_alert({"type": "message", "subtype": "channel_join", "channel": "C0A", "ts": "1.0",
                       "text": "<@U1> has joined the channel"}) is None
    assert read_alert({"type": "message", "subtype": "message_deleted", "channel": "C0A", "ts": "1.0",
                       "deleted_ts": "1.0"}) is None


def test_the_protocol_tool_names_the_source_and_a_message_without_link_gives_nothing():
    event = {"type": "message", "channel": "C0A", "ts": "1795252500.000100", "user": "U1",
             "text": "voir <https://news.example/a/1|l'article>"}
    [m] = read_alert(event, tool="meltwater").mentions
    assert (m.source, str(m.url), m.text) == ("meltwater", "https://news.example/a/1", "voir l'article")
    assert read_alert({**event, "text": "on regarde ?"}).mentions == []


def test_render_keeps_handles_with_underscores_and_unescapes():
    assert render("*Acme* &amp; co — julien_r75 &gt; 2") == "Acme & co — julien_r75 > 2"
    assert render("&gt; cité\n>aussi") == "cité\naussi"


def test_the_protocol_alerts_section_is_checked_with_sentences():
    from bot.protocol.errors import ProtocolError
    from bot.protocol.load import parse_protocol

    base = ("version: 1\ncommunity_managers: [U0CM00001]\nteams:\n  general:\n    name: Général\n"
            "    channel: C0GENERAL1\n    lead: U0CM00001\ndefault_team: general\n")
    ok = parse_protocol(base + "alerts:\n  - {channel: C0ALERTS01, tool: meltwater, team: general}\n")
    assert [(a.channel, a.tool, a.team) for a in ok.alerts] == [("C0ALERTS01", "meltwater", "general")]
    with pytest.raises(ProtocolError) as refused:
        parse_protocol(base + "alerts:\n  - {channel: '#veille'}\n")
    assert "identifiant d'un canal Slack" in str(refused.value)
    with pytest.raises(ProtocolError) as refused:
        parse_protocol(base + "alerts:\n  - {channel: C0ALERTS01, team: nope}\n  - {channel: C0ALERTS01}\n")
    assert "nope" in str(refused.value) and "déjà un canal d'alertes" in str(refused.value)
