"""Use cases. Each gets a session and a time, applies the rules, writes rows (the mention, its audit
event and the Slack calls to make, as outbox rows) and returns plain data. Callers own the transaction,
so the same use case runs from the intake API, a feed poll, a file import or a Slack shortcut.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import httpx
import structlog
from sqlalchemy import func
from sqlalchemy import insert as sa_insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot import blocks
from bot.clock import Clock
from bot.db import session_scope
from bot.domain.routing import Router
from bot.domain.sla import deadline
from bot.gateway import SlackCallError, SlackGateway
from bot.i18n import t
from bot.intake.feeds import FeedValidators, fetch_feed
from bot.intake.schema import MentionIn
from bot.models import AuditEvent, FeedState, Mention, MentionStatus, Outbox
from bot.protocol import Protocol
from bot.slack_text import escape

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class IngestResult:
    id: int
    duplicate: bool
    team: str | None = None
    severity: str | None = None


# --- writing outbox rows ------------------------------------------------------------------------


def enqueue(
    session: Session,
    *,
    kind: str,
    method: str,
    args: dict[str, Any],
    now: datetime,
    dedupe_key: str | None = None,
    mention_id: int | None = None,
) -> int:
    """Record a Slack call to make and return its outbox id. The same `dedupe_key` twice is recorded once."""
    row = {
        "dedupe_key": dedupe_key or f"{kind}:{uuid.uuid4()}",
        "kind": kind,
        "method": method,
        "channel": str(args.get("channel", "")),
        "payload": args,
        "status": "pending",
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
        "mention_id": mention_id,
    }
    conn = session.connection()
    new_id = conn.execute(_insert_ignore(_dialect(session), "outbox", returning_id=True), row).scalar_one_or_none()
    if new_id is None:  # already queued under this key
        new_id = conn.execute(select(Outbox.id).where(Outbox.dedupe_key == row["dedupe_key"])).scalar_one()
    return int(new_id)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


@cache
def _insert_ignore(dialect: str, table: str, returning_id: bool = False) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING on both SQLite and PostgreSQL: a race cannot make a duplicate.

    Built once and executed with bound parameters, so SQLAlchemy compiles it once: building a statement
    per row with `.values(...)` cost about 3 ms a mention (measured, see BENCHMARKS.md).
    """
    core = {"mention": Mention.__table__, "outbox": Outbox.__table__}[table]  # type: ignore[attr-defined]
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    stmt = insert(core).on_conflict_do_nothing()
    return stmt.returning(core.c.id) if returning_id else stmt


_AUDIT = sa_insert(AuditEvent.__table__)  # type: ignore[attr-defined]


# --- intake -------------------------------------------------------------------------------------


def ingest_mention(
    session: Session,
    mention: MentionIn,
    *,
    protocol: Protocol,
    router: Router,
    now: datetime,
    actor: str,
    forced_team: str | None = None,
    flagged_by: str | None = None,
) -> IngestResult:
    """Store a mention once, triage it, and queue its relay card — all in the caller's transaction."""
    triage = router.triage(
        text=mention.text,
        source=mention.source,
        language=mention.language,
        reach=mention.reach,
        tags=list(mention.tags),
        forced_team=forced_team,
    )
    reasons = [r.to_dict() for r in triage.reasons]
    values = {
        "source": mention.source,
        "external_id": mention.external_id,
        "url": str(mention.url),
        "author": mention.author,
        "text": mention.text,
        "published_at": mention.published_at,
        "received_at": now,
        "language": triage.language,
        "language_detected": triage.language_detected,
        "reach": mention.reach,
        "tags": list(mention.tags),
        "team": triage.team,
        "severity": triage.severity.value,
        "reasons": reasons,
        "status": MentionStatus.new.value,
        "flagged_by": flagged_by,
        # Core inserts do not apply the model's Python defaults: every column is given.
        "state": "open",
        "owner": None,
        "relay_outbox_id": None,
        "reroutes": 0,
        "first_response_at": None,
        "approved_at": None,
        "published_at_reply": None,
        "closed_at": None,
    }
    values["first_response_due"], values["published_due"] = sla_deadlines(protocol, values)
    conn = session.connection()
    new_id = conn.execute(_insert_ignore(_dialect(session), "mention", returning_id=True), values).scalar_one_or_none()
    if new_id is None:
        existing = conn.execute(
            select(Mention.id).where(Mention.source == mention.source, Mention.external_id == mention.external_id)
        ).scalar_one()
        return IngestResult(id=int(existing), duplicate=True)

    card = relay_args(protocol, mention_id=new_id, values=values,
                      deadline=("first_response", values["first_response_due"], False))
    relay_id = enqueue(session, kind="relay", method="chat.postMessage", args=card, now=now,
                       dedupe_key=f"relay:{new_id}", mention_id=new_id)
    conn.execute(Mention.__table__.update().where(Mention.__table__.c.id == new_id),  # type: ignore[attr-defined]
                 {"relay_outbox_id": relay_id})
    conn.execute(_AUDIT, {"at": now, "actor": actor, "action": "mention.received", "mention_id": new_id,
                          "before": None, "reason": None,
                          "after": {"team": triage.team, "severity": triage.severity.value, "reasons": reasons}})
    return IngestResult(id=new_id, duplicate=False, team=triage.team, severity=triage.severity.value)


def sla_deadlines(protocol: Protocol, values: dict[str, Any]) -> tuple[datetime, datetime]:
    """When a new mention's first response and its publication are due (business time unless round the clock)."""
    cfg = protocol.sla_for(values["team"], values["severity"])

    def due(duration: Any) -> datetime:
        return deadline(values["received_at"], duration, protocol.calendar, round_the_clock=cfg.round_the_clock)

    return due(cfg.first_response), due(cfg.published)


def relay_args(protocol: Protocol, *, mention_id: int, values: dict[str, Any], note: str | None = None,
               deadline: tuple[str, datetime, bool] | None = None) -> dict[str, Any]:
    """chat.postMessage arguments of a mention's relay card, from its stored values."""
    team = protocol.team(values["team"])
    lang = protocol.language
    return blocks.relay_card(
        mention_id=mention_id,
        team_name=team.name.get(lang),
        source=values["source"],
        author=values["author"],
        text=values["text"],
        url=values["url"],
        published_at=values["published_at"],
        severity=values["severity"],
        reach=values["reach"],
        language=values["language"],
        language_detected=values["language_detected"],
        reasons=values["reasons"],
        channel=team.channel,
        lang=lang,
        state=values.get("state", "open"),
        owner=values.get("owner"),
        note=note,
        deadline=deadline,
    )


class Vigie:
    """The use cases bound to one database, protocol and clock; each call is one transaction.

    After a transaction that queued Slack calls commits, `on_commit` wakes the outbox worker, so a relay
    leaves within milliseconds instead of at the next poll.
    """

    def __init__(self, *, engine: Engine, protocol: Protocol, clock: Clock, gateway: SlackGateway | None = None,
                 on_commit: Callable[[], None] = lambda: None):
        self.engine = engine
        self.gateway = gateway  # for reads only (names, permalinks); every write goes through the outbox
        self.protocol = protocol
        self.router = Router(protocol)
        self.clock = clock
        self.on_commit = on_commit
        # Set by the app to the escalation rules: which deadline a stored mention is racing, for its card.
        self.deadline_of: Callable[[Mention], tuple[str, datetime, bool] | None] = lambda mention: None

    def ingest(self, mentions: Iterable[MentionIn], *, actor: str,
               forced_team: str | None = None) -> list[IngestResult]:
        """Store a batch in one transaction: all are durable, or none is (then the caller reports an error)."""
        now = self.clock.now()
        with session_scope(self.engine) as session:
            results = [
                ingest_mention(session, m, protocol=self.protocol, router=self.router, now=now, actor=actor,
                               forced_team=forced_team)
                for m in mentions
            ]
        if any(not r.duplicate for r in results):
            self.on_commit()
        return results

    # --- Slack: a person flags a message as a mention -------------------------------------------

    def flag_message(
        self,
        *,
        channel: str,
        message_ts: str,
        text: str,
        author_id: str | None,
        author_name: str | None,
        team_domain: str | None,
        flagged_by: str,
    ) -> IngestResult:
        """Someone used "Flag as a mention" on a Slack message: ingest it like any other mention."""
        author = self._user_name(author_id) if author_id else None
        author = author or author_name or author_id or "?"
        permalink = self._permalink(channel, message_ts, team_domain)
        now = self.clock.now()
        published = datetime.fromtimestamp(float(message_ts), tz=UTC)
        mention = MentionIn(
            source="slack",
            external_id=f"{channel}:{message_ts}",
            url=permalink,  # type: ignore[arg-type]
            author=author,
            text=text or "(—)",
            published_at=published,
        )
        lang = self.protocol.language
        with session_scope(self.engine) as session:
            result = ingest_mention(session, mention, protocol=self.protocol, router=self.router, now=now,
                                    actor=flagged_by, flagged_by=flagged_by)
            if result.duplicate:
                reply = t("flag.duplicate", lang, id=result.id)
            else:
                team = self.protocol.team(result.team or self.protocol.default_team)
                reply = t("flag.done", lang, id=result.id, team=escape(team.name.get(lang)),
                          severity=t(f"severity.{result.severity}", lang))
            enqueue(session, kind="ephemeral", method="chat.postEphemeral", now=now,
                    args={"channel": channel, "user": flagged_by, "text": reply})
        self.on_commit()
        return result

    def _user_name(self, user_id: str) -> str | None:
        if self.gateway is None:
            return None
        try:
            user = self.gateway.call("users.info", user=user_id).get("user") or {}
        except SlackCallError:
            return None
        profile = user.get("profile") or {}
        return profile.get("display_name") or user.get("real_name") or user.get("name")

    def _permalink(self, channel: str, ts: str, team_domain: str | None) -> str:
        if self.gateway is not None:
            try:
                link = self.gateway.call("chat.getPermalink", channel=channel, message_ts=ts).get("permalink")
                if link:
                    return str(link)
            except SlackCallError:
                pass
        # Slack's permalink format, when the API cannot tell us (the message may be in a DM we cannot read).
        return f"https://{team_domain or 'app'}.slack.com/archives/{channel}/p{ts.replace('.', '')}"

    def tell_user(self, *, channel: str, user: str, text: str) -> None:
        """An ephemeral answer to one person, delivered by the outbox like every other Slack call."""
        with session_scope(self.engine) as session:
            enqueue(session, kind="ephemeral", method="chat.postEphemeral", now=self.clock.now(),
                    args={"channel": channel, "user": user, "text": text})
        self.on_commit()

    # --- feeds ----------------------------------------------------------------------------------

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
            poll = fetch_feed(client, url=url, source=feed.name, validators=validators, now=now,
                              language=feed.language)
            outcome[feed.name] = poll.status
            new = 0
            if poll.mentions:
                new = sum(not r.duplicate for r in self.ingest(poll.mentions, actor=f"feed:{feed.name}",
                                                                forced_team=feed.team))
            self._record_feed(feed.name, url, poll.status, poll.error, poll.validators, now)
            log.info("feed_polled", feed=feed.name, status=poll.status, entries=len(poll.mentions), new=new,
                     skipped=len(poll.skipped), error=poll.error)
        return outcome

    def _record_feed(self, name: str, url: str, status: str, error: str | None,
                     validators: FeedValidators, now: datetime) -> None:
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
            session.add(state)
        self.on_commit()

    def relay_args(self, mention: Mention, note: str | None = None) -> dict[str, Any]:
        return relay_args(self.protocol, mention_id=mention.id, values=mention.model_dump(),  # type: ignore[arg-type]
                          note=note, deadline=self.deadline_of(mention))

    # --- read side ------------------------------------------------------------------------------

    def mention(self, mention_id: int) -> Mention | None:
        with Session(self.engine) as session:
            return session.get(Mention, mention_id)

    def outbox_counts(self) -> dict[str, int]:
        with Session(self.engine) as session:
            rows = session.exec(select(Outbox.status, func.count()).group_by(col(Outbox.status))).all()
        return {status: int(n) for status, n in rows}
