"""Vendor presets: which column of each monitoring tool's export holds which part of a mention.

    preset = detect_preset(header)            # the most specific preset whose signature columns are all there
    binding = preset.bind(header)             # column indexes, once per file
    fields = binding.fields(row)              # {"text": "Title\\n\\nBody", "author": "Name (@handle)", ...}

Each preset cites where its layout comes from (tests/fixtures/exports/SOURCES.md says what is documented and
what is assumed). Column names are compared case-, accent- and punctuation-insensitively. The generic layout
(the column names in FIELD_ALIASES) is what a file gets when no vendor preset matches.

Report lines above the header (Brandwatch's "Report:, Mentions", Meltwater's search name) are skipped by
`find_header`, or by an explicit `skip_rows`.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.intake.dates import join_date_time

# Names as `normalize` leaves them (lower case, no accents, '_' between words), best first: a Brandwatch
# export has both "Full Text" and "Snippet" and the full text is the one we want.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "source": ("source", "network", "reseau", "platform"),
    "external_id": ("external_id", "id", "post_id", "guid"),
    "url": ("url", "link", "lien", "permalink"),
    "author": ("author", "auteur", "author_name", "username", "user_name", "screen_name"),
    "text": ("text", "full_text", "content", "contenu", "texte", "message", "snippet"),
    "published_at": ("published_at", "published", "date", "created_at", "publication_date"),
    "language": ("language", "lang", "langue"),
    "reach": ("reach", "audience", "followers", "portee"),
    "tags": ("tags", "tag", "labels"),
    "engagement": ("engagement", "engagements", "interactions", "engagement_score"),
    "sentiment": ("sentiment", "tone", "tonalite", "polarity"),
}
# Without these a line can never become a mention (source can also come from the `source` argument).
REQUIRED_COLUMNS = ("text", "url", "published_at")
GENERIC = "generic"
HEADER_SCAN = 30  # report lines above a header: Brandwatch writes 6, nobody writes 30
DELIMITERS = (",", ";", "\t")  # on a tie (or none at all) the first wins: comma


def normalize(name: str) -> str:
    """'Portée' -> 'portee', 'Published At' -> 'published_at', 'Date (GMT)' -> 'date_gmt'."""
    decomposed = unicodedata.normalize("NFKD", name.strip().lower())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[^a-z0-9]+", "_", plain).strip("_")


@dataclass(frozen=True)
class Preset:
    """One vendor's export layout: the column (as the vendor titles it) of each part of a mention.

    `signature`: the columns that must all be in a header for the preset to be detected; `body` columns are
    tried in order (first non-empty wins) and joined after `title`; `author` (display name) and `handle` make
    "Name (@handle)"; `time` is a separate time-of-day column; `timezone` the zone the vendor documents for its
    date column (None: the account's zone, given with --timezone)."""

    name: str
    label: str
    signature: tuple[str, ...]
    date: str
    url: str
    body: tuple[str, ...]
    title: str | None = None
    time: str | None = None
    timezone: str | None = None
    author: str | None = None
    handle: str | None = None
    external_id: str | None = None
    language: str | None = None
    reach: tuple[str, ...] = ()
    engagement: str | None = None
    sentiment: str | None = None
    tags: str | None = None
    source_note: str = field(default="", compare=False)

    def columns(self) -> dict[str, tuple[str, ...]]:
        """Vigie field -> the columns it is read from (for `vigie import --list-presets`)."""
        named = {
            "text": ((self.title,) if self.title else ()) + self.body,
            "author": tuple(c for c in (self.author, self.handle) if c),
            "url": (self.url,), "published_at": tuple(c for c in (self.date, self.time) if c),
            "external_id": (self.external_id,) if self.external_id else (),
            "language": (self.language,) if self.language else (), "reach": self.reach,
            "engagement": (self.engagement,) if self.engagement else (),
            "sentiment": (self.sentiment,) if self.sentiment else (), "tags": (self.tags,) if self.tags else (),
        }
        return {name: cols for name, cols in named.items() if cols}

    def matches(self, names: Iterable[str]) -> bool:
        present = set(names)
        return all(normalize(column) in present for column in self.signature)

    def bind(self, header: Sequence[str]) -> Binding:
        names = [normalize(cell) for cell in header]

        def index(column: str | None) -> int | None:
            key = normalize(column) if column else None
            return names.index(key) if key and key in names else None

        return Binding(
            preset=self, title=index(self.title), body=tuple(i for c in self.body if (i := index(c)) is not None),
            date=index(self.date), time=index(self.time), url=index(self.url), author=index(self.author),
            handle=index(self.handle), external_id=index(self.external_id), language=index(self.language),
            reach=tuple(i for c in self.reach if (i := index(c)) is not None), tags=index(self.tags),
            engagement=index(self.engagement), sentiment=index(self.sentiment),
        )


@dataclass(frozen=True)
class Binding:
    """A preset bound to one file's header: column indexes, None where the file lacks the column."""

    preset: Preset
    title: int | None
    body: tuple[int, ...]
    date: int | None
    time: int | None
    url: int | None
    author: int | None
    handle: int | None
    external_id: int | None
    language: int | None
    reach: tuple[int, ...]
    tags: int | None
    engagement: int | None = None
    sentiment: int | None = None

    def used(self) -> set[int]:
        singles = (self.title, self.date, self.time, self.url, self.author, self.handle, self.external_id,
                   self.language, self.tags, self.engagement, self.sentiment)
        return {i for i in singles if i is not None} | set(self.body) | set(self.reach)

    def missing(self) -> list[str]:
        """Required fields this file has no column for."""
        gaps = {"text": self.title is None and not self.body, "url": self.url is None,
                "published_at": self.date is None}
        return [name for name, gap in gaps.items() if gap]

    def fields(self, row: Sequence[str]) -> dict[str, Any]:
        """One CSV record -> raw Vigie fields (strings, still to be converted and validated)."""

        def cell(index: int | None) -> str:
            return row[index].strip() if index is not None and index < len(row) else ""

        body = next((text for text in map(cell, self.body) if text), "")
        return {
            "source": self.preset.name,
            "external_id": cell(self.external_id),
            "url": cell(self.url),
            "author": join_author(cell(self.author), cell(self.handle)),
            "text": join_text(cell(self.title), body),
            "published_at": join_date_time(cell(self.date), cell(self.time)),
            "language": cell(self.language),
            "reach": next((value for value in map(cell, self.reach) if value), ""),
            "tags": cell(self.tags),
            "engagement": cell(self.engagement),
            "sentiment": cell(self.sentiment),
        }


def join_text(title: str, body: str) -> str:
    """Title + blank line + body when both exist; a social post (no title, or the title is the body) alone."""
    title, body = title.strip(), body.strip()
    if not title or body.startswith(title):
        return body
    if not body:
        return title
    return f"{title}\n\n{body}"


def join_author(name: str, handle: str) -> str:
    """"Julien R." + "@julien_r75" -> "Julien R. (@julien_r75)"; the one given otherwise, as written."""
    name, bare = name.strip(), handle.strip().lstrip("@")
    if name and bare and name.lstrip("@") != bare:
        return f"{name} (@{bare})"
    return name or handle.strip()


# --- the presets, most specific first on equal signatures --------------------------------------------------

PRESETS: tuple[Preset, ...] = (
    # Meltwater Explore export: column list of a real export analysed in github.com/alvaroaguado3/IS_735_Hashtag_Virality
    # (Columns_data_exploration.txt). Native export (UTF-16 LE, tabs, search name on the first line, Date + Time
    # split) assumed from issue 14. Dates in the account's zone.
    Preset("meltwater", "Meltwater (Explore CSV, native UTF-16 export)",
           signature=("Date", "Headline", "URL", "Opening Text", "Influencer"),
           date="Date", time="Time", url="URL", title="Headline", body=("Opening Text",), author="Influencer",
           handle="Twitter Screen Name", external_id="Tweet Id", language="Language", reach=("Reach",),
           engagement="Engagement", sentiment="Sentiment", tags="Document Tags",
           source_note="alvaroaguado3/IS_735_Hashtag_Virality; developer.meltwater.com (UTF-16)"),
    # Talkwalker: field names and `published` in epoch milliseconds from developer.talkwalker.com (Search and
    # Streaming API, documents/field-information); flattened with dotted names in the CSV: assumed.
    Preset("talkwalker", "Talkwalker",
           signature=("url", "published", "content", "extra_author_attributes.name"),
           date="published", url="url", title="title", body=("content",), author="extra_author_attributes.name",
           handle="extra_author_attributes.short_name", language="lang", reach=("reach",),
           engagement="engagement", sentiment="sentiment",
           source_note="developer.talkwalker.com (Search/Streaming API, field information)"),
    # Brandwatch Consumer Research: developers.brandwatch.com "Mention Field Definitions"; column titles
    # ("Full Text", "Reach (new)", "Resource Id") from issue 14; report lines above the header.
    Preset("brandwatch", "Brandwatch Consumer Research",
           signature=("Query Id", "Resource Id", "Full Text", "Url", "Date"),
           date="Date", url="Url", title="Title", body=("Full Text", "Snippet"), author="Full Name",
           handle="Author", external_id="Resource Id", language="Language", reach=("Reach (new)", "Reach"),
           engagement="Engagement Score", sentiment="Sentiment", tags="Tags",
           source_note="developers.brandwatch.com Mention Field Definitions"),
    # Synthesio: developer.synthesio.com/mentions.html (date RFC 3339, language ISO 639-3, title = whole tweet);
    # CSV column titles and ';' assumed.
    Preset("synthesio", "Synthesio",
           signature=("Mention ID", "Date", "Title", "Content", "URL", "Author ID"),
           date="Date", url="URL", title="Title", body=("Content",), author="Author", handle="Author ID",
           external_id="Mention ID", language="Language", reach=("Reach",), sentiment="Sentiment", tags="Topics",
           source_note="developer.synthesio.com/mentions.html"),
    # Radarly (Linkfluence, now Meltwater): publication fields of the public Radarly API (radarly-py).
    Preset("radarly", "Radarly (Linkfluence)",
           signature=("uid", "date", "permalink", "user.name"),
           date="date", url="permalink", title="title", body=("text",), author="user.name",
           handle="user.screen_name", external_id="uid", language="lang", reach=("reach",), sentiment="tone",
           tags="tags", source_note="Radarly API publication model (radarly-py)"),
    # Mention (mention.com): mention object of the public API (mintlify page of mazi76erX2/mention-python);
    # the CSV layout, day-first dates and narrow-space thousands are assumed.
    Preset("mention", "Mention",
           signature=("Published at", "Description", "Link", "Author username"),
           date="Published at", url="Link", title="Title", body=("Description",), author="Author name",
           handle="Author username", external_id="ID", language="Language", reach=("Reach",), sentiment="Tone",
           tags="Tags", source_note="mention.com API mention model"),
    # Sprout Social: api.sproutsocial.com/docs documents the API, not the CSV: columns and US dates assumed.
    Preset("sprout", "Sprout Social (Listening)",
           signature=("Date", "Message", "Link", "Message ID", "Potential Impressions"),
           date="Date", url="Link", body=("Message",), author="Author Name", handle="Author Username",
           external_id="Message ID", language="Language", reach=("Potential Impressions",),
           engagement="Engagements", sentiment="Sentiment", tags="Tags",
           source_note="api.sproutsocial.com/docs (API); CSV assumed"),
    # Hootsuite streams export: "Date (GMT)" is UTC whatever the account's zone (issue 14); other columns assumed.
    Preset("hootsuite", "Hootsuite", signature=("Date (GMT)", "Post", "Post URL"),
           date="Date (GMT)", timezone="UTC", url="Post URL", body=("Post",), author="Author",
           handle="Author Handle", external_id="Post ID", language="Language", reach=("Reach",),
           sentiment="Sentiment", tags="Tags", source_note="issue 14; help.hootsuite.com export pages"),
    # Agorapulse inbox export, French interface (Date + Heure, language names in French): assumed, nothing found
    # in the vendor's documentation.
    Preset("agorapulse", "Agorapulse (French interface)",
           signature=("Date", "Heure", "Auteur", "Identifiant auteur", "Message", "Lien"),
           date="Date", time="Heure", url="Lien", body=("Message",), author="Auteur", handle="Identifiant auteur",
           language="Langue", sentiment="Sentiment", tags="Libellés", source_note="assumed (no public layout)"),
    # Salesforce Social Studio / Radian6: columns, Windows-1252 and US dates assumed (the dashboard guide
    # describes topic profiles, not exports).
    Preset("radian6", "Salesforce Social Studio / Radian6",
           signature=("Post Title", "Post Content", "Publish Date", "URL"),
           date="Publish Date", url="URL", title="Post Title", body=("Post Content",), author="Author",
           external_id="Post ID", language="Language", reach=("Twitter Followers", "Views"),
           engagement="Comments", sentiment="Sentiment", tags="Tags",
           source_note="assumed; Radian6 dashboard guide"),
)
_BY_NAME = {preset.name: preset for preset in PRESETS}
_BY_SPECIFICITY = sorted(PRESETS, key=lambda preset: -len(preset.signature))


def preset_names() -> tuple[str, ...]:
    """Every name `--preset` accepts, the generic layout last."""
    return (*_BY_NAME, GENERIC)


def list_presets() -> list[tuple[str, str, dict[str, tuple[str, ...]]]]:
    """(name, label, {field: columns}) for each preset, the generic layout last (its column names)."""
    rows = [(preset.name, preset.label, preset.columns()) for preset in PRESETS]
    rows.append((GENERIC, GENERIC, dict(FIELD_ALIASES)))
    return rows


def get_preset(name: str) -> Preset | None:
    """The preset called `name` (any case); None for "generic"; KeyError for an unknown name."""
    key = name.strip().lower()
    if key == GENERIC:
        return None
    return _BY_NAME[key]


def detect_preset(header: Sequence[str]) -> Preset | None:
    """The most specific preset whose signature columns are all in `header`; None: the generic layout."""
    names = {normalize(cell) for cell in header}
    return next((preset for preset in _BY_SPECIFICITY if preset.matches(names)), None)


def generic_matches(header: Sequence[str]) -> bool:
    names = {normalize(cell) for cell in header}
    return all(any(alias in names for alias in FIELD_ALIASES[name]) for name in REQUIRED_COLUMNS)


def split_header(line: str) -> tuple[str, list[str]]:
    """A header line -> (its delimiter: the most frequent of ',', ';' and tab; its cells)."""
    delimiter = max(DELIMITERS, key=line.count)
    try:
        cells = next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        cells = []
    return delimiter, cells


def find_header(lines: Sequence[str]) -> int:
    """Index of the header among the first lines of a file: the first one a preset (or the generic layout)
    recognises; 0 when none does (the header is then the first line, and its problems are told as such)."""
    for index, line in enumerate(lines[:HEADER_SCAN]):
        _, cells = split_header(line)
        if cells and (detect_preset(cells) is not None or generic_matches(cells)):
            return index
    return 0
