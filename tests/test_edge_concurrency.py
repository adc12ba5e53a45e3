"""The edge's own writes under simultaneous requests, on the live server (both databases): the same signed slash
command delivered several times at once runs exactly once, and health probes fired together all succeed.
"""

from __future__ import annotations

from tests.conftest import SIGNING_SECRET
from tests.live import SlackClient, live_server, simultaneously
from tests.slack_requests import trigger_id

ROUNDS = 50


def test_the_same_slash_command_delivered_at_once_runs_once(runtime):
    with live_server(runtime) as server:
        slack = SlackClient(server.url, SIGNING_SECRET)
        for _ in range(ROUNDS):
            trigger = trigger_id()
            answers = simultaneously([lambda t=trigger: slack.command("aide", user="U0CM00001", trigger=t)
                                      for _ in range(4)])
            assert [r.status_code for r in answers] == [200] * 4
            ran = [r for r in answers if r.content]
            assert len(ran) == 1, [r.content[:40] for r in answers]
            assert "/vigie" in ran[0].json()["text"]


def test_health_probes_fired_together_all_succeed(runtime):
    with live_server(runtime) as server:
        import httpx

        clients = [httpx.Client(base_url=server.url, timeout=30) for _ in range(8)]
        try:
            for _ in range(ROUNDS // 2):
                answers = simultaneously([lambda c=c: c.get("/healthz") for c in clients])
                assert [r.status_code for r in answers] == [200] * 8, [r.text for r in answers]
        finally:
            for client in clients:
                client.close()
