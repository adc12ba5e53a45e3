"""A feed entry whose date cannot be read is stored as undated (flagged, not taken for the feed's date), and the
poll's warnings are kept with the feed's status, as data, put in words in the reader's language: `vigie feed
status` shows them in the protocol's language. Two instances polling the same feed at once store each entry once
and one status. A real HTTP feed server on 127.0.0.1; SQLite, and PostgreSQL with VIGIE_TEST_DATABASE_URL."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.cli import app
from bot.clock import ManualClock
from bot.protocol.load import parse_protocol
from bot.store.models import FeedState, Mention
from bot.usecases.intake import Vigie
from tests.conftest import TEST_PROTOCOL

BODY = (Path(__file__).parents[1] / "fixtures" / "feeds2" / "french_dates.rss").read_bytes()
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
UNDATED = "https://conso-malin.example/2026/11/acme-sav"
FR = ("entrée 5 (https://conso-malin.example/2026/11/acme-sav)\u00a0: date illisible «\u00a0bientôt\u00a0»\u00a0: date de "
      "publication inconnue (la mention est enregistrée sans date, à l'heure de son arrivée)")
EN = ("entry 5 (https://conso-malin.example/2026/11/acme-sav): unreadable date “bientôt”: publication date unknown "
      "(the mention is stored undated, at the time it arrived)")


@pytest.fixture
def feed_url():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("ETag", '"v1"')
            self.end_headers()
            self.wfile.write(BODY)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/flux/dates.rss"
    server.shutdown()


def protocol_text(url: str) -> str:
    return TEST_PROTOCOL.read_text().replace(
        "feeds: []", f"feeds:\n  - {{name: blog-conso, url: '{url}', every_minutes: 10}}")


def vigie_for(engine, url: str) -> Vigie:  # type: ignore[no-untyped-def]
    protocol = parse_protocol(protocol_text(url), base_dir=TEST_PROTOCOL.parent)
    return Vigie(engine=engine, protocol=protocol, clock=ManualClock(NOW))


def test_an_undated_entry_is_flagged_and_the_warnings_kept_with_the_feeds_status(engine, feed_url):
    vigie = vigie_for(engine, feed_url)
    with httpx.Client(timeout=5) as client:
        assert vigie.poll_feeds(client) == {"blog-conso": "ok"}
    with Session(engine) as s:
        mentions = {m.url: m for m in s.exec(select(Mention)).all()}
        state = s.get(FeedState, feed_url)
    assert len(mentions) == 5
    undated = mentions[UNDATED]
    assert undated.extra == {"published_unknown": True} and undated.published_at == NOW
    assert all(not (m.extra or {}).get("published_unknown") for url, m in mentions.items() if url != UNDATED)
    assert all(m.published_at < NOW for url, m in mentions.items() if url != UNDATED)
    # Stored as data (a catalogue key and its parameters), in words when shown.
    assert state is not None and [w["key"] for w in state.warnings] == ["feed.warn.entry"]
    [status] = vigie.feed_statuses()
    assert [w.message("fr") for w in status.warnings] == [FR]
    assert [w.message("en") for w in status.warnings] == [EN]

    # A 304 changes nothing: the last reading's warnings still hold.
    vigie.clock.advance(minutes=10)  # type: ignore[attr-defined]
    with httpx.Client(timeout=5) as client:
        assert vigie.poll_feeds(client) == {"blog-conso": "not_modified"}
    [status] = vigie.feed_statuses()
    assert [w.message("en") for w in status.warnings] == [EN] and status.consecutive_failures == 0


def test_feed_status_in_the_cli_in_the_protocols_language(engine, database_url, feed_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL",
                 "VIGIE_PROTOCOL_FILE", "VIGIE_INTAKE_TOKENS"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "roster.csv").write_bytes((TEST_PROTOCOL.parent / "roster.csv").read_bytes())
    (tmp_path / "protocol.yaml").write_text(protocol_text(feed_url), encoding="utf-8")
    env = {"DATABASE_URL": database_url, "VIGIE_PROTOCOL_FILE": str(tmp_path / "protocol.yaml")}
    runner = CliRunner()
    before = runner.invoke(app, ["feed", "status"], env=env)
    assert before.exit_code == 0, before.output
    assert f"blog-conso ({feed_url})\u00a0: pas encore relevé." in before.stdout
    with httpx.Client(timeout=5) as client:
        vigie_for(engine, feed_url).poll_feeds(client)
    after = runner.invoke(app, ["feed", "status"], env=env)
    assert after.exit_code == 0, after.output
    assert "en ordre, dernier relevé le 2026-11-22 09:00 UTC" in after.stdout
    assert f"attention\u00a0: {FR}" in after.stdout
    [line] = [json.loads(x) for x in runner.invoke(app, ["feed", "status", "--json"], env=env).stdout.splitlines()]
    assert (line["status"], line["failures"], line["warnings"]) == ("ok", 0, [FR])


@pytest.mark.parametrize("rounds", [3])
def test_two_instances_polling_at_once_store_each_entry_once_and_one_status(engine, feed_url, rounds):
    for round_no in range(rounds):
        instances = [vigie_for(engine, feed_url) for _ in range(2)]
        for vigie in instances:
            vigie.clock.advance(minutes=10 * (round_no + 1))  # type: ignore[attr-defined]
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def poll(vigie: Vigie) -> None:
            try:
                with httpx.Client(timeout=5) as client:
                    barrier.wait(timeout=10)
                    vigie.poll_feeds(client)
            except BaseException as exc:  # noqa: BLE001 -- reported below
                errors.append(exc)

        threads = [threading.Thread(target=poll, args=(vigie,)) for vigie in instances]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        with Session(engine) as s:
            assert len(s.exec(select(Mention)).all()) == 5
            states = s.exec(select(FeedState)).all()
        assert len(states) == 1 and [w["key"] for w in states[0].warnings] == ["feed.warn.entry"]
