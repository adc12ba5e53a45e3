"""Feeds read right (issue 14, item 5): every fixture of tests/fixtures/feeds2 served over HTTP on 127.0.0.1,
with its own headers, gives exactly its expected mentions with the right dates."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.i18n import t
from bot.intake.feeds import FeedValidators, FeedWarning, _plain_text, fetch_feed, read_feed

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "feeds2"
INDEX: list[dict[str, str]] = json.loads((FIXTURES / "feeds.json").read_text("utf-8"))
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")


def _stem(name: str) -> str:
    return name.rsplit(".", 1)[0]


class Served:
    """A tiny real HTTP server: path -> (body, headers), plus extra routes a test adds."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[bytes, dict[str, str]]] = {}
        for feed in INDEX:
            headers = json.loads((FIXTURES / f"{_stem(feed['file'])}.headers.json").read_text("utf-8"))
            self.routes[feed["path"]] = ((FIXTURES / feed["file"]).read_bytes(), headers)
        routes = self.routes

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                if self.path not in routes:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body, headers = routes[self.path]
                self.send_response(301 if "Location" in headers else 200)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    server = Served()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
    server.thread.join(5)


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as c:
        yield c


def expected(feed: dict[str, str], origin: str) -> list[dict[str, Any]]:
    text = (FIXTURES / f"{_stem(feed['file'])}.expected.jsonl").read_text("utf-8")
    return [json.loads(line.replace("{origin}", origin)) for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("feed", INDEX, ids=[_stem(f["file"]) for f in INDEX])
def test_each_fixture_served_over_http_gives_exactly_its_mentions(
    served: Served, client: httpx.Client, feed: dict[str, str]
) -> None:
    poll = fetch_feed(client, url=served.origin + feed["path"], source=feed["source"],
                      validators=FeedValidators(), now=NOW, zone=ZoneInfo(feed["timezone"]))

    assert (poll.status, poll.error, poll.skipped) == ("ok", None, [])
    assert [entry.as_json() for entry in poll.entries] == expected(feed, served.origin)
    # The stored mentions: the feed's date, or the poll time when it gave none we can read (said in a warning).
    for entry, mention in zip(poll.entries, poll.mentions, strict=True):
        assert mention.published_at == (entry.published_at or NOW)
        assert mention.text == entry.as_json()["text"]


def test_the_date_that_cannot_be_read_is_in_the_feeds_report_not_silently_the_poll_time(
    served: Served, client: httpx.Client
) -> None:
    poll = fetch_feed(client, url=served.origin + "/flux/dates.rss", source="blog-conso",
                      validators=FeedValidators(), now=NOW, zone=PARIS)

    assert [entry.published_at is None for entry in poll.entries] == [False, False, False, False, True]
    assert [warning.message("en") for warning in poll.warnings] == [
        ("entry 5 (https://conso-malin.example/2026/11/acme-sav): unreadable date “bientôt”: publication date "
         "unknown (the mention is stored undated, at the time it arrived)")
    ]
    # In French too (the catalogues), with French quotes and spaces.
    assert [warning.message("fr") for warning in poll.warnings] == [
        ("entrée 5 (https://conso-malin.example/2026/11/acme-sav)\u00a0: date illisible «\u00a0bientôt\u00a0»\u00a0: date de "
         "publication inconnue (la mention est enregistrée sans date, à l'heure de son arrivée)")
    ]
    # Kept as unknown, not taken for the feed's date: the mention says so.
    assert [m.published_unknown for m in poll.mentions] == [False, False, False, False, True]


def test_an_empty_alert_feed_is_a_healthy_poll(served: Served, client: httpx.Client) -> None:
    poll = fetch_feed(client, url=served.origin + "/alerts/feeds/empty.atom", source="google-alerts",
                      validators=FeedValidators(), now=NOW)
    assert (poll.status, poll.mentions, poll.error, poll.warnings) == ("ok", [], None, [])


def test_relative_links_are_resolved_against_the_url_the_feed_was_found_at(
    served: Served, client: httpx.Client
) -> None:
    body, headers = served.routes["/flux/acme.rss"]
    served.routes["/elsewhere/deep/acme.rss"] = (body, headers)
    served.routes["/moved.rss"] = (b"", {"Location": "/elsewhere/deep/acme.rss"})

    poll = fetch_feed(client, url=served.origin + "/moved.rss", source="presse-locale",
                      validators=FeedValidators(), now=NOW, zone=PARIS)

    assert [str(m.url) for m in poll.mentions][:3] == [
        f"{served.origin}/acme-greve",
        f"{served.origin}/elsewhere/actualites/acme-rappel",
        f"{served.origin}/elsewhere/deep/acme-retards?src=rss&utm_medium=feed",
    ]
    assert poll.mentions[0].external_id == "gazette-88121"  # a guid is a name, never resolved as a link


def test_the_http_charset_is_given_to_the_parser() -> None:
    # ISO-8859-15 writes € as 0xA4 where Windows-1252 (feedparser's own guess) has ¤: only the header tells.
    body = ("<?xml version='1.0'?><rss version='2.0'><channel><title>t</title><item><title>Prix : 20 €</title>"
            "<link>https://a.example/1</link><pubDate>Sat, 21 Nov 2026 09:30:00 +0100</pubDate></item>"
            "</channel></rss>").encode("iso-8859-15")
    with_header = read_feed(body, source="s", fallback_time=NOW,
                            headers={"Content-Type": "application/rss+xml; charset=ISO-8859-15"})
    assert with_header.mentions[0].text == "Prix : 20 €"
    without = read_feed(body, source="s", fallback_time=NOW)
    assert without.mentions[0].text != "Prix : 20 €"


@pytest.mark.parametrize(
    ("written", "instant"),
    [
        ("Sat, 21 Nov 2026 09:30:00 CET", datetime(2026, 11, 21, 8, 30, tzinfo=UTC)),
        ("Sat, 20 Jun 2026 09:30:00 CEST", datetime(2026, 6, 20, 7, 30, tzinfo=UTC)),
        ("Fri, 20 Nov 2026 22:00:00 EST", datetime(2026, 11, 21, 3, 0, tzinfo=UTC)),
        ("sam., 21 nov. 2026 09:30:00 +0100", datetime(2026, 11, 21, 8, 30, tzinfo=UTC)),
        ("21/11/2026 09:30", datetime(2026, 11, 21, 8, 30, tzinfo=UTC)),  # the feed's zone: Paris
        ("2026-11-21T09:30:00Z", datetime(2026, 11, 21, 9, 30, tzinfo=UTC)),
        ("05/11/2026 09:30", None),  # 5 November or 11 May: unknown, never a guess
        ("", None),
    ],
)
def test_dates_as_feeds_write_them(written: str, instant: datetime | None) -> None:
    body = (f"<rss version='2.0'><channel><title>t</title><item><title>x</title><link>https://a.example/1</link>"
            f"<pubDate>{written}</pubDate></item></channel></rss>").encode()
    (entry,) = read_feed(body, source="s", fallback_time=NOW, zone=PARIS).entries
    assert entry.published_at == instant
    assert entry.mention.published_at == (instant or NOW)
    assert bool(entry.warnings) == (instant is None)


def test_words_in_angle_brackets_are_kept_and_html_is_still_turned_into_text() -> None:
    assert _plain_text("Le <chat> du <Support>site</Support>") == "Le <chat> du <Support>site</Support>"
    assert _plain_text("<p>Ils m'ont <b>rappelé</b></p><script>x()</script>") == "Ils m'ont rappelé"


def test_skipped_entries_are_in_the_feeds_report_in_both_languages_and_in_the_feeds_order() -> None:
    body = ("<rss version='2.0'><channel><title>t</title>"
            "<item><title>a</title><link>https://a.example/1</link><pubDate>bientôt</pubDate></item>"
            "<item><guid>empty-1</guid><link>https://a.example/empty</link></item>"
            "<item><title>c</title><link>https://a.example/3</link><pubDate>plus tard</pubDate></item>"
            "</channel></rss>").encode()
    report = read_feed(body, source="s", fallback_time=NOW, zone=PARIS)
    assert [entry.position for entry in report.entries] == [1, 3]
    assert [w.message("en") for w in report.warnings] == [
        "entry 1 (https://a.example/1): unreadable date “bientôt”: publication date unknown (the mention is stored "
        "undated, at the time it arrived)",
        "entry 2 (empty-1) skipped, not a readable mention: text: is blank",
        "entry 3 (https://a.example/3): unreadable date “plus tard”: publication date unknown (the mention is "
        "stored undated, at the time it arrived)",
    ]
    field = t("intake.error.field", "fr", field="text", message="est vide")  # its spacing is that catalogue's
    assert report.warnings[1].message("fr") == (
        f"entrée 2 (empty-1) ignorée, ce n'est pas une mention lisible\u00a0: {field}")
    # As stored with the feed's status: JSON, read back the same.
    stored = json.loads(json.dumps([w.as_dict() for w in report.warnings]))
    assert [FeedWarning.from_dict(row).message("fr") for row in stored] == [w.message("fr") for w in report.warnings]
