"""The Slack endpoint's gate (bot.slack.verify): the signature is checked on the raw bytes before anything is parsed,
then the body is decoded and parsed as Bolt does, then its shape is checked for its kind of request. Every refusal
is a 4xx with a sentence, and nothing behind it runs; every real shape Slack sends still passes.

Also here: a replayed slash command is acknowledged and ignored (bot.store.deliveries).
"""

from __future__ import annotations

import copy
import json
import logging
import time
from urllib.parse import urlencode

import pytest
from slack_bolt.request.internals import parse_body
from sqlalchemy import func
from sqlmodel import Session, select

from bot.edge import MAX_JSON_DEPTH
from bot.slack.ids import Action
from bot.slack.verify import SlackGate, parse_like_bolt
from bot.store.models import AuditEvent, Mention, Reminder, SlackDelivery
from tests import slackspec
from tests.conftest import SIGNING_SECRET, drain
from tests.slack_requests import (
    block_action,
    interactive_body,
    message_shortcut,
    sign,
    signed_headers,
    trigger_id,
)
from tests.usecases.test_protocol_enforced import CM1, Clocked, clocked  # noqa: F401 - the fixture is used by name

CM = "U0CM00001"


def post(http, body: str | bytes, headers: dict[str, str]):
    return http.post("/slack/events", content=body, headers=headers)


def signed(http, body: str | bytes, *, content_type: str = "application/x-www-form-urlencoded", lang: str = "en"):
    raw = body if isinstance(body, bytes) else body.encode()
    ts = int(time.time())
    import hashlib
    import hmac

    signature = "v0=" + hmac.new(SIGNING_SECRET.encode(), b"v0:%d:" % ts + raw, hashlib.sha256).hexdigest()
    return post(http, raw, {"Content-Type": content_type, "X-Slack-Request-Timestamp": str(ts),
                            "X-Slack-Signature": signature, "Accept-Language": lang})


def written(engine) -> tuple[int, int, int]:
    with Session(engine) as s:
        return tuple(s.exec(select(func.count()).select_from(m)).one() for m in (Mention, AuditEvent, SlackDelivery))


# --- the signature, before anything else -------------------------------------------------------------------


UNSIGNED_BODIES = [
    b"payload=%7Bnot json",
    b'{"type": ',
    b"[" * 100_000,
    b"payload=" + b"%5B" * 50_000,
    b"\xff\xfe\x00garbage",
    b"command=/vigie&text=aide",
]


@pytest.mark.parametrize("body", UNSIGNED_BODIES, ids=range(len(UNSIGNED_BODIES)))
@pytest.mark.parametrize("headers", [
    {},
    {"X-Slack-Request-Timestamp": "now", "X-Slack-Signature": "v0=abc"},
    # Digits that str.isdigit() accepts and int() may read, but not ASCII: superscripts (latin-1 on the wire) and
    # fullwidth digits (UTF-8 bytes, read as latin-1 text).
    {"X-Slack-Request-Timestamp": "¹²³".encode("latin-1"), "X-Slack-Signature": "v0=abc"},
    {"X-Slack-Request-Timestamp": "１７６３７１９２００".encode(), "X-Slack-Signature": "v0=abc"},
    {"X-Slack-Request-Timestamp": "9" * 5000, "X-Slack-Signature": "v0=abc"},
    {"X-Slack-Request-Timestamp": "-1", "X-Slack-Signature": "v0=abc"},
    {"X-Slack-Request-Timestamp": "1e9", "X-Slack-Signature": "v0=abc"},
], ids=["none", "word", "superscript", "fullwidth", "huge", "negative", "float"])
def test_unsigned_or_badly_timed_requests_are_401_before_any_parsing(http, runtime, body, headers, caplog):
    caplog.set_level(logging.WARNING)
    r = post(http, body, {"Content-Type": "application/x-www-form-urlencoded", "Accept-Language": "en", **headers})
    assert r.status_code == 401
    assert r.json() == {"code": "signature", "message": (
        "request not signed by Slack: X-Slack-Signature is missing or wrong, or X-Slack-Request-Timestamp is "
        "missing or more than 5 minutes from now")}
    assert "www-authenticate" not in r.headers  # that header is the intake's (bearer tokens), not Slack's
    assert written(runtime.engine) == (0, 0, 0)
    assert [rec.getMessage() for rec in caplog.records if rec.levelno >= logging.WARNING] == []


def test_a_signature_that_is_not_ascii_is_a_refusal_not_a_crash(http):
    # hmac.compare_digest raises TypeError on non-ASCII text; the header arrives as latin-1 text.
    body = b"command=/vigie&text=aide&user_id=U0CM00001"
    headers = [(b"content-type", b"application/x-www-form-urlencoded"),
               (b"x-slack-request-timestamp", str(int(time.time())).encode()),
               (b"x-slack-signature", "v0=é".encode("latin-1"))]
    r = http.post("/slack/events", content=body, headers=headers)
    assert r.status_code == 401 and r.json()["code"] == "signature"


def test_the_signature_covers_the_raw_bytes_even_when_they_are_not_utf8(http, runtime):
    body = b"payload=\xff\xfe"
    r = signed(http, body)
    assert r.status_code == 400
    assert r.json() == {"code": "encoding", "message": "the body must be encoded in UTF-8"}
    # The same bytes, signed with another secret: unsigned, so 401 (the encoding is not even looked at).
    ts = int(time.time())
    forged = {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sign("another-secret", "x", ts)}
    assert post(http, body, forged).status_code == 401
    assert written(runtime.engine) == (0, 0, 0)


def test_refusals_are_in_the_senders_language(http):
    r = post(http, b"x", {"Accept-Language": "fr"})
    assert r.json()["message"].startswith("requête non signée par Slack\u202f: X-Slack-Signature absente")
    r = signed(http, interactive_body({"type": "block_actions", "user": "U0CM00001"}), lang="fr")
    assert r.json()["message"] == "requête Slack mal formée (block_actions)\u202f: user n'a pas le bon type"


# --- signed, but not what Slack sends -----------------------------------------------------------------------


def _click(**changes) -> dict:
    payload = block_action(action_id=Action.claim.value, value="1", user=CM)
    payload.update(changes)
    return payload


def _without(payload: dict, *keys: str) -> dict:
    return {k: v for k, v in payload.items() if k not in keys}


def _view(**view) -> dict:
    return {"type": "view_submission", "user": {"id": CM}, "trigger_id": trigger_id(),
            "view": {"type": "modal", "callback_id": "draft_modal", "private_metadata": "{}", **view}}


def _event(event) -> str:
    return json.dumps({"type": "event_callback", "team_id": "T0TEAM0001", "event_id": "Ev0HOSTILE1", "event": event})


def _command(**form) -> str:
    base = {"command": "/vigie", "text": "aide", "user_id": CM, "channel_id": "C0GENERAL1",
            "trigger_id": trigger_id()}
    return urlencode({k: v for k, v in {**base, **form}.items() if v is not None})


# (form or JSON body, content type, expected status, code, field in the sentence)
FORM, JSON = "application/x-www-form-urlencoded", "application/json"
MALFORMED = {
    "payload not JSON": ("payload=%7Bnot+json", FORM, "json_syntax", None),
    "payload a list": (urlencode({"payload": "[1, 2]"}), FORM, "not_object", None),
    "payload a string": (urlencode({"payload": '"block_actions"'}), FORM, "not_object", None),
    "payload nested too deep": (urlencode({"payload": "[" * 100_000}), FORM, "json_depth", None),
    "payload with a huge number": (urlencode({"payload": '{"type": ' + "1" * 5000 + "}"}), FORM, "json_number",
                                   None),
    "JSON body a list": ("[]", JSON, "not_object", None),
    "JSON body nested too deep": ('{"a": ' * 1000 + "1" + "}" * 1000, JSON, "json_depth", None),
    "no user": (interactive_body(_without(_click(), "user")), FORM, "shape_missing", "user"),
    "user not an object": (interactive_body(_click(user="U0CM00001")), FORM, "shape_type", "user"),
    "user id not a string": (interactive_body(_click(user={"id": 42})), FORM, "shape_type", "user.id"),
    "actions not a list": (interactive_body(_click(actions={"action_id": "mention_claim"})), FORM, "shape_type",
                           "actions"),
    "actions empty": (interactive_body(_click(actions=[])), FORM, "shape_invalid", "actions"),
    "action without id": (interactive_body(_click(actions=[{"value": "1"}])), FORM, "shape_missing",
                          "actions.0.action_id"),
    "selected_option not an object": (interactive_body(_click(actions=[
        {"action_id": "mention_more", "selected_option": ["assign:1"]}])), FORM, "shape_type",
        "actions.0.selected_option"),
    "no trigger_id": (interactive_body(_without(_click(), "trigger_id")), FORM, "shape_missing", "trigger_id"),
    "channel a list": (interactive_body(_click(channel=["C0GENERAL1"])), FORM, "shape_type", "channel"),
    "team a number": (interactive_body(_click(team=7)), FORM, "shape_type", "team"),
    "authorizations not a list": (interactive_body(_click(authorizations={"team_id": "T"})), FORM, "shape_type",
                                  "authorizations"),
    "response_urls of strings": (interactive_body({**_view(), "response_urls": ["https://x"]}), FORM, "shape_type",
                                 "response_urls.0"),
    "view missing": (interactive_body(_without(_view(), "view")), FORM, "shape_missing", "view"),
    "view a string": (interactive_body({**_view(), "view": "draft_modal"}), FORM, "shape_type", "view"),
    "private_metadata not a string": (interactive_body(_view(private_metadata={"mention": 1})), FORM,
                                      "shape_type", "view.private_metadata"),
    "private_metadata nested too deep": (interactive_body(_view(private_metadata="[" * 3000)), FORM,
                                         "shape_invalid", "view.private_metadata"),
    "state values not objects": (interactive_body(_view(state={"values": {"text": "hello"}})), FORM,
                                 "shape_type", "view.state.values.text"),
    "view_closed without view": (interactive_body({"type": "view_closed", "user": {"id": CM}}), FORM,
                                 "shape_missing", "view"),
    "shortcut without channel": (interactive_body(_without(message_shortcut(), "channel")), FORM, "shape_missing",
                                 "channel"),
    "shortcut with a bad timestamp": (interactive_body({**message_shortcut(), "message_ts": "1e9"}), FORM,
                                      "shape_invalid", "message_ts"),
    "shortcut message text a number": (interactive_body({**message_shortcut(), "message": {
        "ts": "1763719200.000100", "text": 12}}), FORM, "shape_type", "message.text"),
    "global shortcut without user": (interactive_body({"type": "shortcut", "callback_id": "x",
                                                       "trigger_id": "1.2"}), FORM, "shape_missing", "user"),
    "legacy attachment action without actions": (interactive_body({"type": "interactive_message",
                                                                   "callback_id": "x", "user": {"id": CM}}),
                                                 FORM, "shape_missing", "actions"),
    "slash command without user_id": (_command(user_id=None), FORM, "shape_missing", "user_id"),
    "slash command with an empty user_id": (_command(user_id=""), FORM, "shape_invalid", "user_id"),
    "event without event": (json.dumps({"type": "event_callback", "event_id": "Ev1"}), JSON, "shape_missing",
                            "event"),
    "event not an object": (_event("app_home_opened"), JSON, "shape_type", "event"),
    "event without type": (_event({"user": CM}), JSON, "shape_missing", "event.type"),
    "app_home_opened without user": (_event({"type": "app_home_opened", "tab": "home"}), JSON, "shape_invalid",
                                     "event.user"),
    "event user a list": (_event({"type": "app_home_opened", "user": [CM]}), JSON, "shape_type", "event.user"),
    "url_verification without challenge": ('{"type": "url_verification"}', JSON, "shape_missing", "challenge"),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_signed_but_malformed_requests_are_400_with_a_sentence_and_change_nothing(http, runtime, slack, caplog,
                                                                                 case):
    caplog.set_level(logging.WARNING)
    body, content_type, code, field = MALFORMED[case]
    r = signed(http, body, content_type=content_type)
    assert r.status_code == 400, r.text
    answer = r.json()
    assert answer["code"] == code, answer
    if field is not None:
        assert f": {field} " in answer["message"], answer["message"]
    assert written(runtime.engine) == (0, 0, 0)  # not even the redelivery guard: no listener ran
    assert [c.method for c in slack.calls() if c.method != "auth.test"] == []  # auth.test: at start-up
    assert [rec.getMessage() for rec in caplog.records if rec.levelno >= logging.WARNING] == []


def test_every_refusal_has_its_sentence_in_both_languages():
    from bot.i18n import LANGUAGES, catalogue

    codes = {"signature", "encoding", "not_object", "body_too_large"} | {
        code for _body, _type, code, _field in MALFORMED.values()}
    assert {"json_syntax", "json_depth", "json_number", "shape_missing", "shape_type", "shape_invalid"} <= codes
    for lang in LANGUAGES:
        assert {f"slack.refused.{code}" for code in codes} - set(catalogue(lang)) == set()


# --- what Slack really sends still passes -------------------------------------------------------------------


def _filled(payload: dict) -> dict:
    """A java-slack-sdk sample with its placeholder ids filled as Slack fills them (its values are "" and 123)."""
    payload = copy.deepcopy(payload)
    for key, value in (("user", {"id": CM}), ("channel", {"id": "C0GENERAL1"})):
        if isinstance(payload.get(key), dict):
            payload[key] = {**payload[key], **value}
    if "trigger_id" in payload:
        payload["trigger_id"] = trigger_id()
    if payload.get("type") == "message_action":
        payload["message_ts"] = "1763719200.000100"
    if isinstance(payload.get("event"), dict) and payload["event"].get("type") == "app_home_opened":
        payload["event"]["user"] = CM
    if "command" in payload:
        payload["user_id"] = CM
    return payload


def test_every_java_slack_sdk_sample_passes_the_gate_as_bolt_would_parse_it():
    slackspec.require_spec()
    gate = SlackGate(SIGNING_SECRET)
    samples = slackspec.java_sample("app-backend/*/*.json") + slackspec.java_sample("events/*.json")
    assert len(samples) > 100
    for sample in samples:
        payload = _filled(sample)
        if "command" in payload:
            text, content_type = urlencode({k: str(v).lower() if isinstance(v, bool) else v
                                            for k, v in payload.items()}), FORM
        elif payload.get("type") in (None, "event_callback", "app_rate_limited") or "event" in payload:
            text, content_type = json.dumps(payload), JSON
        else:
            text, content_type = interactive_body(payload), FORM
        ts = int(time.time())
        checked = gate.check(text.encode(), {"content-type": content_type, "x-slack-request-timestamp": str(ts),
                                             "x-slack-signature": sign(SIGNING_SECRET, text, ts)})
        assert isinstance(checked, tuple), (payload.get("type"), payload.get("event", {}).get("type"), checked)
        assert checked[1] == parse_body(text, content_type)  # exactly what Bolt will dispatch


def test_slacks_url_check_and_ssl_check_are_answered(http):
    r = signed(http, json.dumps({"token": "t", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                                 "type": "url_verification"}), content_type=JSON)
    assert r.status_code == 200 and r.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    assert signed(http, "ssl_check=1&token=legacy-verification-token").status_code == 200
    assert post(http, b"ssl_check=1&token=legacy-verification-token", {}).status_code == 401  # signed, like all


def test_the_parser_agrees_with_bolts_except_on_its_payload_quirk():
    form = urlencode({"command": "/vigie", "text": "escalader 12 payload manquant", "user_id": CM})
    assert parse_body(form, FORM) == {}  # Bolt's: the word "payload" made it look for a payload field
    assert parse_like_bolt(form, FORM)["text"] == "escalader 12 payload manquant"
    for body in (interactive_body({"type": "block_actions", "n": [1]}), '{"type": "event_callback"}', "a=1&b=",
                 ""):
        assert parse_like_bolt(body, FORM) == parse_body(body, FORM)


def test_a_command_that_says_payload_is_answered(http, runtime):
    r = signed(http, _command(text="aide payload"))
    assert r.status_code == 200 and "/vigie" in r.json()["text"]


def test_json_nesting_below_the_limit_is_fine(http, runtime):
    # The limit is far above any real payload (the deepest java-slack-sdk sample nests 9 levels).
    deep = {"type": "event_callback", "event_id": "Ev0DEEP0001",
            "event": {"type": "app_home_opened", "user": CM, "tab": "home", "x": {}}}
    node = deep["event"]["x"]
    for _ in range(MAX_JSON_DEPTH - 4):
        node["x"] = {}
        node = node["x"]
    r = signed(http, json.dumps(deep), content_type=JSON)
    assert r.status_code == 200, r.text


# --- replayed slash commands ------------------------------------------------------------------------------


def test_a_replayed_slash_command_runs_once_and_the_replay_gets_an_empty_answer(clocked):  # noqa: F811
    mid = clocked.intake("Un procès est annoncé", 1)
    body = _command(text=f"escalader {mid} urgent", user_id=CM1, channel_id="C0LEGAL001")

    def send():
        r = post(clocked.http, body, signed_headers(SIGNING_SECRET, body))  # a fresh timestamp each time
        assert r.status_code == 200, r.text
        drain_frozen(clocked)
        return r

    def escalations() -> int:
        with Session(clocked.runtime.engine) as s:
            return len(s.exec(select(Reminder).where(Reminder.mention_id == mid, Reminder.stage == "manual")).all())

    first = send()
    assert first.json()["text"] and escalations() == 1
    posted = len(clocked.slack.calls("chat.postMessage"))
    # Two minutes later, inside the 5-minute signature window: without the guard this escalates again (a new
    # minute, a new escalation key).
    clocked.clock.advance(minutes=2)
    replay = send()
    assert replay.content == b""
    assert escalations() == 1 and len(clocked.slack.calls("chat.postMessage")) == posted
    # A new command (Slack gives each its own trigger_id) by the same person is work again.
    other = _command(text=f"escalader {mid} encore", user_id=CM1, channel_id="C0LEGAL001")
    r = post(clocked.http, other, signed_headers(SIGNING_SECRET, other))
    assert r.status_code == 200 and r.json()["text"]
    drain_frozen(clocked)
    assert escalations() == 2


def drain_frozen(desk: Clocked) -> None:
    drain(desk.runtime, frozen=True)
