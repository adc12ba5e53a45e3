"""Posting digests: each team's daily digest in its channel, the company-wide one for the community
managers, and the weekly summary (the 7 days ending yesterday, with a line per team) where the company-wide
one goes, at the protocol's local times. Each is a `DigestRun` row with a unique key,
written with its messages in one transaction, so it goes out once whatever the instances or restarts.
The chart is a bonus: the digest reads completely without it, and a failed upload is only logged.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError

from bot.i18n import t
from bot.outbox.queue import enqueue
from bot.reports import digest as digests
from bot.slack.gateway import SlackCallError, SlackGateway
from bot.slack.views import chart as charts
from bot.slack.views import digest as digest_view
from bot.store.db import session_scope
from bot.store.models import DigestRun
from bot.usecases.intake import Vigie

log = structlog.get_logger(__name__)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
COMPANY = "*"


class DigestDesk:
    def __init__(self, vigie: Vigie):
        self.vigie = vigie
        self.protocol = vigie.protocol

    # --- building -------------------------------------------------------------------------------

    def title(self, *, team: str | None, day: date, lang: str, weekly: bool = False) -> str:
        # The blocks themselves say which day and which team (or all teams) they cover.
        return t("digest.weekly_title" if weekly else "digest.title", lang)

    def build(self, *, team: str | None, day: date, lang: str, weekly: bool = False) -> tuple[str, list[dict[str, Any]]]:
        """(fallback text, blocks) of the digest of `day` (a local day) for a team, or the whole company;
        `weekly`: the summary of the 7 days ending on `day`, with a line per team when company-wide."""
        period = digests.week_ending(day) if weekly else digests.one_day(day)
        figures = digests.compute_period(self.vigie.engine, protocol=self.protocol, period=period, team=team,
                                         now=self.vigie.clock.now(), per_team=weekly)
        title = self.title(team=team, day=day, lang=lang, weekly=weekly)
        text = digest_view.fallback_text(figures, protocol=self.protocol, lang=lang, title=title)
        return text, digest_view.digest_blocks(figures, protocol=self.protocol, lang=lang, title=title)

    def as_text(self, blocks: list[dict[str, Any]]) -> str:
        """A terminal rendering of the blocks (for `vigie digest`)."""
        return digest_view.as_text(blocks)

    # --- posting --------------------------------------------------------------------------------

    def post_due(self) -> int:
        """Post every digest whose time has come and that was not posted yet; return how many."""
        now = self.vigie.clock.now()
        local = now.astimezone(self.protocol.tz)
        cfg = self.protocol.digest
        posted = 0
        yesterday = local.date() - timedelta(days=1)
        if local.time() >= cfg.time:
            for team in [*self.protocol.teams, None]:
                posted += self._post("daily", team, yesterday, now)
        # Only on the protocol's day: like the daily digest, a summary whose day was missed is not sent late.
        if WEEKDAYS[local.weekday()] == cfg.weekly.day and local.time() >= cfg.weekly.time:
            posted += self._post("weekly", None, yesterday, now)  # the week ending yesterday
        if posted:
            self.vigie.on_commit()
        return posted

    def destinations(self, team: str | None) -> list[str]:
        if team is not None:
            return [self.protocol.team(team).channel]
        if self.protocol.digest.company_channel:
            return [self.protocol.digest.company_channel]
        return list(self.protocol.community_managers)  # by direct message

    def _post(self, kind: str, team: str | None, day: date, now: datetime) -> int:
        lang = self.protocol.language
        text, blocks = self.build(team=team, day=day, lang=lang, weekly=kind == "weekly")
        destinations = self.destinations(team)
        try:
            with session_scope(self.vigie.engine) as s:
                s.add(DigestRun(kind=kind, scope=team or COMPANY, day=day.isoformat(), posted_at=now))
                s.flush()  # the unique key: posted once
                for channel in destinations:
                    enqueue(s, kind="digest", method="chat.postMessage", now=now,
                            dedupe_key=f"digest:{kind}:{team or COMPANY}:{day}:{channel}",
                            args={"channel": channel, "text": text[:3000], "blocks": blocks,
                                  "unfurl_links": False, "unfurl_media": False})
        except IntegrityError:
            return 0
        if kind == "daily":
            self._chart(team, day, destinations)
        log.info("digest_posted", kind=kind, scope=team or COMPANY, day=str(day))
        return 1

    def chart_points(self, team: str | None, day: date) -> list[charts.DayPoint]:
        series = digests.daily_series(self.vigie.engine, protocol=self.protocol, last_day=day, days=14, team=team)
        return [charts.DayPoint(day=d, received=n, first_response_median=median) for d, n, median in series]

    def _chart(self, team: str | None, day: date, destinations: list[str]) -> None:
        gateway = self.vigie.gateway
        if gateway is None:
            return
        lang = self.protocol.language
        try:
            png = charts.render_chart(self.chart_points(team, day), title=t("digest.chart_title", lang),
                                      received_label=t("digest.chart_received", lang),
                                      response_label=t("digest.chart_response", lang), lang=lang)
        except Exception:
            log.exception("digest_chart_failed")
            return
        for channel in destinations:
            if channel.startswith(("C", "G")):  # files go to conversations by id
                upload_chart(gateway, channel=channel, png=png, filename=f"vigie-{day}.png",
                             title=t("digest.chart_title", lang))


def upload_chart(gateway: SlackGateway, *, channel: str, png: bytes, filename: str, title: str,
                 thread_ts: str | None = None, alt_text: str | None = None) -> str | None:
    """Share the chart in `channel` through the gateway; return the file ID, or None after a warning: the chart
    is a bonus and the digest goes on without it, so no Slack or network trouble is raised from here."""
    try:
        return gateway.upload_file(channel=channel, content=png, filename=filename, title=title,
                                   thread_ts=thread_ts, alt_text=alt_text)
    except SlackCallError as exc:
        log.warning("chart_upload_failed", channel=channel, error=exc.error, needed=exc.needed, method=exc.method)
        return None
