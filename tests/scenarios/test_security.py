"""Security, proved on the running app: request signatures, intake tokens, secrets kept out of logs, who may
do what (whatever a crafted payload claims), and an audit trail the application cannot edit."""

from __future__ import annotations

import hmac
import io
import json
import logging
import time
from urllib.parse import urlencode

import pytest
import structlog
from sqlalchemy import delete, func, text, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from bot import logs
from bot.slack.ids import Action, View
from bot.slack.views import modals
from bot.store.audit import AuditTrailImmutable, install_database_guard, remove_database_guard
from bot.store.models import AuditEvent, Crisis, Draft, Mention, OncallOverride, Reminder, ReviewDecision
from tests import slackspec
from tests.conftest import (
    AUTH,
    BOT_TOKEN,
    INTAKE_TOKEN,
    SIGNING_SECRET,
    TEST_PROTOCOL,
    drain,
    make_settings,
    mention,
)
from tests.slack_requests import block_action, interactive_body, sign, signed_headers, view_submission

# --- request signatures ------------------------------------------------------------------------------------


def _vector() -> dict:
    slackspec.require_spec()
    return json.loads((slackspec.SPEC_DIR / "derived" / "signing_test_vector.json").read_text())


def test_the_app_checks_signatures_like_slacks_published_example(http):
    vector = _vector()
    # The suite's signing secret is the one of Slack's worked example, so the real app can be fed the vector.
    assert vector["signing_secret"] == SIGNING_SECRET
    body, ts = vector["body"], int(vector["x_slack_request_timestamp"])
    assert sign(SIGNING_SECRET, body, ts) == vector["x_slack_signature"]
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": str(ts),
               "X-Slack-Signature": vector["x_slack_signature"]}
    # Slack's example is from 2018: its signature is right, but it is outside the 5-minute window.
    assert http.post("/slack/events", content=body, headers=headers).status_code == 401
    # The same request signed now passes the check: Bolt then says it has no listener for /webhook-collect.
    r = http.post("/slack/events", content=body, headers=signed_headers(SIGNING_SECRET, body))
    assert r.status_code == 404 and "unhandled" in r.text
    # And with our own command in it, it is answered.
    ours = body.replace("command=%2Fwebhook-collect", "command=%2Fvigie")
    r = http.post("/slack/events", content=ours, headers=signed_headers(SIGNING_SECRET, ours))
    assert r.status_code == 200 and r.json()["text"]


@pytest.mark.parametrize(("age", "accepted"), [(0, True), (290, True), (-290, True), (310, False), (-310, False),
                                              (10**6, False)])
def test_requests_outside_the_five_minute_window_are_refused(http, age, accepted):
    body = urlencode({"command": "/vigie", "text": "aide", "user_id": "U0CM00001", "channel_id": "C0GENERAL1",
                      "team_id": "T0TEAM0001", "trigger_id": "1.2.3"})
    r = http.post("/slack/events", content=body,
                  headers=signed_headers(SIGNING_SECRET, body, timestamp=int(time.time()) - age))
    assert (r.status_code == 200) is accepted


@pytest.mark.parametrize("tamper", ["body", "signature", "secret", "missing", "version"])
def test_tampered_requests_are_refused(http, runtime, tamper):
    payload = block_action(action_id=Action.claim.value, value="1", user="U0CM00001")
    body = interactive_body(payload)
    headers = signed_headers(SIGNING_SECRET, body)
    if tamper == "body":  # someone changes who clicked, keeping the signature
        body = body.replace("U0CM00001", "U0DM00001")
    elif tamper == "signature":
        good = headers["X-Slack-Signature"]
        headers["X-Slack-Signature"] = good[:-1] + ("1" if good.endswith("0") else "0")
    elif tamper == "secret":
        headers = signed_headers("another-apps-signing-secret", body)
    elif tamper == "missing":
        del headers["X-Slack-Signature"]
    else:
        headers["X-Slack-Signature"] = "v1=" + headers["X-Slack-Signature"][3:]
    assert http.post("/slack/events", content=body, headers=headers).status_code == 401


# --- intake tokens -----------------------------------------------------------------------------------------


def test_intake_tokens_are_compared_in_constant_time_against_every_token(engine, slack, database_url, monkeypatch):
    """Every configured token is compared with hmac.compare_digest, whichever matches (or none): the time taken
    says nothing about which token was nearly right. (Observed, not replaced: the real function runs.)"""
    from fastapi.testclient import TestClient

    from bot.app import build_runtime
    from bot.http import build_http_app

    second = "rotation-token-fedcba9876543210"
    rt = build_runtime(make_settings(database_url, slack.url, VIGIE_INTAKE_TOKENS=f"{INTAKE_TOKEN},{second}"))
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def observed(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", observed)
    try:
        with TestClient(build_http_app(rt)) as client:
            for given, status in ((INTAKE_TOKEN, 202), (second, 202), (INTAKE_TOKEN[:-1] + "x", 401), ("x", 401)):
                compared.clear()
                r = client.post("/intake/mentions", json=mention(hash(given) % 1000),
                                headers={"Authorization": f"Bearer {given}"})
                assert r.status_code == status
                assert sorted(b for _, b in compared) == sorted([INTAKE_TOKEN.encode(), second.encode()])
    finally:
        rt.stop()
        rt.engine.dispose()


# --- no secret in logs -------------------------------------------------------------------------------------

def _fragments(secret: str) -> set[str]:
    """The secret, and any 12-character piece of its random part (prefixes like xoxb- are not secret)."""
    core = secret.split("-", 1)[1] if secret.startswith(("xoxb-", "xapp-")) else secret
    return {secret} | {core[i:i + 12] for i in range(max(len(core) - 11, 1))}


def test_a_full_scenario_writes_no_secret_to_the_logs(engine, slack, database_url, tmp_path, capsys):
    """Intake, relay, claim, draft, approvals, publication by webhook, a failing Slack call, a bad signature and
    a bad token, logged at DEBUG through the real configuration (structlog + stdlib): no secret appears."""
    from fastapi.testclient import TestClient

    from bot.app import build_runtime
    from bot.http import build_http_app
    from tests.usecases.test_publishing import SECRET as WEBHOOK_SECRET
    from tests.usecases.test_publishing import Receiver  # the company's endpoint; it checks Vigie's signature

    app_token = "xapp-1-A0VIGIE001-1234567890-abcdefabcdef0123456789"
    second_intake = "rotation-token-fedcba9876543210"
    secrets = [BOT_TOKEN, app_token, SIGNING_SECRET, INTAKE_TOKEN, second_intake, WEBHOOK_SECRET]
    receiver = Receiver()
    protocol = tmp_path / "protocol.yaml"
    protocol.write_text(TEST_PROTOCOL.read_text() + f"publishing:\n  mode: webhook\n  webhook_url: {receiver.url}\n")
    (tmp_path / "roster.csv").write_text((TEST_PROTOCOL.parent / "roster.csv").read_text())

    stream = io.StringIO()
    root = logging.getLogger()
    old_handlers, old_level = root.handlers[:], root.level
    logs.configure("DEBUG", "json")
    handler = logging.StreamHandler(stream)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    rt = build_runtime(make_settings(database_url, slack.url, SLACK_APP_TOKEN=app_token,
                                     VIGIE_INTAKE_TOKENS=f"{INTAKE_TOKEN},{second_intake}",
                                     VIGIE_PUBLISH_WEBHOOK_SECRET=WEBHOOK_SECRET, VIGIE_PROTOCOL_FILE=str(protocol)))
    rt.start()
    try:
        with TestClient(build_http_app(rt)) as http:
            def send(payload):
                body = interactive_body(payload)
                assert http.post("/slack/events", content=body,
                                 headers=signed_headers(SIGNING_SECRET, body)).status_code == 200
                drain(rt)

            r = http.post("/intake/mentions", headers={"Authorization": f"Bearer {second_intake}"},
                          json=mention(1, text="Un avocat annonce un procès contre la marque"))
            mid = r.json()["mentions"][0]["id"]
            drain(rt)
            send(block_action(action_id=Action.claim.value, value=str(mid), user="U0LEG0002", channel="C0LEGAL001"))
            view = modals.draft_modal(mention_id=mid, networks=["x"], lang="fr")
            send(view_submission(view, user="U0LEG0002", values={
                "text": "Merci pour votre message. Nous ne commentons pas une procédure en cours.",
                "network": "x", "language": "fr", "label": "public"}))
            with Session(rt.engine) as s:
                draft_id = s.exec(select(Draft.id).where(Draft.mention_id == mid)).one()
            for approver in ("U0CM00001", "U0LEG0001"):
                send(block_action(action_id=Action.approve.value, value=str(draft_id), user=approver,
                                  channel="C0LEGAL001"))
            deadline = time.monotonic() + 10
            while not receiver.received and time.monotonic() < deadline:
                rt.worker.wake()
                time.sleep(0.05)
            assert receiver.received, "the reply was not published by webhook"
            drain(rt)
            # A failing Slack call (the token revoked), a bad signature, a bad intake token.
            slack.fail_next("chat.postMessage", error="invalid_auth")
            http.post("/intake/mentions", headers=AUTH, json=mention(2))
            deadline = time.monotonic() + 10  # the outbox holds such a delivery for a person: no drain
            while "invalid_auth" not in stream.getvalue() and time.monotonic() < deadline:
                rt.worker.wake()
                time.sleep(0.05)
            body = interactive_body(block_action(action_id=Action.claim.value, value=str(mid), user="U0CM00001"))
            bad = signed_headers("not-the-signing-secret", body)
            assert http.post("/slack/events", content=body, headers=bad).status_code == 401
            assert http.post("/intake/mentions", json=mention(3),
                             headers={"Authorization": f"Bearer {INTAKE_TOKEN[:-2]}zz"}).status_code == 401
    finally:
        rt.stop()
        rt.engine.dispose()
        receiver.server.shutdown()
        root.removeHandler(handler)
        root.handlers[:] = old_handlers
        root.setLevel(old_level)
        structlog.reset_defaults()

    output = stream.getvalue() + "".join(capsys.readouterr())
    assert len(output.splitlines()) > 20, "the scenario should have logged something to search"
    assert "invalid_auth" in output  # the failing Slack call was logged (by its error code)
    for secret in secrets:
        leaked = sorted(f for f in _fragments(secret) if f in output)
        assert leaked == [], f"a piece of a secret is in the logs: {leaked[:3]}"


# --- permissions -------------------------------------------------------------------------------------------

CM, CM2, DM = "U0CM00002", "U0CM00001", "U0DM00001"  # CM2 also leads the general team
LEGAL_LEAD, LEGAL_EXPERT, NEWBIE = "U0LEG0001", "U0LEG0002", "U0NEWBIE1"
FIN_LEAD, FIN_EXPERT, STRANGER = "U0FIN0001", "U0FIN0002", "U0STRANGE1"
ROLES = {"cm": CM, "decision_maker": DM, "legal_lead": LEGAL_LEAD, "legal_expert": LEGAL_EXPERT,
         "double_command": NEWBIE, "finance_lead": FIN_LEAD, "finance_expert": FIN_EXPERT, "stranger": STRANGER}
AUTHOR = LEGAL_EXPERT  # writes the drafts in the table below (so never approves them)

# Who may do each action on a legal mention (low severity: a community manager and someone from legal
# approve). Written from the README's rules, not from the code.
ALLOWED = {
    "claim": {"cm", "legal_lead", "legal_expert", "double_command"},
    "draft": {"cm", "legal_lead", "legal_expert", "double_command"},
    "assign": {"cm", "legal_lead"},
    "reroute": {"cm", "legal_lead"},
    "dismiss": {"cm", "legal_lead"},
    "holding": {"cm"},
    "approve": {"cm", "legal_lead", "double_command"},  # a reviewer with a required role, not the author
    "request_changes": {"cm", "legal_lead", "double_command"},
    "reject": {"cm", "legal_lead", "double_command"},
    "publish": {"cm"},
    "declare_crisis": {"cm", "decision_maker"},
    "end_crisis": {"cm", "decision_maker"},
    "oncall_take": {"cm", "decision_maker"},
    "escalate": {"cm", "legal_lead", "legal_expert", "double_command"},
}


def _view(callback: View, meta: dict, inputs: dict[str, str]) -> dict:
    """A modal as the bot opens it: one input block per value (the handlers read `state`, never the blocks)."""
    blocks = []
    for block_id, kind in inputs.items():
        element = {"type": kind, "action_id": "value"}
        if kind == "static_select":
            element["options"] = []
        blocks.append({"type": "input", "block_id": block_id, "label": {"type": "plain_text", "text": "x"},
                       "element": element})
    # A crafted extra: someone else's id in the metadata must not change who acts.
    return {"type": "modal", "callback_id": callback.value, "blocks": blocks,
            "private_metadata": json.dumps({**meta, "user": CM, "actor": CM, "team": "legal"})}


def _submit(callback: View, meta: dict, values: dict[str, str], user: str) -> dict:
    inputs = {k: ("users_select" if k == "user" else "plain_text_input") for k in values}
    return view_submission(_view(callback, meta, inputs), user=user, values=values)


def _click(action: Action, value: str, user: str) -> dict:
    payload = block_action(action_id=action.value, value=value, user=user, channel="C0LEGAL001")
    payload["actions"][0]["user"] = CM  # crafted: a forged "user" next to the value is ignored
    payload["message"]["user"] = CM
    return payload


def _slash(text: str, user: str) -> str:
    return urlencode({"command": "/vigie", "text": text, "user_id": user, "channel_id": "C0LEGAL001",
                      "team_id": "T0TEAM0001", "trigger_id": f"1.{time.monotonic_ns()}"})


def _state(engine) -> dict:
    with Session(engine) as s:
        return {
            "mentions": [(m.id, m.state, m.owner, m.team) for m in s.exec(select(Mention).order_by(Mention.id))],
            "drafts": [(d.id, d.state, d.version) for d in s.exec(select(Draft).order_by(Draft.id))],
            "reviews": s.exec(select(func.count()).select_from(ReviewDecision)).one(),
            "audit": s.exec(select(func.count()).select_from(AuditEvent)
                            .where(~AuditEvent.action.startswith("refused."))).one(),
            "crises": [(c.id, c.ended_at is None) for c in s.exec(select(Crisis))],
            "oncall": s.exec(select(func.count()).select_from(OncallOverride)).one(),
            "reminders": s.exec(select(func.count()).select_from(Reminder)).one(),
        }


@pytest.fixture
def desk(http, slack, runtime):
    for user in ROLES.values():
        slack.add_user(user, name=user, locale="fr-FR")
    counter = iter(range(1, 10**6))
    w = runtime.workflow

    def new_mention() -> int:
        r = http.post("/intake/mentions", headers=AUTH,
                      json=mention(next(counter) + 5000, text="Un avocat annonce un procès contre la marque"))
        mid = r.json()["mentions"][0]["id"]
        drain(runtime)
        return mid

    def with_draft(approved: bool = False) -> tuple[int, int]:
        mid = new_mention()
        assert w.claim(mention_id=mid, actor=AUTHOR).ok
        assert w.submit_draft(mention_id=mid, actor=AUTHOR, text="Merci pour votre message, nous regardons.",
                              network="x", language="fr", label="public").ok
        with Session(runtime.engine) as s:
            draft_id = s.exec(select(Draft.id).where(Draft.mention_id == mid)).one()
        if approved:
            for approver in (CM2, LEGAL_LEAD):
                assert w.review(draft_id=draft_id, actor=approver, kind="approve").ok
        drain(runtime)
        return mid, draft_id

    return new_mention, with_draft


def _request(action: str, user: str, new_mention, with_draft, runtime) -> tuple[str, object]:
    """Prepare the stored state the action needs, and return the signed request a person would send."""
    if action in ("claim", "draft", "assign", "reroute", "dismiss", "holding", "escalate"):
        mid = new_mention()
        return "slash" if action == "escalate" else "interactive", {
            "claim": lambda: _click(Action.claim, str(mid), user),
            "draft": lambda: _submit(View.draft, {"mention": mid}, {"text": "Merci pour votre message.",
                                                                    "network": "x", "language": "fr",
                                                                    "label": "public"}, user),
            "assign": lambda: _submit(View.assign, {"mention": mid}, {"user": FIN_EXPERT}, user),
            "reroute": lambda: _submit(View.reroute, {"mention": mid}, {"team": "finance"}, user),
            "dismiss": lambda: _submit(View.dismiss, {"mention": mid}, {"reason": "hors sujet"}, user),
            "holding": lambda: _submit(View.holding, {"mention": mid}, {"statement": "on-regarde"}, user),
            "escalate": lambda: _slash(f"escalader {mid} urgent", user),
        }[action]()
    if action in ("approve", "request_changes", "reject", "publish"):
        _, draft_id = with_draft(approved=action == "publish")
        return "interactive", {
            "approve": lambda: _click(Action.approve, str(draft_id), user),
            "request_changes": lambda: _submit(View.request_changes, {"draft": draft_id}, {"reason": "à revoir"},
                                               user),
            "reject": lambda: _submit(View.reject, {"draft": draft_id}, {"reason": "non"}, user),
            "publish": lambda: _submit(View.publish, {"draft": draft_id}, {"url": "https://x.example/1"}, user),
        }[action]()
    if action == "declare_crisis":
        return "interactive", _click(Action.declare_crisis, "", user)
    if action == "end_crisis":
        assert runtime.crisis.active() is None
        runtime.crisis.declare(by=DM, reason="test", lang="fr")
        drain(runtime)
        return "slash", _slash("crise fin", user)
    if action == "oncall_take":
        return "slash", _slash("astreinte prendre weekend", user)
    raise AssertionError(action)


@pytest.mark.parametrize("role", sorted(ROLES))
@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_every_action_is_refused_on_the_server_to_every_role_the_protocol_does_not_allow(
        desk, http, slack, runtime, action, role):
    new_mention, with_draft = desk
    user = ROLES[role]
    kind, request = _request(action, user, new_mention, with_draft, runtime)
    before = _state(runtime.engine)
    if kind == "slash":
        r = http.post("/slack/events", content=request, headers=signed_headers(SIGNING_SECRET, request))
    else:
        body = interactive_body(request)
        r = http.post("/slack/events", content=body, headers=signed_headers(SIGNING_SECRET, body))
    assert r.status_code == 200
    drain(runtime)
    after = _state(runtime.engine)
    if role in ALLOWED[action]:
        assert after != before, f"{role} should be allowed to {action}"
    else:
        assert after == before, f"{role} must not be able to {action}"
        # ...and is told so, privately (an ephemeral, a modal error, or the slash command's answer).
        told = [c for c in slack.calls("chat.postEphemeral") if c.args["user"] == user]
        answered = r.content and (r.json().get("errors") or r.json().get("text"))
        assert told or answered, f"{role} was refused {action} without a word"
        # ...and the refused attempt is in the audit trail, with who tried and why it was refused.
        with Session(runtime.engine) as s:
            refused = s.exec(select(AuditEvent).where(AuditEvent.action.startswith("refused."))).all()
        assert [(e.actor, bool(e.reason)) for e in refused] == [(user, True)], f"{role}/{action}: {refused}"


# --- the audit trail ---------------------------------------------------------------------------------------


def test_the_application_cannot_edit_or_delete_audit_events(http, runtime):
    r = http.post("/intake/mentions", headers=AUTH, json=mention(1))
    assert r.status_code == 202
    drain(runtime)
    with Session(runtime.engine) as s:
        event = s.exec(select(AuditEvent)).first()
        assert event is not None
        event_id, original = event.id, (event.actor, event.action, event.reason)
    attempts = [
        lambda s: (setattr(s.get(AuditEvent, event_id), "actor", "someone-else"), s.commit()),
        lambda s: (s.delete(s.get(AuditEvent, event_id)), s.commit()),
        lambda s: s.exec(update(AuditEvent).where(AuditEvent.id == event_id).values(reason="rewritten")),
        lambda s: s.exec(delete(AuditEvent).where(AuditEvent.id == event_id)),
        lambda s: s.execute(update(AuditEvent).values(actor="x")),
    ]
    for attempt in attempts:
        with Session(runtime.engine) as s, pytest.raises(AuditTrailImmutable):
            attempt(s)
    with Session(runtime.engine) as s:
        event = s.get(AuditEvent, event_id)
        assert (event.actor, event.action, event.reason) == original


def test_the_database_itself_refuses_to_edit_audit_events(http, runtime):
    """The guard the migration installs (bot/store/migrations/versions/0007_audit_guard.py.pending): raw SQL through
    any connection is refused, and adding events still works."""
    assert http.post("/intake/mentions", headers=AUTH, json=mention(1)).status_code == 202
    drain(runtime)
    with runtime.engine.begin() as conn:
        install_database_guard(conn)
        install_database_guard(conn)  # twice is harmless (start-up and migrations may both run it)
    try:
        for statement in ("UPDATE auditevent SET actor = 'x'", "DELETE FROM auditevent"):
            with pytest.raises(DBAPIError, match="append-only"), runtime.engine.begin() as conn:
                conn.execute(text(statement))
        assert http.post("/intake/mentions", headers=AUTH, json=mention(2)).status_code == 202
        drain(runtime)
        with Session(runtime.engine) as s:
            assert s.exec(select(func.count()).select_from(AuditEvent)).one() >= 2
    finally:
        with runtime.engine.begin() as conn:  # the suite empties tables between tests
            remove_database_guard(conn)
