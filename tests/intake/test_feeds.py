"""RSS/Atom intake: parsing real-looking feeds, and polling them from a real local HTTP server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.intake.feeds import (
    FeedPoll,
    FeedValidators,
    NotAFeedError,
    _plain_text,
    fetch_feed,
    fit_external_id,
    parse_feed,
    unwrap_redirect,
)
from bot.intake.schema import MAX_TEXT

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
GA_ETAG = '"ga-v1"'
GA_LAST_MODIFIED = "Sat, 21 Nov 2026 08:12:34 GMT"
TW_LAST_MODIFIED = "Sat, 21 Nov 2026 07:50:00 GMT"
HUGE_TOTAL = 50_000_000


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def rss(items: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>t</title><link>https://example.com/</link><description>d</description>
{items}
</channel></rss>""".encode()


# --- parse_feed ------------------------------------------------------------------------------------------


def test_google_alerts_entries_become_mentions_with_real_links_and_plain_text() -> None:
    mentions, skipped = parse_feed(fixture("google_alerts.atom"), source="google-alerts", fallback_time=NOW)

    assert skipped == []
    assert [str(m.url) for m in mentions] == [
        "https://www.leprogres.fr/economie/2026/11/21/acme-industries-usine-lyon",
        # the real link's own query string was percent-encoded inside Google's url= parameter
        "https://www.example-news.com/articles/acme-recall?ref=rss&lang=fr",
    ]
    first = mentions[0]
    assert first.source == "google-alerts"
    assert first.external_id == "tag:google.com,2013:googlealerts/feed:4728106399127054571"
    assert first.text == (
        "Acme Industries annonce l'ouverture d'une usine à Lyon\n\nLe groupe Acme Industries a confirmé jeudi "
        "l'ouverture d'un site de production & de recherche dans la métropole lyonnaise ..."
    )
    assert first.author == "leprogres.fr"  # Google Alerts entries have an empty <author><name/>
    assert first.published_at == datetime(2026, 11, 21, 8, 12, 34, tzinfo=UTC)
    assert first.language is None
    assert '"sans condition"' in mentions[1].text


def test_talkwalker_rss_items_keep_guid_author_tags_and_feed_language() -> None:
    mentions, skipped = parse_feed(fixture("talkwalker.rss"), source="talkwalker", fallback_time=NOW)

    assert skipped == []
    strike, tweet, forum = mentions
    assert strike.external_id == "tw-4f6c1d2e9a8b7c6d5e4f3a2b1c0d9e8f"
    assert strike.author == "Marie Dupont"
    assert strike.tags == ["news", "grève"]
    assert strike.published_at == datetime(2026, 11, 21, 6, 45, tzinfo=UTC)  # "07:45:00 +0100"
    assert strike.text.endswith("« pour les salaires ». La direction dit rester ouverte au dialogue.")
    assert {m.language for m in mentions} == {"fr"}  # from <language>fr-FR</language>
    assert tweet.author == "jeanmartin75"  # not the e-mail part of <author>
    # the title repeats the start of the tweet: said once
    assert (
        tweet.text
        == "@acme_support pourquoi ma commande n'arrive jamais ?? 3 semaines d'attente & aucune réponse"
    )
    assert forum.published_at == NOW  # no date at all: stored with the poll time (warned in read_feed)
    assert forum.author == "forum.example.org"


def test_explicit_language_wins_over_the_feed_one_and_must_be_a_code() -> None:
    mentions, _ = parse_feed(fixture("talkwalker.rss"), source="tw", language="en", fallback_time=NOW)
    assert {m.language for m in mentions} == {"en"}
    with pytest.raises(ValueError, match="ISO 639-1"):
        parse_feed(fixture("talkwalker.rss"), source="tw", language="french", fallback_time=NOW)


def test_entries_that_cannot_be_mentions_are_skipped_with_a_reason_and_the_rest_kept() -> None:
    content = rss(
        """<item><title>No link, no guid</title><description>lost</description></item>
        <item><title>FTP</title><link>ftp://files.example.com/acme.txt</link><guid>ftp-1</guid></item>
        <item><guid>empty-1</guid><link>https://example.com/empty</link></item>
        <item><title>Good</title><link>https://example.com/good</link></item>"""
    )
    mentions, skipped = parse_feed(content, source="rss", fallback_time=NOW)

    assert [str(m.url) for m in mentions] == ["https://example.com/good"]
    assert mentions[0].external_id == "https://example.com/good"  # no guid: the link is the id
    assert len(skipped) == 3
    assert skipped[0].startswith("entry 1 (No link, no guid): ")
    assert "url: " in skipped[0] and "external_id: missing or empty" in skipped[0]
    assert skipped[1].startswith("entry 2 (ftp-1): url: ")
    assert skipped[2] == "entry 3 (empty-1): text: missing or empty"


def test_long_text_is_cut_to_max_text_and_long_ids_become_a_stable_digest() -> None:
    long_link = "https://example.com/" + "a" * 300
    content = rss(
        f"<item><title>Long</title><link>{long_link}</link><description>{'x' * 30_000}</description></item>"
    )
    (mention,), _ = parse_feed(content, source="rss", fallback_time=NOW)

    assert len(mention.text) == MAX_TEXT and mention.text.endswith("…")
    assert mention.external_id.startswith("sha256:")
    assert mention.external_id == fit_external_id(long_link)
    assert fit_external_id("short-id") == "short-id"


def test_an_empty_feed_is_fine_but_html_and_broken_xml_are_not_feeds() -> None:
    assert parse_feed(fixture("empty.rss"), source="rss", fallback_time=NOW) == ([], [])
    for name in ("not_a_feed.html", "broken.xml"):
        with pytest.raises(NotAFeedError, match="not an RSS or Atom feed"):
            parse_feed(fixture(name), source="rss", fallback_time=NOW)


def test_empty_body_is_not_a_feed() -> None:
    with pytest.raises(NotAFeedError):
        parse_feed(b"", source="rss", fallback_time=NOW)


def test_html_that_trips_the_stdlib_parser_still_gives_text() -> None:
    # html.parser raises AssertionError on some malformed "<![" sections; a feed must not crash a poll.
    assert _plain_text("<b>Acme</b> <![< &amp; co") == "Acme <![< & co"


feed_fragment = st.one_of(
    st.sampled_from(
        [
            "<item>",
            "</item>",
            "<title>",
            "</title>",
            "<link>",
            "</link>",
            "https://e.com/a",
            "<guid>",
            "</guid>",
        ]
        + ["<pubDate>", "</pubDate>", "Sat, 21 Nov 2026 07:45:00 +0100", "<description>", "</description>"]
        + ["&lt;b&gt;", "<category>", "</category>", "<![CDATA[<b>x</b>]]>", "<author>", "</author>", "<![<"]
    ),
    st.text(max_size=4),
)


@settings(max_examples=200, deadline=None)
@example(parts=["<item>", "<category>", "</item>", "0", "</category>"])  # crashed feedparser with KeyError
@given(parts=st.lists(feed_fragment, max_size=40))
def test_malformed_feeds_give_mentions_skips_or_not_a_feed_never_a_crash(parts: list[str]) -> None:
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        + "".join(parts)
        + "</channel></rss>"
    )
    try:
        mentions, skipped = parse_feed(body.encode("utf-8", "surrogatepass"), source="s", fallback_time=NOW)
    except NotAFeedError:
        return
    assert all(isinstance(reason, str) and reason for reason in skipped)
    assert all(m.source == "s" for m in mentions)


def test_a_bad_language_is_refused_before_any_request(client: httpx.Client) -> None:
    with pytest.raises(ValueError, match="ISO 639-1"):
        fetch_feed(
            client,
            url="http://127.0.0.1:9/",
            source="s",
            validators=FeedValidators(),
            now=NOW,
            language="fra",
        )


def test_content_is_never_taken_for_a_file_path() -> None:
    # feedparser opens a bare bytes/str argument as a path; feed bodies must never read local files.
    with pytest.raises(NotAFeedError):
        parse_feed(str(FIXTURES / "talkwalker.rss").encode(), source="rss", fallback_time=NOW)


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        (
            "https://www.google.com/url?rct=j&sa=t&url=https://a.example/x%3Fy%3D1&ct=ga",
            "https://a.example/x?y=1",
        ),
        ("https://www.google.fr/url?q=https://a.example/p&sa=U", "https://a.example/p"),
        ("https://l.facebook.com/l.php?u=https%3A%2F%2Fa.example%2Fq&h=AT0", "https://a.example/q"),
        (
            (
                "https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fwww.google.com%2Furl%3Furl%3D"
                "https%253A%252F%252Fa.example%252Fn&data=x"
            ),
            "https://a.example/n",
        ),
        # left alone: not a redirector, or a target that is not a web page
        (
            "https://www.google.com/search?q=https://a.example/",
            "https://www.google.com/search?q=https://a.example/",
        ),
        (
            "https://www.google.com/url?url=javascript:alert(1)",
            "https://www.google.com/url?url=javascript:alert(1)",
        ),
        (
            "https://evil-google.com/url?url=https://a.example/",
            "https://evil-google.com/url?url=https://a.example/",
        ),
        ("https://a.example/url?url=https://b.example/", "https://a.example/url?url=https://b.example/"),
    ],
)
def test_unwrap_redirect(link: str, expected: str) -> None:
    assert unwrap_redirect(link) == expected


# --- fetch_feed against a real HTTP server -----------------------------------------------------------------


@dataclass
class FeedServer:
    base: str
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    ga_etag: str = GA_ETAG
    huge_finished: bool = False
    release: threading.Event = field(default_factory=threading.Event)

    def conditional_headers(self, index: int) -> dict[str, str]:
        _, headers = self.requests[index]
        return {k: v for k, v in headers.items() if k in ("if-none-match", "if-modified-since")}


def _handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

        def send(self, status: int, body: bytes = b"", **headers: str) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            if "Content_Length" not in headers:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            server.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            xml = "application/xml; charset=utf-8"
            if self.path == "/google.atom":
                if self.headers.get("If-None-Match") == server.ga_etag:
                    self.send(304, ETag=server.ga_etag)
                else:
                    body = fixture("google_alerts.atom")
                    self.send(
                        200, body, Content_Type=xml, ETag=server.ga_etag, Last_Modified=GA_LAST_MODIFIED
                    )
            elif self.path == "/talkwalker.rss":  # Last-Modified only, no ETag
                if self.headers.get("If-Modified-Since") == TW_LAST_MODIFIED:
                    self.send(304)
                else:
                    self.send(
                        200, fixture("talkwalker.rss"), Content_Type=xml, Last_Modified=TW_LAST_MODIFIED
                    )
            elif self.path in ("/empty.rss", "/broken.xml"):
                self.send(200, fixture(self.path[1:]), Content_Type=xml)
            elif self.path == "/page.html":
                self.send(200, fixture("not_a_feed.html"), Content_Type="text/html; charset=utf-8")
            elif self.path == "/moved":
                self.send(301, Location="/google.atom")
            elif self.path == "/boom":
                self.send(500, b"Internal Server Error")
            elif self.path == "/hang":
                server.release.wait(10)
                self.send(200, fixture("empty.rss"))
            elif self.path == "/huge":
                self.huge(declare_length=False)
            elif self.path == "/huge-declared":
                self.huge(declare_length=True)
            else:
                self.send(404, b"Not Found")

        def huge(self, *, declare_length: bool) -> None:
            # No Content-Length (HTTP/1.0, body ends at close): only streaming with a cap can stop this.
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            if declare_length:
                self.send_header("Content-Length", str(HUGE_TOTAL))
            self.end_headers()
            chunk = b"<!-- " + b"x" * 65_526 + b" -->"
            try:
                for _ in range(HUGE_TOTAL // len(chunk)):
                    self.wfile.write(chunk)
                server.huge_finished = True
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client hung up, as it should

    return Handler


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    state = FeedServer(base="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield state
    state.release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as c:
        yield c


def poll(
    client: httpx.Client, url: str, validators: FeedValidators | None = None, max_bytes: int = 5_000_000
) -> FeedPoll:
    validators = validators or FeedValidators()
    return fetch_feed(
        client, url=url, source="google-alerts", validators=validators, now=NOW, max_bytes=max_bytes
    )


def test_second_poll_sends_validators_and_gets_not_modified(
    feed_server: FeedServer, client: httpx.Client
) -> None:
    first = poll(client, f"{feed_server.base}/google.atom")

    assert first.status == "ok" and first.error is None and first.skipped == []
    assert len(first.mentions) == 2
    assert first.validators == FeedValidators(etag=GA_ETAG, last_modified=GA_LAST_MODIFIED)
    assert feed_server.conditional_headers(0) == {}

    second = poll(client, f"{feed_server.base}/google.atom", first.validators)

    assert feed_server.conditional_headers(1) == {
        "if-none-match": GA_ETAG,
        "if-modified-since": GA_LAST_MODIFIED,
    }
    assert second.status == "not_modified"
    assert second.mentions == []
    assert second.validators == first.validators

    feed_server.ga_etag = '"ga-v2"'  # the feed changed: full answer and new validators
    third = poll(client, f"{feed_server.base}/google.atom", second.validators)
    assert third.status == "ok" and len(third.mentions) == 2
    assert third.validators.etag == '"ga-v2"'


def test_last_modified_alone_is_enough_for_a_conditional_get(
    feed_server: FeedServer, client: httpx.Client
) -> None:
    first = poll(client, f"{feed_server.base}/talkwalker.rss")
    assert first.status == "ok" and len(first.mentions) == 3
    assert first.validators == FeedValidators(etag=None, last_modified=TW_LAST_MODIFIED)

    second = poll(client, f"{feed_server.base}/talkwalker.rss", first.validators)
    assert feed_server.conditional_headers(1) == {"if-modified-since": TW_LAST_MODIFIED}
    assert second.status == "not_modified"


def test_redirects_are_followed(feed_server: FeedServer, client: httpx.Client) -> None:
    result = poll(client, f"{feed_server.base}/moved")
    assert result.status == "ok" and len(result.mentions) == 2


@pytest.mark.parametrize("path, status", [("/gone", 404), ("/boom", 500)])
def test_http_errors_are_reported_and_keep_the_old_validators(
    feed_server: FeedServer, client: httpx.Client, path: str, status: int
) -> None:
    previous = FeedValidators(etag='"old"', last_modified=GA_LAST_MODIFIED)
    result = poll(client, f"{feed_server.base}{path}", previous)

    assert result.status == "error"
    assert result.error == f"HTTP {status} from {feed_server.base}{path}"
    assert result.mentions == []
    assert result.validators == previous


def test_a_hanging_server_times_out(feed_server: FeedServer) -> None:
    started = time.monotonic()
    with httpx.Client(timeout=0.3) as quick:
        result = poll(quick, f"{feed_server.base}/hang")

    assert result.status == "error"
    assert result.error == "timed out after 0.3 s"
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("path", ["/huge", "/huge-declared"])
def test_oversized_bodies_are_refused_without_reading_them_whole(
    feed_server: FeedServer, client: httpx.Client, path: str
) -> None:
    result = poll(client, f"{feed_server.base}{path}", max_bytes=100_000)

    assert result.status == "error"
    assert result.error == "feed bigger than the 100,000 bytes limit"
    assert not feed_server.huge_finished  # we hung up long before the 50 MB were sent


@pytest.mark.parametrize("path", ["/page.html", "/broken.xml"])
def test_bodies_that_are_not_feeds_are_errors(
    feed_server: FeedServer, client: httpx.Client, path: str
) -> None:
    previous = FeedValidators(etag='"old"', last_modified=None)
    result = poll(client, f"{feed_server.base}{path}", previous)
    assert (result.status, result.error, result.validators) == ("error", "not an RSS or Atom feed", previous)


def test_an_empty_feed_is_a_successful_poll(feed_server: FeedServer, client: httpx.Client) -> None:
    result = poll(client, f"{feed_server.base}/empty.rss")
    assert (result.status, result.mentions, result.error) == ("ok", [], None)


def test_unreachable_hosts_and_bad_urls_are_errors_not_exceptions(client: httpx.Client) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    refused = poll(client, f"http://127.0.0.1:{closed_port}/feed")
    assert refused.status == "error"
    assert refused.error is not None and refused.error.startswith(
        f"could not reach http://127.0.0.1:{closed_port}/feed"
    )

    bad = poll(client, "ftp://example.com/feed.xml")
    assert (bad.status, bad.error) == ("error", "not a valid http(s) URL: ftp://example.com/feed.xml")
