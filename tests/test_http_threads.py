"""Slack's requests and intake's run in thread pools of their own (bot.http.threads), on the live server (both
databases): intake requests holding every thread they may have do not keep a click from being acknowledged,
and a Slack request is still refused on its signature before anything else runs (Bolt is never called)."""

from __future__ import annotations

import threading
import time

import httpx

from bot.http import INTAKE_THREADS
from tests.conftest import AUTH, SIGNING_SECRET, mention
from tests.live import SlackClient, live_server
from tests.slack_requests import interactive_body, signed_headers

# More intake requests at once than FastAPI's shared pool has threads (40): each would hold one.
FLOOD = 48


def test_a_click_is_acknowledged_while_intake_holds_every_thread_it_may_have(runtime, monkeypatch):
    release, inside, lock = threading.Event(), [0], threading.Lock()
    real_ingest = runtime.vigie.ingest

    def slow_ingest(*args, **kwargs):  # an intake stuck on a slow database: it holds its thread
        with lock:
            inside[0] += 1
        release.wait(30)
        return real_ingest(*args, **kwargs)

    monkeypatch.setattr(runtime.vigie, "ingest", slow_ingest)
    with live_server(runtime) as server:
        answers: list[int] = []

        def send(i: int) -> None:
            with httpx.Client(base_url=server.url, timeout=60) as client:
                answers.append(client.post("/intake/mentions", headers=AUTH, json=mention(900 + i)).status_code)

        flood = [threading.Thread(target=send, args=(i,)) for i in range(FLOOD)]
        try:
            for thread in flood:
                thread.start()
            deadline = time.monotonic() + 20
            while inside[0] < INTAKE_THREADS and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.3)  # had the flood a thread each, more would be inside by now
            assert inside[0] == INTAKE_THREADS
            slack = SlackClient(server.url, SIGNING_SECRET)
            started = time.monotonic()
            r = slack.command("aide", user="U0CM00001")
            took = time.monotonic() - started
            assert r.status_code == 200 and "/vigie" in r.json()["text"]
            assert took < 5 and not release.is_set()  # answered while the intake was still stuck
        finally:
            release.set()
            for thread in flood:
                thread.join(60)
    assert answers == [202] * FLOOD  # the flood waited its turn, nothing refused


def test_a_forged_slack_request_is_refused_before_bolt_runs(runtime, monkeypatch):
    calls: list[object] = []
    real_dispatch = runtime.bolt.dispatch
    monkeypatch.setattr(runtime.bolt, "dispatch", lambda req: calls.append(req) or real_dispatch(req))
    with live_server(runtime) as server:
        slack = SlackClient(server.url, SIGNING_SECRET)
        body = interactive_body({"type": "block_actions", "user": {"id": "U0CM00001"}, "actions": []})
        forged = slack.post_body(body, headers=signed_headers("not-the-secret", body))
        assert forged.status_code == 401 and calls == []
        assert slack.command("aide", user="U0CM00001").status_code == 200 and len(calls) == 1
