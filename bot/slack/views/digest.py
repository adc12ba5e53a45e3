"""The daily digest and the weekly summary in words: the lead line, the Block Kit message and its
notification text, drawn from the figures of `bot/reports/digest.py` (which reads them from the database).

Pure: figures, the protocol (team names, timezone) and a language in, text and blocks out. Every piece of
outside text (team names, reasons, authors, sources) is escaped here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from babel.core import Locale
from babel.dates import (
    format_date,
    format_datetime,
    format_interval,
    format_time,
    format_timedelta,
    get_timezone_location,
)
from babel.numbers import format_decimal, format_percent

from bot.i18n import normalise, t
from bot.protocol.schema import Protocol
from bot.reports.digest import DigestFigures
from bot.slack.ids import CONVERSATION_ID
from bot.slack.text import escape
from bot.slack.views.names import network_name, network_words

# Slack limits (chat.postMessage / Block Kit).
MAX_BLOCKS = 50
SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000
MAX_FIELDS = 10
HEADER_MAX = 150
CONTEXT_TEXT_MAX = 2000
LINES_PER_SECTION = 15

_TS_RE = re.compile(r"^\d{1,12}\.\d{1,9}$")


# ---------------------------------------------------------------------------- text


def _plural(key: str, n: float, lang: str, **params: Any) -> str:
    """`key.one` or `key.other` by the language's plural rule (French: 0 and 1 are singular)."""
    form = "one" if Locale.parse(lang).plural_form(n) == "one" else "other"
    return t(f"{key}.{form}", lang, n=format_decimal(n, locale=lang), **params)


def duration_words(value: timedelta | None, lang: str) -> str:
    """A duration to the minute, in its two largest units, in Babel's words: "2 j 14 h" / "2 days 14 hr",
    "1 h 30 min"; never seconds ("59 min 58 s" reads "1 h"). Under half a minute: "0 min"."""
    if value is None:
        return t("digest.none", lang)
    minutes = max(round(value.total_seconds() / 60), 0)
    units = (("day", 1440), ("hour", 60), ("minute", 1))
    parts: list[str] = []
    for unit, size in units:
        amount, minutes = divmod(minutes, size)
        if amount and len(parts) < 2:
            parts.append(format_timedelta(timedelta(minutes=amount * size), granularity=unit, threshold=1,
                                          format="short", locale=lang))
        elif parts:
            break  # "2 j 0 h 5 min" reads better as "2 j"
    return " ".join(parts) or format_timedelta(timedelta(0), granularity="minute", format="short", locale=lang)


def zone_city(zone: str, lang: str) -> str:
    """The city a time zone is named after, in `lang` (Babel/CLDR): "Europe/Paris" -> "Paris", "America/New_York"
    -> "New York"; the zone as written when Babel does not know it."""
    try:
        return get_timezone_location(zone, locale=lang, return_city=True)
    except (LookupError, ValueError):
        return zone


def _avg(value: float, lang: str) -> str:
    return format_decimal(round(value, 1), format="#,##0.#", locale=lang)


def mention_ref(mention_id: int, channel: str | None, ts: str | None, lang: str) -> str:
    label = t("digest.item", lang, id=mention_id)
    if channel and ts and CONVERSATION_ID.fullmatch(channel) and _TS_RE.match(ts):
        return f"<https://slack.com/archives/{channel}/p{ts.replace('.', '')}|{escape(label)}>"
    return escape(label)


def _team_label(key: str, team_names: Mapping[str, str] | None) -> str:
    return escape((team_names or {}).get(key, key))


def interpretation(fig: DigestFigures, *, lang: str, team_name: str | None = None,
                   team_names: Mapping[str, str] | None = None) -> str:
    """One short, rule-based line that leads the digest. `team_name` is the digest's team (None: company);
    `team_names` (key -> display name) lets a company-wide line say which team the late answers are in.
    A weekly summary adds the share of deadlines kept against the previous weeks'.
    The result is plain text (not escaped)."""
    lang = normalise(lang)
    line = _lead(fig, lang, team_names)
    prev = fig.previous.sla_kept
    if fig.period.weekly and fig.sla_kept is not None and prev is not None:
        line += t("weekly.interp.sla_trend", lang, kept=_pct(fig.sla_kept, lang), before=_pct(prev, lang),
                  weeks=format_decimal(fig.period.baseline, locale=lang))
    return line


def _lead(fig: DigestFigures, lang: str, team_names: Mapping[str, str] | None) -> str:
    tz = _zone(fig.timezone)
    weekly = fig.period.weekly
    declared = [c for c in fig.crises if c.declared_in_period and c.ended_at is None]
    if declared:
        c = declared[0]
        at = format_time(c.declared_at, format="short", tzinfo=tz, locale=lang)
        if weekly:
            day = format_date(c.declared_at.astimezone(tz), "EEEE", locale=lang)
            if c.reason:
                return t("weekly.interp.crisis", lang, day=day, time=at, reason=c.reason)
            return t("weekly.interp.crisis_no_reason", lang, day=day, time=at)
        if c.reason:
            return t("digest.interp.crisis", lang, time=at, reason=c.reason)
        return t("digest.interp.crisis_no_reason", lang, time=at)
    late_ids = fig.late_mentions
    if late_ids:
        n = len(late_ids)
        lead = _plural("digest.interp.late", n, lang)
        state_of = {b.mention_id: b.state for b in fig.breaches}
        team_of = {b.mention_id: b.team for b in fig.breaches}
        waiting = sum(1 for mid in late_ids if state_of[mid] == "in_review")
        if n > 1 and waiting == n:
            return lead + t("digest.interp.all_waiting", lang)
        if waiting:
            return lead + _plural("digest.interp.some_waiting", waiting, lang)
        teams = set(team_of.values())
        if n > 1 and fig.team is None and len(teams) == 1:
            return lead + t("digest.interp.all_team", lang, team=(team_names or {}).get(teams.pop(), "") or "?")
        return lead
    suffix = ""
    if fig.grown_sources:
        g = fig.grown_sources[0]
        count, avg = format_decimal(g.count, locale=lang), _avg(g.average, lang)
        source = network_words(g.key, lang)  # by its name, as the cards say it (escaped with the line)
        suffix = (t("weekly.interp.growth", lang, source=source, count=count, avg=avg) if weekly
                  else t("digest.interp.growth", lang, source=source, today=count, avg=avg))
    if fig.received == 0 and fig.still_open == 0 and fig.sla_total == 0:
        return (t("weekly.interp.quiet", lang) if weekly else t("digest.interp.quiet", lang)) + suffix
    if fig.still_open:
        return t("digest.interp.on_time", lang) + _plural("digest.interp.still_open", fig.still_open, lang) + suffix
    return t("digest.interp.all_clear", lang) + suffix


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


# ---------------------------------------------------------------------------- Block Kit


def _list_text(title: str, lines: list[str], total: int, lang: str, *, limit: int = SECTION_TEXT_MAX,
               max_lines: int = LINES_PER_SECTION) -> str:
    """`title` then the lines, cut so that the text stays under `limit`; "… and N more" for the rest."""
    kept: list[str] = []
    for i, line in enumerate(lines[:max_lines]):
        rest = total - i - 1
        candidate = "\n".join([title, *kept, line])
        more = "\n" + _plural("digest.more", rest, lang) if rest > 0 else ""
        if len(candidate) + len(more) > limit:
            break
        kept.append(line)
    rest = total - len(kept)
    body = "\n".join([title, *kept])
    if rest > 0:
        body += "\n" + _plural("digest.more", rest, lang)
    return body[:limit]


def _field(label: str, value: str, compare: str | None) -> dict[str, Any]:
    body = f"*{label}*\n{value}"
    if compare:
        body += "\n" + compare
    return {"type": "mrkdwn", "text": body[:FIELD_TEXT_MAX]}


def _pct(value: float | None, lang: str) -> str:
    return t("digest.none", lang) if value is None else format_percent(value, locale=lang)


def _pair(p50: timedelta | None, p90: timedelta | None, lang: str) -> str:
    if p50 is None:
        return t("digest.none", lang)
    return t("digest.p50_p90", lang, p50=duration_words(p50, lang), p90=duration_words(p90, lang))


def digest_blocks(fig: DigestFigures, *, protocol: Protocol, lang: str, title: str) -> list[dict[str, Any]]:
    """The digest (or the weekly summary) as Block Kit blocks for a message (within Slack's limits)."""
    lang = normalise(lang)
    tz = protocol.tz
    weekly = fig.period.weekly
    names = {key: team.name.get(lang) for key, team in protocol.teams.items()}
    team_name = names.get(fig.team, fig.team) if fig.team else None
    prev = fig.previous
    num = lambda n: format_decimal(n, locale=lang)

    def hm(d: datetime) -> str:  # a day of the week: a time alone; a week: the day too
        at = format_time(d, format="short", tzinfo=tz, locale=lang)
        if not weekly:
            return at
        return t("weekly.when", lang, day=format_date(d.astimezone(tz), "EEE d", locale=lang), time=at)

    def compare(value: str) -> str:
        if weekly:
            return t("weekly.compare", lang, value=value, weeks=num(fig.period.baseline))
        return t("digest.compare", lang, value=value)

    when = (format_interval(fig.period.first, fig.period.last, "yMMMMEEEEd", locale=lang) if weekly
            else format_date(fig.day, format="full", locale=lang))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": (title or t("digest.title", lang))[:HEADER_MAX]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*" + escape(
            interpretation(fig, lang=lang, team_name=team_name, team_names=names))[:SECTION_TEXT_MAX - 2] + "*"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": t(
            "digest.scope", lang, date=when,
            team=escape(team_name) if team_name else t("digest.all_teams", lang),
            city=escape(zone_city(protocol.timezone, lang)))[:CONTEXT_TEXT_MAX]}]},
    ]
    sla_value = _pct(fig.sla_kept, lang)
    if fig.sla_total:
        sla_value += " " + t("digest.sla_of", lang, kept=num(round((fig.sla_kept or 0) * fig.sla_total)),
                             total=num(fig.sla_total))
    fields = [
        _field(t("digest.f.received", lang), num(fig.received), compare(_avg(prev.received, lang))),
        _field(t("digest.f.handled", lang),
               t("digest.handled_detail", lang, handled=num(fig.handled), published=num(fig.published),
                 dismissed=num(fig.dismissed)), compare(_avg(prev.handled, lang))),
        _field(t("digest.f.still_open", lang), num(fig.still_open), None),
        _field(t("digest.f.sla", lang), sla_value, compare(_pct(prev.sla_kept, lang))),
        _field(t("digest.f.first_response", lang), _pair(fig.first_response_p50, fig.first_response_p90, lang),
               compare(_pair(prev.first_response_p50, prev.first_response_p90, lang))),
        _field(t("digest.f.publication", lang), _pair(fig.publication_p50, fig.publication_p90, lang),
               compare(_pair(prev.publication_p50, prev.publication_p90, lang))),
        _field(t("digest.f.escalations", lang),
               t("digest.escalations_detail", lang, sent=num(fig.escalations.sent),
                 at_deadline=num(fig.escalations.at_deadline)), compare(_avg(prev.escalations, lang))),
        _field(t("digest.f.waiting_drafts", lang), num(fig.waiting_drafts_count), None),
    ]
    blocks.append({"type": "section", "fields": fields[:MAX_FIELDS]})

    if fig.teams:
        lines = [t("weekly.team_line", lang, team=_team_label(line.team, names), received=num(line.received),
                   handled=num(line.handled), still_open=num(line.still_open), sla=_pct(line.sla_kept, lang),
                   first_response=duration_words(line.first_response_p50, lang), late=num(line.late))
                 for line in fig.teams]
        blocks.append(_section(_list_text("*" + t("weekly.s.teams", lang) + "*", lines, len(lines), lang)))
    if fig.breaches:
        lines = []
        for b in fig.breaches[:LINES_PER_SECTION]:  # the rest is only counted (thousands on a bad day)
            ref = mention_ref(b.mention_id, b.channel, b.relay_ts, lang)
            stage = t(f"digest.stage.{b.stage}", lang)
            team = _team_label(b.team, names)
            if b.kind == "late" and b.at is not None:
                delay = duration_words(b.at - b.due, lang)
                lines.append(
                    t("weekly.breach.late", lang, ref=ref, stage=stage, due=hm(b.due), at=hm(b.at), delay=delay,
                      team=team) if weekly
                    else t("digest.breach.late", lang, ref=ref, stage=stage, due=hm(b.due), at=hm(b.at),
                           delay=delay, team=team))
            else:
                lines.append(t("weekly.breach.overdue", lang, ref=ref, stage=stage, due=hm(b.due), team=team)
                             if weekly else
                             t("digest.breach.overdue", lang, ref=ref, stage=stage, due=hm(b.due), team=team))
        blocks.append(_section(_list_text("*" + t("digest.s.breaches", lang) + "*", lines, len(fig.breaches), lang)))
    if fig.still_open:
        lines = [t("digest.open_line", lang, ref=mention_ref(o.mention_id, o.channel, o.relay_ts, lang),
                   age=duration_words(o.age, lang), team=_team_label(o.team, names),
                   state=t(f"digest.state.{o.state}", lang)) for o in fig.oldest_open]
        blocks.append(_section(_list_text("*" + t("digest.s.oldest_open", lang) + "*", lines, fig.still_open, lang)))
    if fig.waiting_drafts_count:
        lines = [t("digest.draft_line", lang, ref=mention_ref(d.mention_id, None, None, lang),
                   version=num(d.version), age=duration_words(d.age, lang), author=escape(d.author))
                 for d in fig.waiting_drafts]
        blocks.append(_section(_list_text("*" + t("digest.s.waiting_drafts", lang) + "*", lines,
                                          fig.waiting_drafts_count, lang)))
    # Sources by their human names (as the cards say them); themes are the protocol's own words, as written.
    for key, items, label in (("digest.s.grown_sources", fig.grown_sources, network_name),
                              ("digest.s.grown_themes", fig.grown_themes, lambda word, _lang: escape(word))):
        if items:
            lines = [t("weekly.growth_line", lang, key=label(g.key, lang), count=num(g.count),
                       avg=_avg(g.average, lang), weeks=num(fig.period.baseline)) if weekly
                     else t("digest.growth_line", lang, key=label(g.key, lang), today=num(g.count),
                            avg=_avg(g.average, lang))
                     for g in items]
            blocks.append(_section(_list_text("*" + t(key, lang) + "*", lines, len(lines), lang)))
    if fig.crises:
        lines = []
        for c in fig.crises:
            reason = escape(c.reason) if c.reason else t("digest.no_reason", lang)
            declared = format_datetime(c.declared_at, format="short", tzinfo=tz, locale=lang)
            if c.ended_at is not None:
                ended = format_datetime(c.ended_at, format="short", tzinfo=tz, locale=lang)
                lines.append(t("digest.crisis_ended", lang, declared=declared, ended=ended, reason=reason))
            else:
                lines.append(t("digest.crisis_ongoing", lang, declared=declared, reason=reason))
        blocks.append(_section(_list_text("*" + t("digest.s.crises", lang) + "*", lines, len(lines), lang)))
    cutoff = format_datetime(fig.cutoff, format="short", tzinfo=tz, locale=lang)
    footer = (t("weekly.footer", lang, weeks=num(fig.period.baseline), cutoff=cutoff) if weekly
              else t("digest.footer", lang, days=num(fig.period.baseline), cutoff=cutoff))
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": footer[:CONTEXT_TEXT_MAX]}]})
    return blocks[:MAX_BLOCKS]


def _section(body: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": body[:SECTION_TEXT_MAX]}}


def fallback_text(fig: DigestFigures, *, protocol: Protocol, lang: str, title: str) -> str:
    """The notification text that goes with the blocks (chat.postMessage `text`)."""
    lang = normalise(lang)
    names = {key: team.name.get(lang) for key, team in protocol.teams.items()}
    team_name = names.get(fig.team, fig.team) if fig.team else None
    return escape(f"{title} — {interpretation(fig, lang=lang, team_name=team_name, team_names=names)}")


def as_text(blocks: list[dict[str, Any]]) -> str:
    """A terminal rendering of the blocks (for `vigie digest`)."""
    lines: list[str] = []
    for block in blocks:
        if block.get("text"):
            lines.append(block["text"]["text"])
        for field in block.get("fields", []):
            lines.append(field["text"].replace("\n", " "))
        for element in block.get("elements", []):
            if element.get("text") and isinstance(element["text"], str):
                lines.append(element["text"])
    return "\n".join(lines)


__all__ = ["as_text", "digest_blocks", "duration_words", "fallback_text", "interpretation", "mention_ref"]
