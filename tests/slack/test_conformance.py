"""Vigie against Slack's own published contracts (../shared/slack-spec): skipped, with the reason, without it."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest
import yaml
from slack_sdk.signature import SignatureVerifier

from bot.slack.ids import Action, Command, Shortcut
from bot.slack.views import cards as blocks
from tests import slackspec
from tests.conftest import SIGNING_SECRET
from tests.slack_requests import interactive_body, message_shortcut, sign, signed_headers

ROOT = Path(__file__).parents[2]
MANIFEST = yaml.safe_load((ROOT / "manifest.yaml").read_text())


@pytest.fixture(autouse=True)
def _spec():
    slackspec.require_spec()


def test_manifest_is_valid_against_slacks_schema():
    assert slackspec.validate_manifest(MANIFEST) == []


def test_manifest_schema_check_can_fail():
    broken = json.loads(json.dumps(MANIFEST))
    broken["features"]["shortcuts"][0]["type"] = "sideways"
    del broken["display_information"]["name"]
    assert len(slackspec.validate_manifest(broken)) >= 2


def test_manifest_lists_exactly_the_shortcuts_commands_and_events_the_code_handles():
    features = MANIFEST.get("features", {})
    assert {s["callback_id"] for s in features.get("shortcuts", [])} == {s.value for s in Shortcut}
    assert {c["command"] for c in features.get("slash_commands", [])} == {c.value for c in Command}
    assert MANIFEST["settings"]["event_subscriptions"]["bot_events"] == [
        "app_home_opened", "message.channels", "message.groups"]  # message.*: the alerts channels
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True


def test_every_manifest_shortcut_reaches_a_listener_and_others_do_not(http):
    def dispatch(callback_id: str) -> int:
        body = interactive_body(message_shortcut(callback_id=callback_id, text="x"))
        return http.post("/slack/events", content=body, headers=signed_headers(SIGNING_SECRET, body)).status_code

    for shortcut in MANIFEST["features"]["shortcuts"]:
        assert dispatch(shortcut["callback_id"]) == 200
    assert dispatch("not_in_the_manifest") == 404
    for command in MANIFEST["features"]["slash_commands"]:
        body = urlencode({"command": command["command"], "text": "help", "user_id": "U0CM00001",
                          "channel_id": "C0GENERAL1", "team_id": "T0TEAM0001", "trigger_id": "1.2.3",
                          "response_url": "https://hooks.slack.invalid/1"})
        r = http.post("/slack/events", content=body, headers=signed_headers(SIGNING_SECRET, body))
        assert r.status_code == 200 and r.json()["text"]


def _methods_called_in_code() -> set[str]:
    found: set[str] = set()
    for path in list((ROOT / "bot").rglob("*.py")) + list((ROOT / "handlers").rglob("*.py")):
        text = path.read_text()
        found |= set(re.findall(r'\bcall\(\s*"([a-z]+\.[A-Za-z.]+)"', text))
        found |= set(re.findall(r'\bmethod="([a-z]+\.[A-Za-z.]+)"', text))
        # A method name chosen at run time (`method = "conversations.replies" if ... else ...`): any string
        # literal that names a Slack method counts.
        found |= {m for m in re.findall(r'"([a-z]+\.[A-Za-z]+(?:\.[A-Za-z]+)?)"', text)
                  if (slackspec.METHODS_DIR / f"{m}.json").is_file()}
        if "files_upload_v2(" in text:  # slack_sdk's helper calls these two methods
            found |= {"files.getUploadURLExternal", "files.completeUploadExternal"}
    return found


def test_every_method_the_code_calls_exists_and_its_scope_is_in_the_manifest():
    granted = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    methods = _methods_called_in_code()
    assert {"chat.postMessage", "chat.postEphemeral", "conversations.history", "users.info"} <= methods
    for method in methods:
        spec = slackspec.method_spec(method)  # raises for a method Slack does not have
        assert spec, method
        needed = slackspec.method_scopes(method)
        # The list holds alternatives (channels:history or groups:history...): one granted is enough.
        assert not needed or granted & set(needed), f"{method} needs one of {needed}"
    # Only what the code needs: every granted scope serves a called method or a declared feature.
    used = {s for m in methods for s in slackspec.method_scopes(m)} | {"commands", "chat:write.public"}
    assert granted <= used, granted - used


def test_worst_case_relay_card_respects_block_kit_limits():
    reasons = [{"code": "route.keyword", "params": {"team": "finance", "keywords": ["mot"] * 200}},
               {"code": "severity.reach", "params": {"reach": 10**10, "threshold": 100000, "severity": "high"}},
               {"code": "unknown.future", "params": {"x": 1}}]
    card = blocks.relay_card(
        mention_id=10**9, team_name="Ressources humaines et relations sociales", source="s" * 200,
        author="<@U1>" * 60, text="&<>" * 7000, url="https://example.com/" + "a" * 1900,
        published_at=datetime(2026, 1, 1, tzinfo=UTC), severity="critical", reach=10**10,
        language="fr", language_detected=True, reasons=reasons, channel="C0FINANCE1", lang="fr")
    assert slackspec.check_message(card) == []
    ids = [e["action_id"] for e in card["blocks"][-1]["elements"]]
    assert ids == [Action.claim, Action.draft, Action.reroute, Action.dismiss, Action.open_post, Action.more]


def test_signing_matches_slacks_published_vector():
    vector = json.loads((slackspec.SPEC_DIR / "derived" / "signing_test_vector.json").read_text())
    ts = int(vector["x_slack_request_timestamp"])
    assert sign(vector["signing_secret"], vector["body"], ts) == vector["x_slack_signature"]
    verifier = SignatureVerifier(vector["signing_secret"], clock=type("C", (), {"now": lambda self: ts + 10})())
    headers = {"x-slack-request-timestamp": str(ts), "x-slack-signature": vector["x_slack_signature"]}
    assert verifier.is_valid_request(vector["body"], headers)
    late = SignatureVerifier(vector["signing_secret"], clock=type("C", (), {"now": lambda self: ts + 301})())
    assert not late.is_valid_request(vector["body"], headers)


def test_every_subscribed_event_reaches_a_listener(http, slack, runtime):
    import time

    from tests.conftest import drain

    for event_type in MANIFEST["settings"]["event_subscriptions"]["bot_events"]:
        envelope = {"token": "x", "team_id": "T0TEAM0001", "api_app_id": "A0VIGIE001", "type": "event_callback",
                    "event_id": "Ev0001", "event_time": int(time.time()),
                    "event": {"type": event_type, "user": "U0CM00001", "channel": "D0HOME0001", "tab": "home",
                              "event_ts": "1763719200.000100"}}
        body = json.dumps(envelope)
        r = http.post("/slack/events", content=body,
                      headers=signed_headers(SIGNING_SECRET, body, content_type="application/json"))
        assert r.status_code == 200
    drain(runtime)
    [publish] = slack.calls("views.publish")
    assert publish.args["user_id"] == "U0CM00001" and publish.args["view"]["type"] == "home"
