"""What `vigie feed status` says, said in Slack too (issues 14 and 15): `/vigie protocole` shows the people the
protocol names each feed's health (last poll, failures) and the last reading's warnings, in their language; and
the relay card of a feed entry whose date could not be read says « date de publication inconnue » instead of
passing its arrival off as its publication.

Through the real flow: feeds polled from a real HTTP server on 127.0.0.1 by the runtime's own `Vigie`, cards
posted by the outbox to the fake Slack, `/vigie` typed as Slack sends it (signed). SQLite, and PostgreSQL with
VIGIE_TEST_DATABASE_URL.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from bot.store.models import FeedState, Mention
from tests.conftest import TEST_PROTOCOL, make_settings
from tests.driver import CM, FIN_EXPERT, STRANGER, Driver

BODY = (Path(__file__).parents[1] / "fixtures" / "feeds2" / "french_dates.rss").read_bytes()
UNDATED = "https://conso-malin.example/2026/11/acme-sav"  # its <pubDate> is « bientôt »
EN_USER = "U0CM00002"  # the other community manager, who reads Slack in English


@pytest.fixture
def feed_base() -> Iterator[str]:
    """/dates.rss: five entries, one with an unreadable date; /broken.rss: a server error, every time."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/broken"):
                self.send_response(500)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.end_headers()
            self.wfile.write(BODY)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def settings(engine, slack, database_url, tmp_path, feed_base):  # type: ignore[no-untyped-def]
    text = TEST_PROTOCOL.read_text("utf-8").replace(
        "roster: roster.csv", f"roster: {TEST_PROTOCOL.parent / 'roster.csv'}").replace(
        "feeds: []", "feeds:\n"
        f"  - {{name: blog-conso, url: '{feed_base}/dates.rss', every_minutes: 10}}\n"
        f"  - {{name: forum-acme, url: '{feed_base}/broken.rss', every_minutes: 10}}")
    path = Path(tmp_path) / "protocol.yaml"
    path.write_text(text, "utf-8")
    return make_settings(database_url, slack.url, VIGIE_PROTOCOL_FILE=str(path))


@pytest.fixture
def loop(http, slack, runtime) -> Driver:  # type: ignore[no-untyped-def]
    for user, locale in ((CM, "fr-FR"), (FIN_EXPERT, "fr-FR"), (STRANGER, "fr-FR"), (EN_USER, "en-US")):
        slack.add_user(user, name=user, locale=locale)
    return Driver(http, slack, runtime)


def poll(loop: Driver) -> None:
    with httpx.Client(timeout=5) as client:
        assert loop.runtime.vigie.poll_feeds(client) == {"blog-conso": "ok", "forum-acme": "error"}
    loop.drain()


def card_of(loop: Driver, url: str) -> dict[str, Any]:
    with Session(loop.runtime.engine) as s:
        mention = s.exec(select(Mention).where(Mention.url == url)).one()
    [card] = [m for m in loop.slack.messages(mention.channel) if m["ts"] == mention.relay_ts]
    return card


def fields_of(card: dict[str, Any]) -> list[str]:
    return [f["text"] for b in card["blocks"] if b["type"] == "section" for f in b.get("fields", [])]


def test_before_any_poll_the_protocol_says_each_feed_is_not_read_yet(loop):
    answer = loop.slash("protocole", user=CM)
    assert "*Flux surveillés* (2)\u00a0:" in answer
    assert "blog-conso\u00a0: pas encore relevé" in answer and "forum-acme\u00a0: pas encore relevé" in answer


def test_the_protocol_shows_feeds_health_and_warnings_to_the_people_it_names(loop):
    poll(loop)
    for user in (CM, FIN_EXPERT):
        answer = loop.slash("protocole", user=user)
        assert "*Flux surveillés* (2)\u00a0:" in answer, user
        assert ":white_check_mark: blog-conso\u00a0: en ordre, dernier relevé <!date^" in answer
        # The warning as `vigie feed status` says it, in the reader's language; the feed's own words escaped.
        assert ("attention\u00a0: entrée 5 (https://conso-malin.example/2026/11/acme-sav)\u00a0: date illisible "
                "«\u00a0bientôt\u00a0»\u00a0: date de publication inconnue") in answer
        # The failing feed, with the error its last poll met.
        assert ":warning: forum-acme\u00a0: en échec au dernier relevé (<!date^" in answer
        assert "500" in answer
    english = loop.slash("protocol", user=EN_USER)
    assert "*Monitored feeds* (2):" in english and ":white_check_mark: blog-conso: healthy, last read" in english
    assert ("warning: entry 5 (https://conso-malin.example/2026/11/acme-sav): unreadable date “bientôt”: "
            "publication date unknown") in english
    assert ":warning: forum-acme: the last poll failed (" in english
    # Someone the protocol does not name sees the protocol, but not the feeds' state (as for the dictionary).
    stranger = loop.slash("protocole", user=STRANGER)
    assert "Flux" not in stranger and "blog-conso" not in stranger and "bientôt" not in stranger


def test_a_feed_failing_again_counts_its_failures(loop):
    poll(loop)
    with Session(loop.runtime.engine) as s:  # due again: its last poll was more than 10 minutes ago
        for state in s.exec(select(FeedState)).all():
            state.last_polled_at -= timedelta(minutes=11)
            s.add(state)
        s.commit()
    poll(loop)
    answer = loop.slash("protocole", user=CM)
    assert ":warning: forum-acme\u00a0: en échec depuis 2 relevés (dernier\u00a0: <!date^" in answer
    assert answer.count("attention\u00a0: entrée 5") == 1  # the last reading's warnings, not every reading's


def test_an_undated_entrys_card_says_its_publication_date_is_unknown(loop):
    poll(loop)
    undated = fields_of(card_of(loop, UNDATED))
    [published] = [f for f in undated if f.startswith("*Publié*")]
    assert published.startswith("*Publié*\ndate de publication inconnue (reçue <!date^"), published
    dated = fields_of(card_of(loop, "https://conso-malin.example/2026/11/acme-rembourse"))
    [published] = [f for f in dated if f.startswith("*Publié*")]
    assert "inconnue" not in published and published.startswith("*Publié*\n<!date^")
    # Its card's text still reads as one message: no catalogue key, the date token well formed.
    assert "relay.published_unknown" not in json.dumps(card_of(loop, UNDATED), ensure_ascii=False)
