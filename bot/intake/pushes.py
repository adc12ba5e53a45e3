"""Pushes: a monitoring tool's own JSON body (its webhook or stream) -> mentions, with the same presets as files.

    push = get_push("meltwater")              # None for a name that has no push shape
    mentions = push.read(body, lang="fr")     # [MentionIn, ...], or PushRefused naming each field at fault

Each vendor's body is an envelope around a list of items (`items` gives the paths where the list may sit, the
first one present wins; `single` paths hold one item, like Talkwalker's stream chunk). Each
item's fields are read by dotted paths and joined as the file presets join columns (title + body, "Name
(@handle)"), then validated as a `MentionIn`: an error names the vendor's own field ("documents[2].url").
Where each shape comes from, and what is assumed, is in tests/fixtures/exports/SOURCES.md ("Pushes").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from pydantic import ValidationError

from bot.i18n import t
from bot.intake.dates import parse_date
from bot.intake.feeds import link_host
from bot.intake.languages import language_code
from bot.intake.presets import join_author, join_text
from bot.intake.problems import ImportProblem
from bot.intake.schema import MAX_BATCH, MAX_REACH, MentionIn, field_message
from bot.intake.signals import sentiment_label


class PushRefused(ValueError):
    """The body is not the vendor's shape, or some of its items cannot be mentions: `fields` names each one
    ({"field": "documents[2].url", "code": "missing", "message": "..."}), `shape` is True when the envelope
    itself (the list of items) is missing."""

    def __init__(self, fields: list[dict[str, Any]], *, shape: bool = False):
        self.fields, self.shape = fields, shape
        super().__init__("; ".join(f"{f['field']}: {f['message']}" for f in fields))


@dataclass(frozen=True)
class Push:
    """One vendor's push: where its items sit and, for each Vigie field, the item's path(s) it is read from.

    `text` is (title, body...) with the first non-empty body; `author` is (name, handle), and `fallback_author`
    a path used when both are empty (a news article signed by its publication)."""

    name: str
    label: str
    items: tuple[str, ...]
    external_id: str
    url: str
    date: str
    text: tuple[str | None, tuple[str, ...]]
    author: tuple[str | None, str | None]
    single: tuple[str, ...] = ()
    fallback_author: str | None = None
    language: str | None = None
    reach: str | None = None
    tags: str | None = None
    sentiment: str | None = None  # the vendor's own sentiment (bot.intake.signals): unknown values are None
    engagement: str | None = None  # its count of interactions: anything but a whole count is None
    body_optional: bool = False  # the body may be empty and the title hold everything (Synthesio's tweets)
    example: dict[str, Any] = field(default_factory=dict, compare=False)
    source_note: str = field(default="", compare=False)

    def read(self, body: Any, lang: str) -> list[MentionIn]:
        """The push's items as mentions, all of them or PushRefused (nothing half-read)."""
        mentions, errors = [], []
        for prefix, item in self._items(body, lang):
            if not isinstance(item, dict):
                errors.append(_error(prefix, "model_type", t("intake.field.object", lang)))
                continue
            try:
                mentions.append(self._mention(item, lang, prefix))
            except PushRefused as exc:
                errors.extend(exc.fields)
        if errors:
            raise PushRefused(errors)
        return mentions

    def _items(self, body: Any, lang: str) -> list[tuple[str, Any]]:
        """(where, item) for each item: "list.path[].inner" is a list of objects each wrapping its item under
        `inner`; a path without "[]" is a list of items; a path of `single` is one item (a stream chunk)."""
        for spec in self.items:
            path, _, inner = spec.partition("[]")
            inner = inner.lstrip(".")
            found = _get(body, path)
            if isinstance(found, list):
                return [(f"{path}[{i}]" + (f".{inner}" if inner else ""), _get(item, inner) if inner else item)
                        for i, item in enumerate(found)]
        for path in self.single:
            found = _get(body, path)
            if isinstance(found, dict):
                return [(path, found)]
        paths = t("intake.push.or", lang).join(self.items + self.single)
        raise PushRefused([_error(self.items[0].partition("[]")[0], "missing", t("intake.push.items", lang,
                                                                                  paths=paths))], shape=True)

    def _mention(self, item: dict[str, Any], lang: str, prefix: str) -> MentionIn:
        errors: list[dict[str, Any]] = []
        paths: dict[str, str] = {}

        def text(path: str | None) -> str:
            value = _get(item, path) if path else None
            if value is None:
                return ""
            if isinstance(value, str):
                return value
            errors.append(_error(f"{prefix}.{path}", "string_type", t("intake.field.string", lang)))
            return ""

        raw: dict[str, Any] = {"source": self.name}
        for name, path in (("external_id", self.external_id), ("url", self.url)):
            value = _get(item, path)
            paths[name] = path
            if value not in (None, ""):
                raw[name] = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        title_path, body_paths = self.text
        body = next((b for b in map(text, body_paths) if b.strip()), "")
        raw["text"] = join_text(text(title_path), body)
        paths["text"] = body_paths[0]
        name_path, handle_path = self.author
        raw["author"] = (join_author(text(name_path), text(handle_path)) or text(self.fallback_author)
                         or _host(raw.get("url")))
        paths["author"] = name_path or handle_path or ""
        paths["published_at"] = self.date
        date = _get(item, self.date)
        if date not in (None, ""):
            try:
                if isinstance(date, bool) or len(str(date)) > 100:
                    raise ImportProblem("value.not_date")
                raw["published_at"] = parse_date(str(date), UTC)
            except (ValueError, OverflowError, OSError):  # ImportProblem is a ValueError
                errors.append(_error(f"{prefix}.{self.date}", "datetime_parsing", t("intake.field.datetime", lang)))
        if self.language:
            code = language_code(_get(item, self.language)) if isinstance(_get(item, self.language), str) else None
            if code and len(code) == 2:
                raw["language"] = code
        if self.reach and _get(item, self.reach) is not None:
            raw["reach"], paths["reach"] = _get(item, self.reach), self.reach
        tags = _get(item, self.tags) if self.tags else None
        if isinstance(tags, list) and tags:
            # Strings, or objects named by "name" (Synthesio's tag resource)
            tags = [tag.get("name") if isinstance(tag, dict) and isinstance(tag.get("name"), str) else tag
                    for tag in tags]
            raw["tags"], paths["tags"] = tags, self.tags or ""
        if self.sentiment:
            raw["sentiment"] = sentiment_label(_get(item, self.sentiment))
        if self.engagement:
            count = _get(item, self.engagement)
            whole = isinstance(count, int) and not isinstance(count, bool) and 0 <= count <= MAX_REACH
            raw["engagement"] = count if whole else None
        for key in ("text", "author"):
            if not raw[key].strip():
                del raw[key]
        reported = {e["field"] for e in errors}
        try:
            mention = MentionIn.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors(include_url=False, include_input=False):
                vigie = str(err["loc"][0]) if err["loc"] else ""
                rest = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"][1:])
                where = f"{prefix}.{paths.get(vigie, vigie)}{rest}"
                if where not in reported:
                    errors.append(_error(where, err["type"], field_message(err, lang)))
            raise PushRefused(errors) from None
        if errors:
            raise PushRefused(errors)
        return mention


def _host(url: Any) -> str:
    """The link's host as author when the push names none ("" when there is no readable link)."""
    try:
        return link_host(url) if isinstance(url, str) else ""
    except ValueError:  # "http://[" and such: the url's own error is reported
        return ""


def _get(data: Any, path: str | None) -> Any:
    """The value at a dotted path ("content.title"), None where any step is missing or not an object."""
    if not path:
        return None
    for key in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _error(where: str, code: str, message: str) -> dict[str, Any]:
    return {"field": where, "code": code, "message": message}


# --- the pushes (examples are the smallest body each preset accepts; tests/fixtures/pushes has full ones) ----

PUSHES: tuple[Push, ...] = (
    # Meltwater Data Streams (developer.meltwater.com quickstart: hooks POST JSON to target_url): `id`,
    # `published_date`, `url`, `external_id` documented; `content.*`, `author.*`, `metrics.reach`, `lang` and the
    # {"hook_id", "search_id", "documents": [...]} envelope assumed.
    Push("meltwater", "Meltwater (Data Streams)", items=("documents",), external_id="id", url="url",
         date="published_date", text=("content.title", ("content.opening_text", "content.hit_sentence")),
         author=("author.name", "author.handle"), fallback_author="source.name", language="lang",
         reach="metrics.reach", sentiment="enrichments.sentiment", engagement="metrics.engagement.total",
         example={"hook_id": "a1b2c3d4", "search_id": 2382415, "documents": [{
             "id": "1795249800000_Acm0", "published_date": "2026-11-21T08:30:00.000Z",
             "url": "https://www.quotidien-lyonnais.example/eco/acme",
             "content": {"title": "Acme : les livraisons retardées", "opening_text": "Les clients signalent..."},
             "author": {"name": "Claire Martin", "handle": None}, "lang": "fr",
             "metrics": {"reach": 125000, "engagement": {"total": 12}}, "enrichments": {"sentiment": "negative"}}]},
         source_note="developer.meltwater.com Data Streams"),
    # Talkwalker (developer.talkwalker.com Search and Streaming API): a results page's `result_content.data[].data`
    # or a stream chunk's `chunk_result.data.data`; `published` in epoch milliseconds; the url is the id.
    Push("talkwalker", "Talkwalker (search results or stream chunk)",
         items=("result_content.data[].data",), single=("chunk_result.data.data",), external_id="url", url="url",
         date="published",
         text=("title", ("content",)),
         author=("extra_author_attributes.name", "extra_author_attributes.short_name"),
         fallback_author="extra_source_attributes.name", language="lang", reach="reach",
         sentiment="sentiment", engagement="engagement",
         example={"status_code": "0", "result_content": {"data": [{"data": {
             "url": "https://forum.example/t/greve-acme/4412", "published": 1795068900000,
             "title": "Grève chez Acme", "content": "Les syndicats appellent à poursuivre le mouvement.",
             "extra_author_attributes": {"name": "cgt_roubaix"}, "lang": "fr", "reach": 3400, "sentiment": -3,
             "engagement": 28}}]}},
         source_note="developer.talkwalker.com (Search/Streaming API)"),
    # Mention (mention.com API mention model); the {"mentions": [...]} envelope is assumed.
    Push("mention", "Mention", items=("mentions",), external_id="id", url="original_url", date="published_at",
         text=("title", ("description", "description_short")), author=("author.name", "author.username"),
         fallback_author="source_name", language="language", reach="reach", tags="tags", sentiment="tone",
         example={"alert_id": "2481357", "mentions": [{
             "id": "5123457100", "title": "", "description": "Encore une grève chez Acme ?",
             "original_url": "https://www.facebook.com/acme.france/posts/1", "author": {"name": "Bernard Lefèvre"},
             "published_at": "2026-11-21T08:02:00+01:00", "language": "fr", "reach": None, "tags": [],
             "tone": "negative"}]},
         source_note="mention.com API mention model"),
    # Brandwatch Consumer Research (developers.brandwatch.com paging shape and Mention Field Definitions); no
    # documented webhook: a relay posting an API page is assumed.
    Push("brandwatch", "Brandwatch Consumer Research (a page of mentions)", items=("results",),
         external_id="resourceId", url="url", date="date", text=("title", ("fullText", "snippet")),
         author=("fullname", "author"), fallback_author="domain", language="language", reach="reachEstimate",
         tags="tags", sentiment="sentiment",
         example={"resultsTotal": 1, "resultsPage": 0, "resultsPageSize": 100, "results": [{
             "resourceId": "1802233550000", "url": "https://www.dailytrade.example/news/acme-kettle-recall",
             "date": "2026-11-20T16:45:00.000+0000", "title": "Acme recalls 40,000 kettles",
             "fullText": "The company said customers should stop using the AK-200.", "author": "Sarah Collins",
             "language": "en", "reachEstimate": 2300000, "sentiment": "negative"}]},
         source_note="developers.brandwatch.com Mention Field Definitions"),
    # Synthesio (developer.synthesio.com): every API document is {"data": ...} (api-format.html, "Top Level");
    # a mention (mentions.html, "Mention resource") has `id`, `date` (RFC 3339), `url`, `title` ("for tweets,
    # contains all the data"), `content` ("empty for tweets"), `language` (ISO 639-3), `sentiment` (enum),
    # `author_id` and `tags` ([{"name", "sentiment"}]); the author's name is a separate resource, so the id
    # stands in (the link's host when absent). That a push to a webhook carries such a document: assumed.
    Push("synthesio", "Synthesio (a mentions document)", items=("data",), external_id="id", url="url", date="date",
         text=("title", ("content",)), author=(None, "author_id"), language="language", tags="tags",
         sentiment="sentiment", body_optional=True,
         example={"data": [{
             "id": "syn-7341201", "date": "2026-11-21T09:05:00Z", "url": "https://x.com/julien_r75/status/1",
             "title": "@Acme_Support ma commande n°48213 devait arriver le 12, toujours rien.", "content": "",
             "author_id": "julien_r75", "language": "fra", "sentiment": "negative",
             "tags": [{"name": "Livraison", "sentiment": "negative"}]}]},
         source_note="developer.synthesio.com (api-format.html, mentions.html)"),
    # Sprout Social Listening (api.sproutsocial.com/docs, "Listening topic messages": POST .../listening/topics/
    # {id}/messages answers {"data": [...], "paging": {...}}); message fields `guid`, `created_time`, `text`,
    # `perma_link`, `from.name`, `from.screen_name`, `language`, `sentiment` (positive, negative, neutral,
    # unclassified) as a public client requests them (kodowjam/sprout-social-mcp-server, get_topic_messages).
    # That Sprout pushes such a page to a webhook: assumed (a relay posting it).
    Push("sprout", "Sprout Social Listening (a page of topic messages)", items=("data",), external_id="guid",
         url="perma_link", date="created_time", text=(None, ("text",)), author=("from.name", "from.screen_name"),
         language="language", sentiment="sentiment",
         example={"data": [{
             "guid": "li:urn:li:activity:7264000000000000000", "created_time": "2026-11-21T12:30:00Z",
             "network": "LINKEDIN", "text": "Proud of our Lyon logistics team clearing the Acme backlog.",
             "perma_link": "https://www.linkedin.com/posts/marc-dubois_acme-logistics-activity-7264",
             "from": {"name": "Marc Dubois", "screen_name": None}, "language": "en", "sentiment": "positive"}],
             "paging": {"current_page": 1, "total_pages": 1}},
         source_note="api.sproutsocial.com/docs (Listening messages)"),
)
_BY_NAME = {push.name: push for push in PUSHES}


def push_names() -> tuple[str, ...]:
    return tuple(_BY_NAME)


def get_push(name: str) -> Push | None:
    """The push of preset `name` (any case), None when that preset has no push shape."""
    return _BY_NAME.get(name.strip().lower())


def read_push(name: str, body: Any, lang: str) -> list[MentionIn]:
    """Shorthand for `get_push(name).read(body, lang)`; KeyError for an unknown name."""
    push = get_push(name)
    if push is None:
        raise KeyError(name)
    return push.read(body, lang)



# --- the JSON Schema of each push, for the OpenAPI document: what it calls valid is accepted ----------------
# (schemathesis checks it in tests/scenarios/test_fuzz.py). Narrower than what is read: the dates a vendor
# writes (ISO 8601 from 2000 to 2099, or epoch milliseconds), title and body short enough to join.
_ISO = ("^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
        "(\\.[0-9]{3})?(Z|[+-]0[0-9]:?00)$")
_EPOCH_MS = {"type": "integer", "minimum": 10**12, "maximum": 4 * 10**12}


def push_schema(push: Push) -> dict[str, Any]:
    fields = MentionIn.model_json_schema()["properties"]
    plain = {"type": ["string", "null"], "maxLength": 140, "pattern": "^[^\\x00]*$"}
    url = dict(fields["url"], type="string")
    leaves: dict[str, dict[str, Any]] = {
        push.external_id: dict(url, maxLength=200) if push.external_id == push.url
        else {"type": "string", "minLength": 1, "maxLength": 200, "pattern": fields["external_id"]["pattern"]},
        push.url: dict(url, maxLength=200) if push.external_id == push.url else url,
        push.date: _EPOCH_MS if push.name == "talkwalker" else {"type": "string", "pattern": _ISO},
    }
    # The text's required part: the body, or the title where the body may be empty (Synthesio's tweets).
    body, title = push.text[1][0], push.text[0]
    if push.body_optional and title:
        body, title = title, body
    leaves[body] = dict(fields["text"], type="string", maxLength=9000)
    if title:
        leaves[title] = dict(plain, maxLength=9000)
    name, handle = push.author
    who = name or handle or ""
    leaves[who] = {"type": "string", "minLength": 1, "maxLength": 140, "pattern": fields["author"]["pattern"]}
    if name and handle:
        leaves[handle] = plain
    if push.reach:
        leaves[push.reach] = {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_REACH}
    if push.tags:
        tag = fields["tags"]["items"]
        named = {"type": "object", "properties": {"name": tag}, "required": ["name"]}  # Synthesio's tag resource
        listed = dict(fields["tags"], items={"anyOf": [tag, named]})
        leaves[push.tags] = {"anyOf": [listed, {"type": "null"}]}
    if push.sentiment:
        leaves[push.sentiment] = {"type": ["string", "integer", "null"], "maxLength": 40,
                                  "examples": ["negative", "neutral", "positive"]}
    if push.engagement:
        leaves[push.engagement] = {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_REACH}
    required = {push.external_id, push.url, push.date, body, who}
    item = _nested(leaves, required)
    path, _, inner = push.items[0].partition("[]")
    if inner:
        item = _nested({inner.lstrip("."): item}, {inner.lstrip(".")})
    return _nested({path: {"type": "array", "maxItems": MAX_BATCH, "items": item}}, {path})


def _nested(leaves: dict[str, dict[str, Any]], required: set[str]) -> dict[str, Any]:
    """{"a.b": schema} -> {"type": "object", "properties": {"a": {"type": "object", "properties": {"b": ...}}}}."""
    node: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
    for path, schema in leaves.items():
        here, keys = node, path.split(".")
        for depth, key in enumerate(keys):
            needed = ".".join(keys[: depth + 1])
            if any(r == needed or r.startswith(needed + ".") for r in required) and key not in here["required"]:
                here["required"].append(key)
            if depth == len(keys) - 1:
                here["properties"][key] = schema
            else:
                here = here["properties"].setdefault(key, {"type": "object", "properties": {}, "required": []})
    return node
