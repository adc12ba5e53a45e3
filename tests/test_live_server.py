"""The live-server harness itself: the real server on a port, signed requests accepted, forged ones refused."""

from __future__ import annotations

from tests.conftest import SIGNING_SECRET
from tests.live import SlackClient, live_server, simultaneously


def test_live_server_answers_signed_requests_and_refuses_forged_ones(runtime):
    with live_server(runtime) as server:
        slack = SlackClient(server.url, SIGNING_SECRET)
        answers = simultaneously([lambda: slack.command("aide", user="U0CM00001") for _ in range(4)])
        assert [r.status_code for r in answers] == [200] * 4
        assert "/vigie" in answers[0].json()["text"]
        forged = SlackClient(server.url, "not-the-secret").command("aide", user="U0CM00001")
        assert forged.status_code == 401
