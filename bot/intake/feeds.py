"""RSS and Atom polling (Google Alerts, Talkwalker Alerts, any feed) turned into `MentionIn` objects.

Pure apart from the HTTP GET in `fetch_feed`: no database, no Slack, and no clock reads (the caller passes
`now`). Storage is wired elsewhere.

Read the way the feed means it:
- links are resolved against the feed's own URL (`<link>/acme-greve</link>`, `../a`, `a?b=1`);
- dates go through `bot.intake.dates` (French and English names, `21/11/2026 09:30`, CET/CEST/EST/EDT...),
  a date without a zone being in the feed's zone (the protocol's). A date that cannot be read is unknown:
  `FeedEntry.published_at` is None with a warning. `MentionIn.published_at` (and the mentions table) cannot be
  null: the stored mention carries the poll time flagged as unknown (`MentionIn.published_unknown`, stored in
  the mention's `extra` as {"published_unknown": true}), never taken for the feed's date;
- warnings are `FeedWarning`s (a catalogue key and its parameters), put in words in the reader's language by
  `message(lang)` and stored as data with the feed's status (`FeedState.warnings`);
- text typed as plain (Atom `type="text"`, an RSS title with no HTML in it) is kept verbatim; HTML is turned
  into text, and a "tag" that names no HTML element (`<Support>`, `<chat>`) is words, kept as written;
- title and body are joined by a blank line (`presets.join_text`, the same rule as the file import);
- the HTTP headers go to the parser (Content-Type's charset wins over the XML declaration, RFC 7303);
- a valid feed without entries is a healthy feed giving no mentions.

`fetch_feed` never raises for network or content problems: a monitoring loop polls many feeds and one broken
feed must not stop the others, so failures come back as `FeedPoll(status="error", error=<sentence>)`.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from html.parser import HTMLParser
from typing import Any, Literal
from urllib.parse import parse_qs, urljoin, urlsplit

import feedparser
import httpx
from pydantic import ValidationError

from bot.i18n import t
from bot.intake.dates import parse_date
from bot.intake.presets import join_text
from bot.intake.schema import MAX_TEXT, MentionIn, field_message

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


@dataclass(frozen=True)
class FeedWarning:
    """What went wrong with a feed entry, as data: a catalogue key (`feed.warn.*`) and its parameters; `inner` is
    the entry's own warning when this one says which entry ("entry 5 (id): <inner>")."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)
    inner: FeedWarning | None = None

    def message(self, lang: str) -> str:
        params = {name: t("quote", lang, text=value) if name == "date" else value
                  for name, value in self.params.items() if name != "fields"}
        if "fields" in self.params:  # an entry that could not be a mention: each field at fault, in words
            params["reason"] = t("intake.error.separator", lang).join(
                t("intake.error.field", lang, field=f["field"],
                  message=field_message({"type": f["type"], "loc": (f["field"],), "ctx": f.get("ctx") or {}}, lang))
                for f in self.params["fields"])
        if self.inner is not None:
            params["warning"] = self.inner.message(lang)
        return t(self.key, lang, **params)

    def as_dict(self) -> dict[str, Any]:
        """JSON for `FeedState.warnings`."""
        row: dict[str, Any] = {"key": self.key, "params": dict(self.params)}
        if self.inner is not None:
            row["inner"] = self.inner.as_dict()
        return row

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> FeedWarning:
        inner = row.get("inner")
        return cls(str(row["key"]), dict(row.get("params") or {}), cls.from_dict(inner) if inner else None)


@dataclass(frozen=True)
class FeedEntry:
    """One entry as read: its mention, the feed's own date (None when unknown) and what went wrong."""

    mention: MentionIn  # published_at: the feed's date, or the poll time when the feed gives none we can read
    published_at: datetime | None
    warnings: tuple[FeedWarning, ...] = ()
    position: int = 0  # its place in the feed, from 1 (skipped entries count)

    def as_json(self, lang: str = "en") -> dict[str, Any]:
        """The mention's fields with the feed's own date (null when unknown), plus warnings (in `lang`)."""
        row: dict[str, Any] = self.mention.model_dump(
            mode="json", include={"source", "external_id", "url", "author", "text", "language", "reach"})
        row["url"] = str(self.mention.url)
        row["published_at"] = self.published_at.isoformat() if self.published_at else None
        row = {key: row[key] for key in ("source", "external_id", "url", "author", "text", "published_at",
                                         "language", "reach")}
        if self.warnings:
            row["warnings"] = [warning.message(lang) for warning in self.warnings]
        return row


@dataclass
class FeedReport:
    entries: list[FeedEntry] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # entries that could not become a mention, and why
    dropped: list[FeedWarning] = field(default_factory=list)  # the same, as data (translated when shown)

    @property
    def mentions(self) -> list[MentionIn]:
        return [entry.mention for entry in self.entries]

    @property
    def warnings(self) -> list[FeedWarning]:
        """Every entry's warnings, each naming its entry ("entry 5 (id): unreadable date ..."), and the entries that
        could not be mentions, in the feed's order."""
        kept = [FeedWarning("feed.warn.entry", {"position": entry.position or index,
                                                "id": _label(entry.mention.external_id)}, warning)
                for index, entry in enumerate(self.entries, start=1) for warning in entry.warnings]
        return sorted(kept + self.dropped, key=lambda warning: int(warning.params["position"]))


@dataclass
class FeedPoll:
    status: Literal["ok", "not_modified", "error"]
    mentions: list[MentionIn]
    validators: FeedValidators  # store these for the next poll (unchanged after an error)
    error: str | None = None  # a short sentence for humans when status == "error"
    skipped: list[str] = field(default_factory=list)  # entries that could not become a mention, and why
    entries: list[FeedEntry] = field(default_factory=list)  # the mentions with their own dates and warnings
    warnings: list[FeedWarning] = field(default_factory=list)  # the feed's report: one per entry warning


def fetch_feed(
    client: httpx.Client,
    *,
    url: str,
    source: str,
    validators: FeedValidators,
    now: datetime,
    language: str | None = None,
    max_bytes: int = 5_000_000,
    zone: tzinfo = UTC,
) -> FeedPoll:
    """Poll one feed with a conditional GET and turn its entries into mentions.

    `now` is the poll time, stored as `published_at` for entries whose date is missing or unreadable (with a
    warning); `zone` is the zone of dates written without one. Timeouts come from `client`.
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
            final_url = str(response.url)  # after redirects: the base of the feed's relative links
            response_headers = dict(response.headers)
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
        report = read_feed(body, source=source, language=language, fallback_time=now, url=final_url,
                           headers=response_headers, zone=zone)
    except NotAFeedError as exc:
        return failed(str(exc))
    return FeedPoll(status="ok", mentions=report.mentions, validators=new_validators, skipped=report.skipped,
                    entries=report.entries, warnings=report.warnings)


def parse_feed(
    content: bytes, *, source: str, language: str | None = None, fallback_time: datetime, url: str | None = None,
    headers: Mapping[str, str] | None = None, zone: tzinfo = UTC,
) -> tuple[list[MentionIn], list[str]]:
    """`read_feed`'s mentions and skipped entries (the shape older callers use)."""
    report = read_feed(content, source=source, language=language, fallback_time=fallback_time, url=url,
                       headers=headers, zone=zone)
    return report.mentions, report.skipped


# The headers that tell the parser how to read the body; Content-Location is left out on purpose: feedparser
# would resolve <guid>s against it ("gazette-88121" -> "https://host/flux/gazette-88121"), and ids are names.
_PARSER_HEADERS = ("content-type", "content-language")
# Bozo reasons that are no reason to doubt the document is a feed (the HTTP charset overrode the XML one).
_HARMLESS_BOZO = (feedparser.CharacterEncodingOverride,)


def read_feed(
    content: bytes, *, source: str, language: str | None = None, fallback_time: datetime, url: str | None = None,
    headers: Mapping[str, str] | None = None, zone: tzinfo = UTC,
) -> FeedReport:
    """Turn an RSS or Atom document into entries, plus one "why" sentence per entry that was skipped.

    `url` is the feed's address (the base of relative links), `headers` the HTTP response headers (the
    charset of Content-Type), `zone` the zone of dates written without one, `fallback_time` the poll time.
    Raises `NotAFeedError` when `content` is not a feed at all (a valid feed without entries gives an empty
    report), and `ValueError` when `language` is not an ISO 639-1 code.
    """
    forced_language = _checked_language(language)
    given = {name.lower(): value for name, value in (headers or {}).items()}
    parser_headers = {name: given[name] for name in _PARSER_HEADERS if name in given}
    base = urljoin(url or "", given.get("content-location", ""))

    # A file object, never the bytes themselves: feedparser treats a bare string as a URL or a file path
    # to open, and feed content must never make us read local files or fetch other URLs. No sanitising:
    # we only ever take text out of the HTML, and the sanitiser drops words that look like tags (<Support>).
    try:
        parsed = feedparser.parse(io.BytesIO(content), response_headers=parser_headers, sanitize_html=False,
                                  resolve_relative_uris=False)
    except Exception as exc:  # feedparser has crashed on malformed input (KeyError on a stray </category>)
        raise NotAFeedError(f"not an RSS or Atom feed (the parser failed: {type(exc).__name__})") from exc
    # `bozo` alone is not fatal: feedparser's lenient parser recovers entries from slightly broken feeds.
    # .get everywhere: for some inputs (an empty body) feedparser leaves keys such as "version" out.
    entries = parsed.get("entries") or []
    doubtful = parsed.get("bozo") and not isinstance(parsed.get("bozo_exception"), _HARMLESS_BOZO)
    if not entries and (doubtful or not parsed.get("version")):
        raise NotAFeedError("not an RSS or Atom feed")

    entry_language = forced_language or language_code((parsed.get("feed") or {}).get("language"))
    report = FeedReport()
    for position, entry in enumerate(entries, start=1):
        try:
            report.entries.append(_entry(entry, source, entry_language, fallback_time, base, zone, position))
        except ValidationError as exc:
            label = entry.get("id") or entry.get("link") or _plain_text(entry.get("title") or "") or "no id"
            report.skipped.append(f"entry {position} ({_label(label)}): {describe_validation_error(exc)}")
            report.dropped.append(FeedWarning("feed.warn.skipped", {
                "position": position, "id": _label(str(label)),
                "fields": [{"field": ".".join(str(p) for p in error["loc"]) or "value", "type": error["type"],
                            "ctx": {k: v for k, v in (error.get("ctx") or {}).items()
                                    if isinstance(v, (int, str)) and not isinstance(v, bool)}}
                           for error in exc.errors(include_url=False)]}))
    return report


def _label(value: str) -> str:
    return value[:80]


def _checked_language(language: str | None) -> str | None:
    code = language_code(language)
    if language is not None and code is None:
        raise ValueError(f"language {language!r} is not a two-letter ISO 639-1 code such as 'fr' or 'en'")
    return code


def _entry(entry: Any, source: str, language: str | None, fallback_time: datetime, base: str,
           zone: tzinfo, position: int = 0) -> FeedEntry:
    link = (entry.get("link") or "").strip()
    if link and base:
        link = urljoin(base, link)  # "/acme-greve", "../a", "a?b=1": against the feed's URL, as a reader would
    link = unwrap_redirect(link)
    detail = entry.get("author_detail") or {}
    # author_detail.name drops the e-mail part of RSS <author>"noreply@x.com (Name)"</author>.
    author = _plain_text(detail.get("name") or entry.get("author") or "") or link_host(link)
    published, warning = _entry_time(entry, zone)
    mention = MentionIn.model_validate(
        {
            "source": source,
            "external_id": fit_external_id(entry.get("id") or link),
            "url": link,
            "author": author,
            "text": _entry_text(entry),
            "published_at": published or fallback_time,
            "language": language,
            "tags": _entry_tags(entry),
        }
    )
    if published is None:
        mention.mark_published_unknown()
    return FeedEntry(mention=mention, published_at=published, warnings=(warning,) if warning else (),
                     position=position)


def _entry_text(entry: Any) -> str:
    title = _detail_text(entry, "title")
    summary = _detail_text(entry, "summary")
    if not summary and entry.get("content"):
        summary = _text_of(entry["content"][0])
    # Tweets and short posts often repeat the title as the summary; join_text says it once.
    text = join_text(title, summary)
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1].rstrip() + "…"
    return text


def _detail_text(entry: Any, key: str) -> str:
    detail = entry.get(f"{key}_detail")
    if detail is not None and dict.get(detail, "value") is not None:
        return _text_of(detail)
    return _plain_text(entry.get(key) or "")


def _text_of(detail: Any) -> str:
    """Plain text as written (whitespace collapsed); HTML (and XHTML) turned into text."""
    value = detail.get("value") or ""
    if (detail.get("type") or "").lower() == "text/plain":
        return " ".join(value.split())
    return _plain_text(value)


def _entry_time(entry: Any, zone: tzinfo) -> tuple[datetime | None, FeedWarning | None]:
    """The entry's own instant read from the text the feed wrote, or None and why."""
    # Our own reading of the raw text rather than feedparser's *_parsed, which takes CET for UTC and gives up
    # on French. dict.get: FeedParserDict.get maps a missing "updated" to "published" with a warning.
    unreadable = None
    for key in ("published", "updated"):
        raw = dict.get(entry, key)
        if not isinstance(raw, str) or not raw.strip():
            continue
        try:
            return parse_date(raw, zone), None
        except (ValueError, OverflowError):  # ImportProblem is a ValueError
            unreadable = unreadable or raw.strip()
    if unreadable is not None:
        return None, FeedWarning("feed.warn.unreadable_date", {"date": unreadable[:80]})
    return None, FeedWarning("feed.warn.no_date")


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
# The elements of HTML (living standard, plus the obsolete ones feeds still carry): any other "<word>" in a
# feed's HTML is text that happens to be in angle brackets ("Le <chat> du site", "<Support>"), kept as written.
_HTML_ELEMENTS = frozenset(
    """a abbr acronym address area article aside audio b base basefont bdi bdo big blink blockquote body br
    button canvas caption center cite code col colgroup data datalist dd del details dfn dialog dir div dl dt em
    embed fieldset figcaption figure font footer form frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html
    i iframe img input ins kbd label legend li link main map mark marquee math menu meta meter nav nobr noembed
    noframes noscript object ol optgroup option output p param picture plaintext pre progress q rp rt ruby s samp
    script search section select slot small source span strike strong style sub summary sup svg table tbody td
    template textarea tfoot th thead time title tr track tt u ul var video wbr xmp""".split()  # noqa: SIM905
)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)  # unescapes &amp; &nbsp; &#39; in text for us
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_ELEMENTS:
            self.handle_data(self.get_starttag_text() or "")
        elif tag in ("script", "style"):
            self._hidden += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")  # "<p>a</p><p>b</p>" must read "a b", not "ab"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_ELEMENTS:
            self.handle_data(self.get_starttag_text() or "")
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def parse_endtag(self, i: int) -> int:
        # html.parser lowercases the name it hands to handle_endtag: keep "</Support>" as it was written.
        end = self.rawdata.find(">", i)
        self._end_text = self.rawdata[i : end + 1] if end >= 0 else ""
        return super().parse_endtag(i)  # type: ignore[misc]

    def handle_endtag(self, tag: str) -> None:
        if tag not in _HTML_ELEMENTS:
            self.handle_data(getattr(self, "_end_text", "") or f"</{tag}>")
        elif tag in ("script", "style") and self._hidden:
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
