"""Slack payloads carrying every field Slack may send (java-slack-sdk's field-complete samples), signed and
posted through the real Bolt app: nothing fails, ids we do not know are ignored, and nothing is written.

Also: bodies over the limit are refused on the Slack endpoint before they are read to the end.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from urllib.parse import urlencode

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from bot.http import SLACK_MAX_BODY, build_http_app
from bot.slack.ids import Action, Command, Shortcut, View
from bot.store.models import AuditEvent, Draft, Mention
from tests import slackspec
from tests.conftest import SIGNING_SECRET, drain
from tests.slack_requests import interactive_body, signed_headers

CM = "U0CM00001"  # a community manager: every permission passes, so only the unknown ids stop the action
TEAM = {"id": "T0TEAM0001", "domain": "acme"}
USER = {"id": CM, "username": "cm", "name": "cm", "team_id": "T0TEAM0001"}
CHANNEL = {"id": "C0GENERAL1", "name": "general"}
# Values a forged or stale click may carry: ids that do not exist, and things that are not ids at all.
ODD_VALUES = ["999999", "0", "-1", "", "abc", "1e9", "１２", "<!channel>", "12" * 40]
ODD_METADATA = ["", "not json", "[]", "null", '{"mention": 999999}', '{"draft": 999999}', '{"mention": "1"}',
                '{"mention": 1.5}', '{"mention": true}', '{"draft": [1]}']


@pytest.fixture(autouse=True)
def _spec():
    slackspec.require_spec()


def sample(path: str) -> dict:
    [payload] = slackspec.java_sample(path)
    return payload


def counts(engine) -> tuple[int, int, int]:
    """Mentions, drafts and audit events (refused attempts are recorded too, and counted apart: `refusals`)."""
    with Session(engine) as s:
        return (s.exec(select(func.count()).select_from(Mention)).one(),
                s.exec(select(func.count()).select_from(Draft)).one(),
                s.exec(select(func.count()).select_from(AuditEvent)
                       .where(~AuditEvent.action.startswith("refused."))).one())


def refusals(engine) -> list[tuple[str, str]]:
    with Session(engine) as s:
        return [(e.actor, e.action) for e in s.exec(select(AuditEvent).where(AuditEvent.action.startswith("refused.")))]


def post_interactive(http, payload: dict):
    body = interactive_body(payload)
    return http.post("/slack/events", content=body, headers=signed_headers(SIGNING_SECRET, body))


def post_json(http, envelope: dict):
    body = json.dumps(envelope)
    return http.post("/slack/events", content=body,
                     headers=signed_headers(SIGNING_SECRET, body, content_type="application/json"))


def errors_logged(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def block_actions() -> list[dict]:
    base = sample("app-backend/interactive-components/BlockActionPayload.json")
    out = []
    # The crisis button carries no id (a community manager clicking it does declare a crisis): it is in the
    # permission table of test_security.py instead.
    for action_id in [*(a for a in Action if a is not Action.declare_crisis), "unknown_action"]:
        for value in ODD_VALUES:
            p = copy.deepcopy(base)
            p.update(type="block_actions", team=TEAM, user=USER, channel=CHANNEL, trigger_id="123.456.abc")
            p["container"].update(channel_id=CHANNEL["id"], message_ts="1763719200.000100")
            p["actions"] = [{**p["actions"][0], "action_id": str(action_id), "value": value, "type": "button",
                             "selected_option": {**p["actions"][0]["selected_option"], "value": f"assign:{value}"}}]
            out.append(p)
    return out


def view_submissions() -> list[dict]:
    base = sample("app-backend/views/ViewSubmissionPayload.json")
    out = []
    for callback in [*View, "unknown_view"]:
        for meta in ODD_METADATA:
            for values in ({}, {b: {"value": {"type": "plain_text_input", "value": "texte"}}
                                for b in ("text", "reason", "team", "user", "statement", "url")}):
                p = copy.deepcopy(base)
                p.update(type="view_submission", team=TEAM, user=USER, trigger_id="123.456.abc")
                p["view"].update(callback_id=str(callback), private_metadata=meta, type="modal",
                                 state={"values": values})
                out.append(p)
    return out


def shortcuts() -> list[dict]:
    base = sample("app-backend/interactive-components/MessageShortcutPayload.json")
    out = []
    for callback in [*Shortcut, "unknown_shortcut"]:
        for thread_ts in ("", "1763719200.000100", "not-a-ts"):
            p = copy.deepcopy(base)
            p.update(type="message_action", callback_id=str(callback), team=TEAM, user=USER, channel=CHANNEL,
                     trigger_id="123.456.abc", message_ts="1763719200.000100")
            p["message"].update(ts="1763719200.000100", thread_ts=thread_ts, user="U0SOMEONE1", text="<!channel>")
            out.append(p)
    return out


def test_every_interactive_shape_is_handled_and_unknown_ids_change_nothing(http, runtime, slack, caplog):
    caplog.set_level(logging.WARNING)
    before = counts(runtime.engine)
    payloads = block_actions() + view_submissions() + shortcuts()
    for i, payload in enumerate(payloads):
        payload["trigger_id"] = f"123.{i}.abc"  # each one a new click (a repeated trigger is a redelivery)
        r = post_interactive(http, payload)
        # Our own ids are acknowledged (200); anything else is Bolt's "unhandled" (404), never a failure.
        ours = {*Action, *View, *Shortcut}
        kind_id = payload["actions"][0]["action_id"] if payload["type"] == "block_actions" else \
            payload["view"]["callback_id"] if payload["type"] == "view_submission" else payload["callback_id"]
        assert r.status_code == (200 if kind_id in ours else 404), (i, payload["type"], kind_id, r.status_code, r.text)
    drain(runtime)
    assert errors_logged(caplog) == []
    # The one thing that may be written: flagging the (one) sample message makes one mention, with its audit
    # event, however many times and shapes it came in. Nothing else changed.
    mentions, drafts, events = before
    assert counts(runtime.engine) == (mentions + 1, drafts, events + 1)
    # Every refused attempt is in the audit trail, under the user Slack signed for.
    assert refusals(runtime.engine) and {actor for actor, _ in refusals(runtime.engine)} == {CM}
    # Apart from that mention's card, nothing was posted in a channel: only private answers to the clicker.
    posted = slack.calls("chat.postMessage")
    assert len(posted) == 1 and slack.calls("chat.update") == [], [(c.args.get("channel"), c.args.get("text")) for c in posted]
    assert all(c.args["user"] == CM for c in slack.calls("chat.postEphemeral"))


def test_view_closed_and_legacy_shapes_are_refused_quietly(http, runtime, caplog):
    caplog.set_level(logging.WARNING)
    before = counts(runtime.engine)
    closed = sample("app-backend/views/ViewClosedPayload.json")
    closed.update(type="view_closed", team=TEAM, user=USER)
    closed["view"].update(callback_id=View.draft.value, private_metadata='{"mention": 1}')
    legacy = [sample(f"app-backend/{p}.json") for p in ("dialogs/DialogSubmissionPayload",
                                                       "dialogs/DialogCancellationPayload",
                                                       "dialogs/DialogSuggestionPayload",
                                                       "interactive-components/AttachmentActionPayload")]
    for payload in [closed, *legacy]:
        payload.update(team=TEAM, user=USER, channel=CHANNEL)
        r = post_interactive(http, payload)
        assert r.status_code < 500, (payload["type"], r.status_code)
    drain(runtime)
    assert errors_logged(caplog) == []
    assert counts(runtime.engine) == before


def test_slash_command_with_every_field(http, runtime, caplog):
    caplog.set_level(logging.WARNING)
    base = sample("app-backend/slash-commands/SlashCommandPayload.json")
    for text in ("", "aide", "help", "voir 999999", "show abc", "voir 99999999999999999999", "escalate 4294967296", "attribuer 999999 <@U0FIN0002|x>",
                 "escalader 999999", "crise fin", "astreinte échanger <@U0NOBODY1>", "<!channel>", "\u202e" * 50,
                 "x" * 4000):
        form = {**base, "command": Command.vigie.value, "text": text, "user_id": CM, "channel_id": "C0GENERAL1",
                "team_id": "T0TEAM0001", "is_enterprise_install": "false"}
        body = urlencode(form)
        r = http.post("/slack/events", content=body, headers=signed_headers(SIGNING_SECRET, body))
        assert r.status_code == 200, (text, r.status_code)
        assert r.json().get("text"), text  # always an answer, even to nonsense
    assert errors_logged(caplog) == []


def test_every_event_sample_is_acknowledged_without_failure(http, runtime, slack, caplog):
    caplog.set_level(logging.WARNING)
    before = counts(runtime.engine)
    samples = slackspec.java_sample("events/*.json")
    assert len(samples) > 90
    for i, envelope in enumerate(samples):
        envelope = copy.deepcopy(envelope)
        envelope.update(type="event_callback", team_id="T0TEAM0001", api_app_id="A0VIGIE001", event_id=f"Ev{i:06d}")
        event = envelope["event"]
        for key in ("user", "channel"):
            if event.get(key) == "":
                event[key] = CM if key == "user" else "C0GENERAL1"
        r = post_json(http, envelope)
        assert r.status_code < 500, (event.get("type"), r.status_code)
        if event.get("type") == "app_home_opened":
            assert r.status_code == 200
    drain(runtime)
    assert errors_logged(caplog) == []
    assert counts(runtime.engine)[:2] == before[:2]


# --- bodies over the limit ---------------------------------------------------------------------------------


def _asgi_post(app, path: str, chunks: list[bytes], headers: dict[str, str]) -> tuple[int, int]:
    """POST `chunks` straight to the ASGI app (no client buffering); return (status, chunks it pulled)."""
    pulled = 0
    sent: list[dict] = []

    async def receive():
        nonlocal pulled
        if pulled < len(chunks):
            pulled += 1
            return {"type": "http.request", "body": chunks[pulled - 1], "more_body": pulled < len(chunks)}
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 1), "server": ("testserver", 80)}
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], pulled


@pytest.mark.parametrize("path", ["/slack/events", "/intake/mentions"])
def test_bodies_over_the_limit_are_refused_before_the_end(runtime, path):
    app = build_http_app(runtime)
    chunk = b"x" * 65536
    chunks = [chunk] * (4 * SLACK_MAX_BODY // len(chunk))  # 4 MiB, over both limits, sent without a length
    headers = {"content-type": "application/x-www-form-urlencoded", "authorization": "Bearer intake-secret-0123456789abcdef"}
    status, pulled = _asgi_post(app, path, chunks, headers)
    assert status == 413
    assert pulled < len(chunks)  # refused as soon as the limit was crossed, the rest never read
    # With a declared Content-Length over the limit, nothing of the body is read at all.
    status, pulled = _asgi_post(app, path, chunks, {**headers, "content-length": str(len(chunks) * len(chunk))})
    assert (status, pulled) == (413, 0)
