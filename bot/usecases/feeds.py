"""Feed polling: every RSS/Atom feed the protocol lists, polled when due, its mentions ingested like any other.

`Feeds` is the part of `bot.usecases.intake.Vigie` that polls; parsing is `bot.intake.feeds` (pure), storing is
`Vigie.ingest`. A feed that breaks is reported once to the default team, and once more when it recovers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.clock import Clock
from bot.i18n import t
from bot.intake.feeds import FeedValidators, FeedWarning, fetch_feed
from bot.outbox.queue import enqueue
from bot.protocol.schema import Protocol
from bot.slack.text import escape
from bot.slack.views import cards as blocks
from bot.store.db import session_scope
from bot.store.models import FeedState

log = structlog.get_logger(__name__)
MAX_WARNINGS = 50  # kept with a feed's status: enough to see what is wrong, bounded whatever the feed holds


@dataclass(frozen=True)
class FeedStatus:
    """One protocol feed as the last polls left it, for `vigie feed status` (warnings in words by the caller)."""

    name: str
    url: str
    last_polled_at: datetime | None
    last_ok_at: datetime | None
    consecutive_failures: int
    last_error: str | None
    warnings: list[FeedWarning]


class Feeds:
    """Feed polling; mixed into `Vigie`, which provides these attributes and `ingest`."""

    engine: Engine
    protocol: Protocol
    clock: Clock
    on_commit: Callable[[], None]
    ingest: Callable[..., list[Any]]

    def poll_feeds(self, client: httpx.Client) -> dict[str, str]:
        """Poll every feed that is due; a broken feed is reported once to the default team, never fatal."""
        outcome: dict[str, str] = {}
        for feed in self.protocol.feeds:
            now = self.clock.now()
            url = str(feed.url)
            with session_scope(self.engine) as session:
                state = session.get(FeedState, url) or FeedState(url=url)
                if state.last_polled_at and (now - state.last_polled_at).total_seconds() < feed.every_minutes * 60:
                    continue
                validators = FeedValidators(etag=state.etag, last_modified=state.last_modified)
            # Dates written without a zone are in the protocol's; an unreadable one is stored as unknown (the poll
            # time, flagged) and named in the poll's warnings, kept with the feed's status.
            poll = fetch_feed(client, url=url, source=feed.name, validators=validators, now=now,
                              language=feed.language, zone=self.protocol.tz)
            outcome[feed.name] = poll.status
            new = 0
            if poll.mentions:
                new = sum(not r.duplicate for r in self.ingest(poll.mentions, actor=f"feed:{feed.name}",
                                                                forced_team=feed.team))
            self._record_feed(feed.name, url, poll.status, poll.error, poll.validators, now,
                              warnings=[w.as_dict() for w in poll.warnings[:MAX_WARNINGS]])
            log.info("feed_polled", feed=feed.name, status=poll.status, entries=len(poll.mentions), new=new,
                     skipped=len(poll.skipped), error=poll.error, warnings=len(poll.warnings))
            for warning in poll.warnings:
                log.warning("feed_entry_warning", feed=feed.name, warning=warning.message("en"))
        return outcome

    def _record_feed(self, name: str, url: str, status: str, error: str | None,
                     validators: FeedValidators, now: datetime, *, warnings: list[dict[str, Any]]) -> None:
        try:
            self._write_feed_state(name, url, status, error, validators, now, warnings=warnings)
        except IntegrityError:  # another instance wrote the feed's first status at the same moment: update it
            self._write_feed_state(name, url, status, error, validators, now, warnings=warnings)

    def _write_feed_state(self, name: str, url: str, status: str, error: str | None,
                          validators: FeedValidators, now: datetime, *, warnings: list[dict[str, Any]]) -> None:
        lang = self.protocol.language
        channel = self.protocol.team(self.protocol.default_team).channel
        with session_scope(self.engine) as session:
            state = session.get(FeedState, url) or FeedState(url=url)
            state.last_polled_at = now
            if status == "error":
                state.consecutive_failures += 1
                state.last_error = (error or "")[:500]
                if state.consecutive_failures == 1:  # report the first failure of a streak, once
                    enqueue(session, kind="notice", method="chat.postMessage", now=now,
                            dedupe_key=f"feed-broken:{url}:{now.isoformat()}",
                            args=blocks.notice(channel=channel, text=t("feed.broken", lang, name=escape(name),
                                                                       error=escape(error or ""))))
            else:
                if state.consecutive_failures:
                    enqueue(session, kind="notice", method="chat.postMessage", now=now,
                            dedupe_key=f"feed-back:{url}:{now.isoformat()}",
                            args=blocks.notice(channel=channel, text=t("feed.recovered", lang, name=escape(name))))
                state.consecutive_failures = 0
                state.last_error = None
                state.last_ok_at = now
                state.etag = validators.etag
                state.last_modified = validators.last_modified
                if status == "ok":  # a 304 changes nothing: the last reading's warnings still hold
                    state.warnings = warnings or None
            session.add(state)
        self.on_commit()

    def feed_statuses(self) -> list[FeedStatus]:
        """Every feed of the protocol with its health and the last reading's warnings (nothing polled: empty)."""
        out = []
        with Session(self.engine) as session:
            for feed in self.protocol.feeds:
                state = session.get(FeedState, str(feed.url)) or FeedState(url=str(feed.url))
                out.append(FeedStatus(
                    name=feed.name, url=str(feed.url), last_polled_at=state.last_polled_at,
                    last_ok_at=state.last_ok_at, consecutive_failures=state.consecutive_failures,
                    last_error=state.last_error,
                    warnings=[FeedWarning.from_dict(row) for row in state.warnings or []]))
        return out
