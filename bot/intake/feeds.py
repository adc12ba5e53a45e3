"""RSS and Atom polling (Google Alerts, Talkwalker Alerts, any feed) turned into `MentionIn` objects.

Pure apart from the HTTP GET in `fetch_feed`: no database, no Slack, and no clock reads (the caller passes
`now`, used as the publication time of entries that carry no date). Storage is wired elsewhere.

`fetch_feed` never raises for network or content problems: a monitoring loop polls many feeds and one broken
feed must not stop the others, so failures come back as `FeedPoll(status="error", error=<sentence>)`.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import feedparser
import httpx
from pydantic import ValidationError

from bot.intake.schema import MAX_TEXT, MentionIn

# Sent so that servers doing content negotiation hand us the feed rather than an HTML page.
_ACCEPT = "application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
_MAX_EXTERNAL_ID = 200  # MentionIn.external_id max length
_MAX_TAG = 64  # MentionIn tag max length
_MAX_TAGS = 50


class NotAFeedError(ValueError):
    """The bytes are neither RSS nor Atom (an HTML page, truncated XML, an empty body...)."""


@dataclass
class FeedValidators:
    """HTTP cache validators from the last successful poll, sent back so unchanged feeds cost a 304."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass
class FeedPoll:
    status: Literal["ok", "not_modified", "error"]
    mentions: list[MentionIn]
    validators: FeedValidators  # store these for the next poll (unchanged after an error)
    error: str | None = None  # a short sentence for humans when status == "error"
    skipped: list[str] = field(default_factory=list)  # entries that could not become a mention, and why


def fetch_feed(
    client: httpx.Client,
    *,
    url: str,
    source: str,
    validators: FeedValidators,
    now: datetime,
    language: str | None = None,
    max_bytes: int = 5_000_000,
) -> FeedPoll:
    """Poll one feed with a conditional GET and turn its entries into mentions.

    `now` is the poll time, used as `published_at` for entries without a date. Timeouts come from `client`.
    Raises only for caller mistakes (an invalid `language`); network and content problems are an "error" poll.
    """
    _checked_language(language)  # a configuration mistake: say so before any network traffic
    headers = {"Accept": _ACCEPT}
    if validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified

    def failed(message: str) -> FeedPoll:
        # Keep the previous validators: a failed poll must not make us forget what we had already seen.
        return FeedPoll(status="error", mentions=[], validators=validators, error=message)

    try:
        # Feeds move (http -> https, new paths); following redirects beats failing with "HTTP 301".
        with client.stream("GET", url, headers=headers, follow_redirects=True) as response:
            if response.status_code == 304:
                return FeedPoll(
                    status="not_modified",
                    mentions=[],
                    validators=FeedValidators(
                        etag=response.headers.get("etag") or validators.etag,
                        last_modified=response.headers.get("last-modified") or validators.last_modified,
                    ),
                )
            if not response.is_success:
                return failed(f"HTTP {response.status_code} from {url}")
            body = _read_at_most(response, max_bytes)
            if body is None:
                return failed(f"feed bigger than the {max_bytes:,} bytes limit")
            new_validators = FeedValidators(
                etag=response.headers.get("etag"), last_modified=response.headers.get("last-modified")
            )
    except httpx.TimeoutException as exc:
        return failed(_timeout_sentence(client, exc))
    except httpx.TooManyRedirects:
        return failed(f"too many redirects from {url}")
    except (httpx.UnsupportedProtocol, httpx.InvalidURL):
        return failed(f"not a valid http(s) URL: {url}")
    except httpx.DecodingError:
        return failed(f"could not decode the response from {url}")
    except httpx.HTTPError as exc:  # connection refused, DNS failure, reset...
        return failed(f"could not reach {url} ({str(exc) or type(exc).__name__})")

    try:
        mentions, skipped = parse_feed(body, source=source, language=language, fallback_time=now)
    except NotAFeedError as exc:
        return failed(str(exc))
    return FeedPoll(status="ok", mentions=mentions, validators=new_validators, skipped=skipped)


def parse_feed(
    content: bytes, *, source: str, language: str | None = None, fallback_time: datetime
) -> tuple[list[MentionIn], list[str]]:
    """Turn an RSS or Atom document into mentions, plus one "why" sentence per entry that was skipped.

    Raises `NotAFeedError` when `content` is not a feed at all (an empty but valid feed gives `([], [])`),
    and `ValueError` when `language` is not an ISO 639-1 code.
    """
    forced_language = _checked_language(language)

    # A file object, never the bytes themselves: feedparser treats a bare string as a URL or a file path
    # to open, and feed content must never make us read local files or fetch other URLs.
    try:
        parsed = feedparser.parse(io.BytesIO(content))
    except Exception as exc:  # feedparser has crashed on malformed input (KeyError on a stray </category>)
        raise NotAFeedError(f"not an RSS or Atom feed (the parser failed: {type(exc).__name__})") from exc
    # `bozo` alone is not fatal: feedparser's lenient parser recovers entries from slightly broken feeds.
    # .get everywhere: for some inputs (an empty body) feedparser leaves keys such as "version" out.
    entries = parsed.get("entries") or []
    if not entries and (parsed.get("bozo") or not parsed.get("version")):
        raise NotAFeedError("not an RSS or Atom feed")

    entry_language = forced_language or language_code((parsed.get("feed") or {}).get("language"))
    mentions: list[MentionIn] = []
    skipped: list[str] = []
    for position, entry in enumerate(entries, start=1):
        try:
            mentions.append(_mention_from_entry(entry, source, entry_language, fallback_time))
        except ValidationError as exc:
            label = entry.get("id") or entry.get("link") or _plain_text(entry.get("title") or "") or "no id"
            skipped.append(f"entry {position} ({label[:80]}): {describe_validation_error(exc)}")
    return mentions, skipped


def _checked_language(language: str | None) -> str | None:
    code = language_code(language)
    if language is not None and code is None:
        raise ValueError(f"language {language!r} is not a two-letter ISO 639-1 code such as 'fr' or 'en'")
    return code


def _mention_from_entry(entry: Any, source: str, language: str | None, fallback_time: datetime) -> MentionIn:
    link = unwrap_redirect((entry.get("link") or "").strip())
    detail = entry.get("author_detail") or {}
    # author_detail.name drops the e-mail part of RSS <author>"noreply@x.com (Name)"</author>.
    author = _plain_text(detail.get("name") or entry.get("author") or "") or link_host(link)
    return MentionIn.model_validate(
        {
            "source": source,
            "external_id": fit_external_id(entry.get("id") or link),
            "url": link,
            "author": author,
            "text": _entry_text(entry),
            "published_at": _entry_time(entry) or fallback_time,
            "language": language,
            "tags": _entry_tags(entry),
        }
    )


def _entry_text(entry: Any) -> str:
    title = _plain_text(entry.get("title") or "")
    summary = entry.get("summary") or ""
    if not summary and entry.get("content"):
        summary = entry["content"][0].get("value") or ""
    summary = _plain_text(summary)
    # Tweets and short posts often repeat the title as the summary; saying it twice helps no one.
    if summary.startswith(title):
        title = ""
    text = " — ".join(part for part in (title, summary) if part)
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1].rstrip() + "…"
    return text


def _entry_time(entry: Any) -> datetime | None:
    # feedparser already normalised these struct_times to UTC, whatever offset the feed used.
    for key in ("published_parsed", "updated_parsed"):
        # dict.get: FeedParserDict.get maps a missing updated_parsed to published_parsed with a warning.
        value = dict.get(entry, key)
        if value:
            try:
                return datetime(*value[:6], tzinfo=UTC)
            except (TypeError, ValueError):
                continue
    return None


def _entry_tags(entry: Any) -> list[str]:
    # Tags are a nicety: a too-long category is dropped rather than losing the whole mention over it.
    tags: list[str] = []
    for tag in entry.get("tags") or []:
        term = _plain_text(tag.get("term") or "")
        if term and len(term) <= _MAX_TAG and term not in tags:
            tags.append(term)
    return tags[:_MAX_TAGS]


# --- helpers shared with bot.intake.files --------------------------------------------------------------


def describe_validation_error(exc: ValidationError, *, ignore: Collection[str] = ()) -> str:
    """Render pydantic errors for humans: "field: sentence" joined by "; " (fields in `ignore` left out)."""
    parts = []
    for error in exc.errors(include_url=False):
        if error["loc"] and error["loc"][0] in ignore:
            continue
        where = ".".join(str(p) for p in error["loc"]) or "value"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing" or (
            error["type"] == "string_too_short" and error.get("ctx", {}).get("min_length") == 1
        ):
            message = "missing or empty"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def fit_external_id(value: str) -> str:
    """Ids longer than MentionIn allows (permalink guids, long URLs) become a stable digest of themselves.

    Stable, so the same mention polled twice keeps deduplicating on (source, external_id).
    """
    value = value.strip()
    if len(value) <= _MAX_EXTERNAL_ID:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()


def link_host(link: str) -> str:
    """The link's host name without "www.", used as author when a source names none ("" if no host)."""
    host = urlsplit(link).hostname or ""
    return host.removeprefix("www.")


# Redirectors that wrap the real link in a query parameter: (host, path, parameters holding the target).
# Deliberately short: unwrapping a URL we do not know could send reviewers to the wrong page.
_REDIRECTORS: tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...] = (
    (re.compile(r"(www\.)?google\.[a-z]{2,3}(\.[a-z]{2})?"), "/url", ("url", "q")),  # Google Alerts
    (re.compile(r"(www\.)?bing\.com"), "/news/apiclick.aspx", ("url",)),  # Bing News alerts
    (re.compile(r"lm?\.facebook\.com"), "/l.php", ("u",)),
    (re.compile(r"l\.instagram\.com"), "/", ("u",)),
    (re.compile(r"[a-z0-9-]+\.safelinks\.protection\.outlook\.com"), "/", ("url",)),
)


def unwrap_redirect(link: str) -> str:
    """The real target of a known redirector link (Google Alerts' google.com/url?url=...), else the link."""
    for _ in range(3):  # a Safe Link around a Google link happens; three levels is plenty
        target = _redirect_target(link)
        if target is None:
            break
        link = target
    return link


def _redirect_target(link: str) -> str | None:
    parts = urlsplit(link)
    host = (parts.hostname or "").lower()
    for host_pattern, path, params in _REDIRECTORS:
        if host_pattern.fullmatch(host) and (parts.path or "/") == path:
            query = parse_qs(parts.query)
            for param in params:
                for candidate in query.get(param, []):
                    target = urlsplit(candidate)
                    if target.scheme in ("http", "https") and target.hostname:
                        return candidate
    return None


def language_code(value: str | None) -> str | None:
    """ISO 639-1 code of a language tag: 'fr', 'fr-FR', 'FR_fr' -> 'fr'; anything else -> None."""
    match = re.fullmatch(r"([A-Za-z]{2})(?:[-_][A-Za-z0-9]+)*", (value or "").strip())
    return match.group(1).lower() if match else None


_BLOCK_TAGS = frozenset(
    {"br", "p", "div", "li", "tr", "td", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}
)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)  # unescapes &amp; &nbsp; &#39; in text for us
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")  # "<p>a</p><p>b</p>" must read "a b", not "ab"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def _plain_text(fragment: str) -> str:
    """HTML fragment -> one line of plain text: tags dropped, entities unescaped, whitespace collapsed."""
    extractor = _TextExtractor()
    try:
        extractor.feed(fragment)
        extractor.close()
        text = "".join(extractor.parts)
    except AssertionError:  # html.parser gives up on some malformed "<![" sections; be cruder, not fail
        text = html.unescape(re.sub(r"<[^>]*>", " ", fragment))
    return " ".join(text.split())


def _read_at_most(response: httpx.Response, max_bytes: int) -> bytes | None:
    """The body, or None as soon as it grows past max_bytes (never buffering more than that)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        return None
    body = bytearray()
    # iter_bytes yields decompressed bytes, so the cap also defuses gzip bombs.
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > max_bytes:
            return None
    return bytes(body)


def _timeout_sentence(client: httpx.Client, exc: httpx.TimeoutException) -> str:
    timeout = client.timeout
    seconds = {
        httpx.ConnectTimeout: timeout.connect,
        httpx.ReadTimeout: timeout.read,
        httpx.WriteTimeout: timeout.write,
        httpx.PoolTimeout: timeout.pool,
    }.get(type(exc))
    return f"timed out after {seconds:g} s" if seconds is not None else "timed out"
