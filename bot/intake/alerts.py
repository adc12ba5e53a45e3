"""Messages in an alerts channel (where Meltwater, Talkwalker, Brand24, Google Alerts... post into Slack) into
mentions. Pure: a Slack `message` event in, `MentionIn`s out.

What Slack sends (see tests/fixtures/alerts/): an app's post (`bot_id` + `bot_profile`), an incoming webhook's
(`subtype: bot_message`, `username`), a person's (`user`, links unfurled as attachments with `from_url`), and a
`message_changed` when Slack adds the unfurl afterwards (the message is in `event.message`). Each attachment
that links somewhere is a mention; a message without one gives the last link of its text that is not a
profile. The URL is the mention's id at its source, so the same post relayed twice is stored once.
Housekeeping subtypes (`channel_join`, `message_deleted`...) give nothing.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bot.intake.dates import parse_date
from bot.intake.files import parse_reach
from bot.intake.problems import ImportProblem
from bot.intake.schema import MAX_TEXT, MentionIn
from bot.intake.signals import sentiment_label

# Messages that carry an alert; every other subtype is housekeeping (joins, topics, deletions, pins...).
_CARRIERS = frozenset({None, "bot_message", "file_share", "thread_broadcast", "me_message"})
_SLACK_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
_HTML_TAG = re.compile(r"</?(?:b|i|em|strong|u|br|span|mark)\b[^<>]*>", re.IGNORECASE)
_BARE_DOMAIN = re.compile(r"(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)+", re.IGNORECASE)
# Tools relayed through a generic app (the RSS app, a webhook): recognised by what the post says of itself.
_KNOWN_TOOLS = ((re.compile(r"google\s+alerts?|alertes?\s+google", re.IGNORECASE), "google-alerts"),)
_GENERIC_POSTERS = frozenset({"rss", "incoming-webhook", "incoming-webhooks", "webhook", "zapier", "ifttt", "make"})
_AUTHOR_FIELDS = frozenset({"author", "auteur", "by", "par"})
_DATE_FIELDS = frozenset({"published", "date", "published at", "publié", "publié le", "publication"})
_REACH_FIELDS = frozenset({"reach", "audience", "portée", "potential reach"})
_SENTIMENT_FIELDS = frozenset({"sentiment", "tone", "tonalité", "ton"})


@dataclass(frozen=True)
class AlertMessage:
    channel: str
    ts: str  # the original message's (also for a message_changed): where the reaction goes
    mentions: list[MentionIn]


def read_alert(event: dict[str, Any], *, tool: str | None = None, zone: tzinfo = UTC) -> AlertMessage | None:
    """The mentions of one `message` event; None for housekeeping. `tool`: the source to give them (the
    protocol's), else the tool's name as the message gives it ("slack" for a person's message)."""
    message = event
    if event.get("subtype") == "message_changed":
        message = event.get("message") or {}
    if message.get("subtype") not in _CARRIERS or not event.get("channel") or not message.get("ts"):
        return None
    ts = str(message["ts"])
    is_bot = bool(message.get("bot_id")) or message.get("subtype") == "bot_message"
    if is_bot and message.get("thread_ts") not in (None, ts):
        return None  # a bot's answer in a thread (Vigie's own "relayed to..." among them), not an alert
    posted = datetime.fromtimestamp(int(float(ts)), tz=UTC)  # the second; the decimals only order messages
    poster = ((message.get("bot_profile") or {}).get("name") or message.get("username")) if is_bot else None
    mentions: dict[str, MentionIn] = {}
    for attachment in message.get("attachments") or []:
        link = attachment.get("title_link") or attachment.get("from_url") or attachment.get("original_url")
        if not isinstance(link, str) or not link.startswith(("http://", "https://")):
            continue
        url = _unwrap(link)
        source = tool or _source(is_bot, poster, attachment)
        made = _attachment_mention(attachment, url, source, posted, zone)
        if made is not None:
            mentions.setdefault(url, made)
    if not mentions:
        made = _text_mention(message.get("text") or "", tool or _source(is_bot, poster, {}), posted)
        if made is not None:
            mentions[str(made.url)] = made
    return AlertMessage(channel=str(event["channel"]), ts=ts, mentions=list(mentions.values()))


def render(text: str) -> str:
    """Slack markup as plain text: links as their labels, no *bold* nor ~strike~, no quote marks."""

    def link(match: re.Match[str]) -> str:
        target, label = match[1], match[2]
        if label:
            return label
        if target.startswith(("@", "#")):
            return target
        if target.startswith("!"):
            return "@" + target[1:].split("^")[0]
        return target

    out = _SLACK_LINK.sub(link, text)
    out = re.sub(r"(?<![\w*])\*(\S(?:[^*\n]*\S)?)\*(?![\w*])", r"\1", out)
    out = re.sub(r"(?<![\w~])~(\S(?:[^~\n]*\S)?)~(?![\w~])", r"\1", out)
    out = re.sub(r"^(?:&gt;|>)[ \t]?", "", out, flags=re.MULTILINE)
    return html.unescape(out).strip()


def _attachment_mention(a: dict[str, Any], url: str, source: str, posted: datetime,
                        zone: tzinfo) -> MentionIn | None:
    fields = {str(f.get("title", "")).strip().lower(): str(f.get("value", ""))
              for f in a.get("fields") or [] if isinstance(f, dict)}
    title = _plain(a.get("title") or "")
    if _BARE_DOMAIN.fullmatch(title):
        title = ""  # "instagram.com": the site, not a title
    body = _plain(a.get("text") or "")
    text = "\n\n".join(part for part in (title, body) if part) or _plain(a.get("fallback") or "")
    author = (a.get("author_name") or _field(fields, _AUTHOR_FIELDS) or _host(url)).strip()
    published = posted
    written = _field(fields, _DATE_FIELDS)
    if written:
        try:
            published = parse_date(written, zone)
        except ImportProblem:
            pass
    elif a.get("ts"):
        try:
            published = datetime.fromtimestamp(float(a["ts"]), tz=UTC)
        except (TypeError, ValueError, OverflowError, OSError):
            pass
    reach = None
    if _field(fields, _REACH_FIELDS):
        try:
            reach = parse_reach(_field(fields, _REACH_FIELDS))
        except (ImportProblem, ValueError):
            reach = None
    return _mention(source, url, author, text, published, reach,
                    sentiment_label(_field(fields, _SENTIMENT_FIELDS)))


def _text_mention(text: str, source: str, posted: datetime) -> MentionIn | None:
    links = [(m[1], m[2] or "") for m in _SLACK_LINK.finditer(text) if m[1].startswith(("http://", "https://"))]
    if not links:
        return None
    posts = [link for link in links if not _profile(*link)]
    url = _unwrap((posts or links)[-1][0])
    rendered = render(text)
    return _mention(source, url, _attribution(rendered) or _host(url), rendered, posted, None)


def _mention(source: str, url: str, author: str, text: str, published: datetime, reach: int | None,
             sentiment: str | None = None) -> MentionIn | None:
    try:
        return MentionIn(source=source, external_id=url, url=url, author=author or _host(url),  # type: ignore[arg-type]
                         text=(text or url)[:MAX_TEXT], published_at=published, reach=reach,
                         sentiment=sentiment)  # type: ignore[arg-type]
    except ValueError:  # an unusable link or value: no mention rather than a failed event
        return None


def _source(is_bot: bool, poster: str | None, attachment: dict[str, Any]) -> str:
    if not is_bot:
        return "slack"
    said = [str(attachment.get(k) or "") for k in ("footer", "service_name")] + [poster or ""]
    for pattern, name in _KNOWN_TOOLS:
        if any(pattern.search(s) for s in said):
            return name
    for candidate in (poster, attachment.get("service_name")):
        slug = _slug(str(candidate or ""))
        if slug and slug not in _GENERIC_POSTERS:
            return slug
    return "slack"


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40]


def _plain(text: str) -> str:
    return render(_HTML_TAG.sub("", str(text)))


def _field(fields: dict[str, str], names: frozenset[str]) -> str | None:
    return next((render(v) for k, v in fields.items() if k in names and v.strip()), None)


def _unwrap(url: str) -> str:
    """Google's redirect (google.com/url?...&url=TARGET) -> TARGET."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    if re.fullmatch(r"google\.[a-z.]+", host) and parts.path == "/url":
        query = parse_qs(parts.query)
        target = (query.get("url") or query.get("q") or [""])[0]
        if target.startswith(("http://", "https://")):
            return target
    return url


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


def _profile(url: str, label: str) -> bool:
    """A link to a person's page (x.com/danawhit, labelled @danawhit), not to a post."""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    return label.startswith("@") or (len(segments) == 1 and segments[0].startswith("@")) or (
        len(segments) == 1 and not urlsplit(url).query)


def _attribution(text: str) -> str | None:
    """The author as a post quoted in text names it: "— Dana Whitfield (@danawhit) · voir le tweet"."""
    for line in text.splitlines():
        match = re.match(r"^\s*[—–-]\s+(.+?)(?:\s+·\s+.*)?$", line)
        if match:
            return match[1].strip()
    return None
