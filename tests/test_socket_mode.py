"""Socket Mode end to end: the real Bolt app behind slack_sdk's real Socket Mode client, as `vigie run` wires
it, talking to a fake Socket Mode WebSocket server and the fake Web API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.app import build_runtime
from tests.conftest import drain, make_settings
from tests.fakes.socket_mode import FakeSocketModeServer
from tests.slack_requests import message_shortcut

APP_TOKEN = "xapp-1-test"


@pytest.fixture
def ws_server() -> Iterator[FakeSocketModeServer]:
    server = FakeSocketModeServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_a_message_shortcut_over_socket_mode_is_acked_relayed_and_answered(engine, slack, database_url, ws_server):
    slack.set_handler("apps.connections.open", lambda args: {"ok": True, "url": ws_server.url})
    slack.add_user("U0AUTHOR01", name="Camille Martin")
    runtime = build_runtime(make_settings(database_url, slack.url, SLACK_APP_TOKEN=APP_TOKEN))
    handler = None
    runtime.start()
    try:
        handler = SocketModeHandler(runtime.bolt, APP_TOKEN)
        handler.connect()
        ws_server.wait_for_connection(timeout=5)

        [opened] = slack.calls("apps.connections.open")
        assert opened.token == APP_TOKEN
        assert ws_server.request_lines[0].startswith("GET /link/?ticket=")

        payload = message_shortcut(text="Un avocat parle d'un procès contre la marque", channel="C0RANDOM01",
                                   ts="1763719200.000100", author="U0AUTHOR01", user="U0FLAGGER1")
        ws_server.send_envelope("interactive", payload, envelope_id="env-shortcut-1")

        ack = ws_server.wait_for_ack("env-shortcut-1", timeout=5)
        assert ack["envelope_id"] == "env-shortcut-1"

        [relay] = slack.wait_for("chat.postMessage", timeout=5)
        assert relay.args["channel"] == "C0LEGAL001"
        [ephemeral] = slack.wait_for("chat.postEphemeral", timeout=5)
        assert ephemeral.args["user"] == "U0FLAGGER1" and ephemeral.args["channel"] == "C0RANDOM01"
        drain(runtime)
        assert ws_server.protocol_errors == []
    finally:
        if handler is not None:
            handler.close()
        runtime.stop()
        runtime.engine.dispose()
