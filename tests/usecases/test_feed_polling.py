"""Feed polling as the scheduler runs it: a real HTTP feed server, conditional GETs, reports of broken feeds."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from bot.clock import ManualClock
from bot.protocol.load import parse_protocol
from bot.store.models import FeedState, Mention
from bot.usecases.intake import Vigie
from tests.conftest import TEST_PROTOCOL

FEED = (Path(__file__).parents[1] / "fixtures" / "feeds" / "google_alerts.atom").read_bytes()


class FeedServer:
    def __init__(self) -> None:
        self.status = 200
        self.requests: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests.append(dict(self.headers))
                if outer.status != 200:
                    self.send_response(outer.status)
                    self.end_headers()
                    return
                if self.headers.get("If-None-Match") == '"v1"':
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/atom+xml")
                self.send_header("ETag", '"v1"')
                self.end_headers()
                self.wfile.write(FEED)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts.atom"


@pytest.fixture
def feed_server():
    server = FeedServer()
    yield server
    server.server.shutdown()


def test_feed_entries_are_ingested_once_and_failures_reported_once(engine, feed_server):
    text = TEST_PROTOCOL.read_text().replace(
        "feeds: []", f"feeds:\n  - {{name: alerts, url: '{feed_server.url}', every_minutes: 10}}")
    protocol = parse_protocol(text, base_dir=TEST_PROTOCOL.parent)
    clock = ManualClock(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    vigie = Vigie(engine=engine, protocol=protocol, clock=clock)
    with httpx.Client(timeout=5) as client:
        assert vigie.poll_feeds(client) == {"alerts": "ok"}
        with Session(engine) as s:
            mentions = s.exec(select(Mention)).all()
        assert len(mentions) == 2 and {m.source for m in mentions} == {"alerts"}
        assert all(not m.url.startswith("https://www.google.com/url") for m in mentions)  # unwrapped

        assert vigie.poll_feeds(client) == {}  # not due yet: every 10 minutes
        clock.advance(minutes=10)
        assert vigie.poll_feeds(client) == {"alerts": "not_modified"}
        assert feed_server.requests[-1].get("If-None-Match") == '"v1"'

        feed_server.status = 500
        for _ in range(3):
            clock.advance(minutes=10)
            assert vigie.poll_feeds(client) == {"alerts": "error"}
        feed_server.status = 200
        clock.advance(minutes=10)
        assert vigie.poll_feeds(client) == {"alerts": "not_modified"}

    with Session(engine) as s:
        from bot.store.models import Outbox

        notices = [o.payload["text"] for o in s.exec(select(Outbox).where(Outbox.kind == "notice")).all()]
        state = s.get(FeedState, feed_server.url)
        assert len(s.exec(select(Mention)).all()) == 2
    assert len(notices) == 2  # broken once (not three times), then working again
    assert "alerts" in notices[0] and "500" in notices[0]
    assert "fonctionne de nouveau" in notices[1]
    assert state.consecutive_failures == 0 and state.etag == '"v1"'
