"""Publishing through the webhook, holding statements, the draft shortcut and crafted payloads."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from bot.app import build_runtime
from bot.http import build_http_app
from bot.outbox.webhook import verify
from bot.store.models import Draft, Mention
from tests.conftest import TEST_PROTOCOL, drain, make_settings
from tests.driver import CM, LEGAL_EXPERT, LEGAL_LEAD, STRANGER, send
from tests.slack_requests import block_action, message_shortcut
from tests.usecases.test_response_loop import Loop

SECRET = "webhook-secret-for-tests-0123456789"


class Receiver:
    """The company's publishing endpoint: checks Vigie's signature, fails on demand, dedupes by key."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.fail_next = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ok = verify(SECRET, int(self.headers["X-Vigie-Timestamp"]), body, self.headers["X-Vigie-Signature"],
                            now=int(time.time()))
                if not ok:
                    self.send_response(401)
                    self.end_headers()
                    return
                if outer.fail_next:
                    outer.fail_next -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                outer.received.append({"key": self.headers["Idempotency-Key"], "body": json.loads(body)})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"url": "https://x.example/armorine/status/42"}')

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/publish"


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def webhook_loop(engine, slack, database_url, receiver, tmp_path):
    protocol = tmp_path / "protocol.yaml"
    protocol.write_text(TEST_PROTOCOL.read_text() + f"publishing:\n  mode: webhook\n  webhook_url: {receiver.url}\n")
    (tmp_path / "roster.csv").write_text((TEST_PROTOCOL.parent / "roster.csv").read_text())
    settings = make_settings(database_url, slack.url, VIGIE_PROTOCOL_FILE=str(protocol),
                             VIGIE_PUBLISH_WEBHOOK_SECRET=SECRET)
    rt = build_runtime(settings)
    rt.worker.rng.seed(0)
    rt.start()
    with TestClient(build_http_app(rt)) as http:
        yield Loop(http, slack, rt)
    rt.stop()
    rt.engine.dispose()


def test_an_approved_reply_is_posted_to_the_webhook_signed_and_retried(webhook_loop, receiver, slack):
    loop = webhook_loop
    receiver.fail_next = 1  # the endpoint has a bad moment: Vigie retries with backoff
    mid = loop.intake("Un procès est annoncé")
    loop.click("mention_draft", mid, LEGAL_EXPERT)
    loop.submit(LEGAL_EXPERT, {"text": "Nous ne commentons pas une procédure en cours.", "network": "x",
                               "language": "fr", "label": "public"})
    draft = loop.draft(mid)
    loop.click("draft_approve", draft.id, CM)
    assert receiver.received == []  # not before every approval is in
    loop.click("draft_approve", draft.id, LEGAL_LEAD)
    deadline = time.monotonic() + 10
    while loop.draft(mid).state != "published" and time.monotonic() < deadline:
        loop.runtime.worker.wake()
        time.sleep(0.1)
    assert loop.draft(mid).state == "published"
    [delivery] = receiver.received
    assert delivery["key"] == f"vigie-draft-{draft.id}"
    assert delivery["body"]["text"] == "Nous ne commentons pas une procédure en cours."
    assert delivery["body"]["in_reply_to"]["external_id"] == "post-1"
    assert loop.draft(mid).public_url == "https://x.example/armorine/status/42"
    drain(loop.runtime)
    # Said as the service's doing, not as if a person called "webhook" had published (no "<@webhook>").
    assert any("publiée par le service de publication" in m for m in loop.thread(mid))
    assert not any("webhook" in m for m in loop.thread(mid))


def test_a_holding_statement_goes_out_while_experts_work(webhook_loop, receiver):
    loop = webhook_loop
    mid = loop.intake("Un procès est annoncé")
    send(loop.http, {**block_action(action_id="mention_more", value="", user=CM, channel="C0LEGAL001"),
        "actions": [{"action_id": "mention_more", "block_id": f"mention:{mid}", "type": "overflow",
                     "selected_option": {"value": f"holding:{mid}"}, "action_ts": "1"}]})
    drain(loop.runtime)
    loop.submit(CM, {"statement": "on-regarde"})
    deadline = time.monotonic() + 10
    while not receiver.received and time.monotonic() < deadline:
        loop.runtime.worker.wake()
        time.sleep(0.1)
    [delivery] = receiver.received
    assert delivery["body"]["kind"] == "holding" and "nous regardons" in delivery["body"]["text"]
    with Session(loop.runtime.engine) as s:
        assert s.get(Mention, mid).state == "open"  # the experts still have to answer


def test_use_as_draft_turns_ones_own_thread_reply_into_a_draft(loop_factory):
    loop = loop_factory()
    mid = loop.intake("Un procès est annoncé")
    with Session(loop.runtime.engine) as s:
        relay_ts = s.get(Mention, mid).relay_ts
    reply = message_shortcut(callback_id="use_as_draft", user=LEGAL_EXPERT, channel="C0LEGAL001",
                             ts="1763719999.000100", author=LEGAL_EXPERT, text="Proposition : nous répondons demain.")
    reply["message"]["thread_ts"] = relay_ts
    send(loop.http, reply)
    drain(loop.runtime)
    assert loop.modal()["blocks"][0]["element"]["initial_value"] == "Proposition : nous répondons demain."
    loop.submit(LEGAL_EXPERT, {"text": "Proposition : nous répondons demain.", "network": "x", "language": "fr",
                               "label": "public"})
    assert loop.draft(mid).author == LEGAL_EXPERT
    # Someone else's reply cannot be taken as one's draft.
    send(loop.http, {**reply, "user": {"id": CM, "name": "cm"}})
    drain(loop.runtime)
    assert "propres réponses" in loop.ephemeral(CM)


def test_crafted_payloads_cannot_act_for_someone_else(loop_factory):
    """Permissions come from the user Slack signed for, never from values or metadata in the payload."""
    loop = loop_factory()
    mid = loop.intake("Un procès est annoncé")
    loop.click("mention_draft", mid, LEGAL_EXPERT)
    view = loop.modal()
    loop.submit(LEGAL_EXPERT, {"text": "Nous ne commentons pas.", "network": "x", "language": "fr",
                               "label": "public"})
    draft = loop.draft(mid)
    # A stranger replays the draft modal with their own identity: refused, nothing stored.
    loop.submit(STRANGER, {"text": "Piraté", "network": "x", "language": "fr", "label": "public"}, view=view)
    assert loop.draft(mid).version == 1
    # A stranger forges an override-approval modal for the draft: refused inside the modal.
    forged = {"type": "modal", "callback_id": "override_submit", "private_metadata": json.dumps({"draft": draft.id}),
              "title": {"type": "plain_text", "text": "x"}, "blocks": [
                  {"type": "input", "block_id": "reason", "label": {"type": "plain_text", "text": "r"},
                   "element": {"type": "plain_text_input", "action_id": "value"}}]}
    answer = loop.submit(STRANGER, {"reason": "je valide"}, view=forged)
    assert answer["response_action"] == "errors"
    with Session(loop.runtime.engine) as s:
        assert s.get(Draft, draft.id).state == "pending"
    # The author clicks Approve on a button whose value names their own draft: refused.
    loop.click("draft_approve", draft.id, LEGAL_EXPERT)
    assert loop.draft(mid).state == "pending"


@pytest.fixture
def loop_factory(http, slack, runtime):
    def make() -> Loop:
        for user in (CM, LEGAL_LEAD, LEGAL_EXPERT, STRANGER):
            slack.add_user(user, name=user, locale="fr-FR")
        return Loop(http, slack, runtime)
    return make


def test_a_refused_publication_is_said_in_the_thread(webhook_loop, receiver, monkeypatch):
    loop = webhook_loop
    loop.runtime.workflow.publish_secret = "not-the-receivers-secret"  # the receiver answers 401
    mid = loop.intake("Un procès est annoncé")
    loop.click("mention_draft", mid, LEGAL_EXPERT)
    loop.submit(LEGAL_EXPERT, {"text": "Nous ne commentons pas une procédure en cours.", "network": "x",
                               "language": "fr", "label": "public"})
    draft = loop.draft(mid)
    loop.click("draft_approve", draft.id, CM)
    loop.click("draft_approve", draft.id, LEGAL_LEAD)
    drain(loop.runtime)
    assert receiver.received == []
    assert loop.draft(mid).state == "approved"  # not published
    [said] = [m for m in loop.thread(mid) if "n'a pas été publiée" in m]
    # A human reason, and whom to ask: not the webhook's English sentence, not a command to run.
    assert "refusée" in said and "401" in said and "administrateur" in said
    assert "vigie outbox" not in said and "webhook" not in said and "HTTP" not in said
