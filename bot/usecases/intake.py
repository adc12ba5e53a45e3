"""Use cases. Each gets a session and a time, applies the rules, writes rows (the mention, its audit
event and the Slack calls to make, as outbox rows) and returns plain data. Callers own the transaction,
so the same use case runs from the intake API, a feed poll, a file import or a Slack shortcut.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import structlog
from sqlalchemy import bindparam, delete, func, update
from sqlalchemy import insert as sa_insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.clock import Clock
from bot.domain.language import detect_languages
from bot.domain.routing import Router
from bot.domain.storms import Shape
from bot.i18n import t
from bot.intake.schema import MentionIn
from bot.intake.signals import vendor_extra
from bot.outbox.queue import Render, enqueue, outbox_row, queue_ephemeral
from bot.protocol.load import router_for
from bot.protocol.schema import Protocol
from bot.slack.gateway import SlackCallError, SlackGateway
from bot.slack.text import escape
from bot.store import bulk
from bot.store import stories as storms
from bot.store.db import retry_on_disconnect, session_scope
from bot.store.models import (
    AuditEvent,
    Mention,
    MentionStatus,
    Outbox,
    Story,
)
from bot.store.queries import is_crisis_active, ladder_reset
from bot.store.stories import StoryIndex
from bot.usecases.cards import CARD_METHOD, Cards, card_lane
from bot.usecases.deadlines import sla_deadlines
from bot.usecases.feeds import Feeds
from bot.usecases.history import Prepared, prepare
from bot.usecases.storms import storm_severity

RELAY_RENDER = Render.relay  # an outbox payload rendered when sent: a mention's relay card

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class IngestResult:
    id: int
    duplicate: bool
    team: str | None = None
    severity: str | None = None
    story: int | None = None  # set for a copy grouped into an existing story (it gets no card of its own)
    archived: bool = False  # stored as history: no card, never open

    @property
    def relayed(self) -> bool:
        """A relay card was queued for it."""
        return not self.duplicate and not self.archived and self.story is None


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
_MENTION = Mention.__table__  # type: ignore[attr-defined]
_SET_RELAY = update(_MENTION).where(_MENTION.c.id == bindparam("m_id")).values(relay_outbox_id=bindparam("relay"))


@cache
def _insert_outbox_returning(dialect: str) -> Any:
    return _insert_ignore(dialect, "outbox").returning(Outbox.__table__.c.id,  # type: ignore[attr-defined]
                                                        Outbox.__table__.c.dedupe_key)  # type: ignore[attr-defined]


# --- intake -------------------------------------------------------------------------------------

GROUPED = "grouped"  # the state of a copy: its story's leader carries the workflow
# The state of a mention imported as history, a story's copy included (bot.domain.workflow.MentionState.archived):
# spike detection leaves them out.
ARCHIVED = "archived"
BUCKET_MINUTES = 5


@dataclass
class _Incoming:
    """One mention of a batch on its way in: its column values, and its place in a story."""

    mention: MentionIn
    values: dict[str, Any]
    shape: Shape | None
    normalised: str
    story: int | None = None  # the existing story it joins
    leader: int | None = None  # or: the index, in the batch, of the new mention it copies
    id: int | None = None
    duplicate: bool = False
    archived: bool = False


def ingest_mention(session: Session, mention: MentionIn, *, protocol: Protocol, router: Router, now: datetime,
                   actor: str, forced_team: str | None = None, flagged_by: str | None = None,
                   stories: StoryIndex | None = None) -> IngestResult:
    """Store one mention (see `ingest_batch`)."""
    return ingest_batch(session, [mention], protocol=protocol, router=router, now=now, actor=actor,
                        forced_team=forced_team, flagged_by=flagged_by, stories=stories)[0]


def ingest_batch(
    session: Session,
    mentions: Iterable[MentionIn],
    *,
    protocol: Protocol,
    router: Router,
    now: datetime,
    actor: str,
    forced_team: str | None = None,
    flagged_by: str | None = None,
    stories: StoryIndex | None = None,
    history: bool = False,
    history_before: datetime | None = None,
    prepared: Sequence[Prepared] | None = None,
) -> list[IngestResult]:
    """Store mentions once, triage them, group copies into stories and queue the relay cards of the others,
    all in the caller's transaction.

    Rows are written a statement per kind for the whole batch (mentions, stories, outbox, audit), not a
    statement per mention: that was most of intake's time (see BENCHMARKS.md). Without `stories`, or for a
    mention a person flagged on purpose, every mention gets its own card.

    History (`history`, or a mention published before `history_before`) is stored, counted and grouped into
    stories like the rest, but archived: closed at its arrival, no deadline, no relay card.

    `prepared[i]`: mention i's triage and story shape, worked out beforehand (`bot.usecases.history`).
    """
    conn = session.connection()
    dialect = _dialect(session)
    # The deadlines stored are the ones the reminders and the card race (bot.domain.deadlines): during a crisis,
    # shortened by its factor.
    crisis_factor = protocol.crisis.sla_factor if is_crisis_active(session) else None
    deadlines: dict[tuple[str, str], tuple[datetime, datetime]] = {}
    batch: list[_Incoming] = []
    local = StoryIndex()  # the batch's own new stories, under provisional ids -(index + 1)
    local_prints: set[str] = set()
    local_bands: set[Any] = set()
    if stories is not None:
        stories.catch_up(conn, now)
    mentions = list(mentions)
    if prepared is None:  # the batch's languages in one lingua call (bot.domain.language.detect_languages)
        unknown = [m.text for m in mentions if not (m.language or "").strip()]
        if len(unknown) > 1:
            detect_languages(unknown)
    for n, m in enumerate(mentions):
        item = _triaged(m, protocol=protocol, router=router, now=now, forced_team=forced_team,
                        flagged_by=flagged_by, deadlines=deadlines, crisis_factor=crisis_factor,
                        grouped=stories is not None and not flagged_by,
                        prepared=None if prepared is None else prepared[n])
        if history or (history_before is not None and m.published_at < history_before):
            item.archived = True
            item.values.update(state=ARCHIVED, closed_at=now, first_response_due=None, published_due=None)
        if item.shape is not None and stories is not None:
            item.story = stories.find(item.shape, now)
            # One look-up per mention: the batch's own stories are searched only when the text shares its
            # fingerprint or an LSH band with one of them (a set test), not for every distinct mention.
            found = None
            if item.story is None and (item.shape.fingerprint in local_prints
                                       or not local_bands.isdisjoint(item.shape.bands)):
                found = local.find(item.shape, now)
            if found is not None:
                item.leader = -found - 1
            elif item.story is None:
                local.add(-len(batch) - 1, item.shape, now)
                local_prints.add(item.shape.fingerprint)
                local_bands.update(item.shape.bands)
        batch.append(item)

    # Mentions that open a story (or stand alone) first: their ids are the copies' story ids.
    leaders = [i for i in batch if i.story is None and i.leader is None]
    _insert_mentions(conn, dialect, leaders, protocol=protocol, now=now)
    # Their stories; a leader whose exact text already has a current story (written by another instance a
    # moment ago) becomes one of its copies.
    if stories is not None:
        new = [i for i in leaders if not i.duplicate and i.shape is not None]
        rows = {i.id: _story_row(i, now) for i in new}
        inserted = bulk.insert_stories(conn, list(rows.values()))
        if inserted is None:
            inserted = storms.create_many(conn, list(rows.values()))
        for item in new:
            if item.id in inserted or storms.create(conn, rows[item.id], now):
                stories.add(item.id, item.shape, now)  # type: ignore[arg-type]
            else:
                item.story = storms.existing_story(conn, item.shape.fingerprint)  # type: ignore[union-attr]
                if item.story is not None:  # (None: that story was retired meanwhile; this one keeps its card)
                    _regroup(conn, item, now)
    for item in batch:
        if item.leader is None:
            continue
        head = batch[item.leader]
        item.leader = None
        if head.duplicate:  # its leader had been stored before (a re-sent batch): this one stands alone
            _insert_mentions(conn, dialect, [item], protocol=protocol, now=now)
            if not item.duplicate:
                leaders.append(item)
        else:
            item.story = head.story if head.story is not None else head.id

    copies = [i for i in batch if i.story is not None and i.id is None]
    _insert_mentions(conn, dialect, copies)
    joined = _join_stories(session, [i for i in batch if i.story is not None and not i.duplicate],
                           stories=stories, now=now, router=router, actor=actor, protocol=protocol,
                           crisis_factor=crisis_factor)
    for item in joined:  # their story had gone quiet: they lead new ones and get cards
        _regroup(conn, item, now, leader=True)
        if storms.create(conn, _story_row(item, now), now):
            stories.add(item.id, item.shape, now)  # type: ignore[arg-type, union-attr]
        item.story = None

    fresh = [i for i in batch if not i.duplicate]
    # Cards not queued with their INSERT: copies whose story had gone quiet, now leading their own.
    _queue_relays(session, [i for i in fresh if i.story is None and not i.archived
                            and i.values.get("relay_outbox_id") is None], protocol=protocol, now=now)
    bulk.insert_audit(conn, [_audit_row(i, actor=actor, now=now) for i in fresh])
    return [IngestResult(id=i.id, duplicate=i.duplicate, team=None if i.duplicate else i.values["team"],  # type: ignore[arg-type]
                         severity=None if i.duplicate else i.values["severity"], story=i.story,
                         archived=i.archived and not i.duplicate) for i in batch]


def _audit_row(item: _Incoming, *, actor: str, now: datetime) -> dict[str, Any]:
    if item.story is not None:
        action, after = "mention.grouped", {"story": item.story}
    else:
        action = "mention.received"
        after = {"team": item.values["team"], "severity": item.values["severity"], "reasons": item.values["reasons"]}
        if item.archived:
            action, after = "mention.archived", {**after, "history": True}
    return {"at": now, "actor": actor, "action": action, "mention_id": item.id, "before": None, "reason": None,
            "after": after}


def _story_row(item: _Incoming, now: datetime) -> dict[str, Any]:
    return storms.story_row(leader_id=item.id, s=item.shape, normalised=item.normalised,  # type: ignore[arg-type]
                            team=item.values["team"], author=item.values["author"], reach=item.values["reach"],
                            now=now)


def _triaged(m: MentionIn, *, protocol: Protocol, router: Router, now: datetime, forced_team: str | None,
             flagged_by: str | None, deadlines: dict[tuple[str, str], tuple[datetime, datetime]],
             crisis_factor: float | None, grouped: bool, prepared: Prepared | None = None) -> _Incoming:
    """`prepared`: the triage and shape worked out beforehand (a history import's workers), else done here."""
    if prepared is None:
        prepared = prepare(router, m.text, m.source, m.language, m.reach, m.tags, m.sentiment,
                           forced_team=forced_team, grouped=grouped)
    (team, severity, language, detected, reasons), normalised, shape = prepared
    values = {
        "source": m.source, "external_id": m.external_id, "url": str(m.url), "author": m.author, "text": m.text,
        "published_at": m.published_at, "received_at": now, "language": language,
        "language_detected": detected, "reach": m.reach, "tags": list(m.tags),
        "team": team, "severity": severity, "reasons": reasons,
        "status": MentionStatus.new.value, "flagged_by": flagged_by,
        # Core inserts do not apply the model's Python defaults: every column is given.
        "state": "open", "owner": None, "relay_outbox_id": None, "reroutes": 0, "first_response_at": None,
        "approved_at": None, "published_at_reply": None, "closed_at": None, "story_id": None,
        # The tool's own engagement and sentiment (i14-rest: vendor columns), kept for reports, never shown raw.
        "extra": vendor_extra(engagement=m.engagement, sentiment=m.sentiment, published_unknown=m.published_unknown),
    }
    # Every mention of a batch is received at the same instant: deadlines depend on team and severity only.
    key = (team, severity)
    if key not in deadlines:
        deadlines[key] = sla_deadlines(protocol, values, crisis_factor=crisis_factor)
    values["first_response_due"], values["published_due"] = deadlines[key]
    return _Incoming(m, values, shape, normalised)


def _insert_mentions(conn: Any, dialect: str, items: list[_Incoming], *, protocol: Protocol | None = None,
                     now: datetime | None = None) -> None:
    """One INSERT ... ON CONFLICT DO NOTHING RETURNING for the lot (bot.store.bulk); the ones already stored
    (same source and external id) are marked duplicates and given their existing id.

    With `protocol`, a new mention that leads (no story) and is not history gets its relay card queued here:
    its outbox id is written in the mention's INSERT and the outbox row follows with that id."""
    if not items:
        return
    for item in items:
        if item.story is not None:  # a copy: counted on its story's card, no deadline of its own
            item.values.update(state=ARCHIVED if item.archived else GROUPED, story_id=item.story,
                               closed_at=item.values["received_at"],
                               first_response_due=None, published_due=None)
    relay = [protocol is not None and i.story is None and not i.archived for i in items]
    rows = bulk.insert_mentions(conn, [i.values for i in items], relay)
    ids = {(r.source, r.external_id): (r.id, r.relay_outbox_id) for r in rows}
    relays = []
    for item in items:
        key = (item.values["source"], item.values["external_id"])
        got = ids.pop(key, None)  # pop: the same mention twice in one batch is stored once
        if got is not None:
            item.id = int(got[0])
            item.values["relay_outbox_id"] = got[1]
            if got[1] is not None:
                relays.append(_relay_row(item, protocol, now, outbox_id=int(got[1])))  # type: ignore[arg-type]
        else:
            item.duplicate = True
            item.id = int(conn.execute(select(Mention.id).where(Mention.source == key[0],
                                                                Mention.external_id == key[1])).scalar_one())
    bulk.insert_outbox(conn, relays)


def _relay_row(item: _Incoming, protocol: Protocol, now: datetime, *, outbox_id: int | None = None) -> dict[str, Any]:
    # Rendered when sent (Vigie.render_relay): the card then shows the mention as it is by then.
    card = {"_render": RELAY_RENDER, "channel": protocol.team(item.values["team"]).channel, "mention_id": item.id}
    row = outbox_row(kind="relay", method="chat.postMessage", args=card, now=now, dedupe_key=f"relay:{item.id}",
                     mention_id=item.id)
    if outbox_id is not None:
        row["id"] = outbox_id
    return row


def _regroup(conn: Any, item: _Incoming, now: datetime, *, leader: bool = False) -> None:
    """Turn a stored leader into a copy of `item.story`, or (leader=True) a stored copy into a leader."""
    if leader and item.archived:  # history leading its own story: still no card, still closed
        values = {"state": ARCHIVED, "story_id": None, "closed_at": now}
    elif leader:
        values = {"state": "open", "story_id": None, "closed_at": None,
                  "first_response_due": item.values["first_response_due"], "published_due": item.values["published_due"]}
    else:
        values = {"state": ARCHIVED if item.archived else GROUPED, "story_id": item.story, "closed_at": now,
                  "first_response_due": None, "published_due": None, "relay_outbox_id": None}
        relay = item.values.get("relay_outbox_id")
        if relay is not None:  # its card was queued with it (another instance had just made this story)
            conn.execute(delete(Outbox).where(col(Outbox.id) == relay))
            item.values["relay_outbox_id"] = None
    conn.execute(update(Mention).where(col(Mention.id) == item.id).values(**ladder_reset(values)))


def _join_stories(session: Session, items: list[_Incoming], *, stories: StoryIndex | None,
                  now: datetime, router: Router, actor: str, protocol: Protocol,
                  crisis_factor: float | None = None) -> list[_Incoming]:
    """Count the copies on their stories, raise a growing story's severity (`Router.storm`, on its leader) and
    queue a refresh of each story's card; return the copies whose story had gone quiet meanwhile (they will
    lead new stories)."""
    conn = session.connection()
    by_story: dict[int, list[_Incoming]] = {}
    for item in items:
        by_story.setdefault(item.story, []).append(item)  # type: ignore[arg-type]
    orphans: list[_Incoming] = []
    for story_id, members in sorted(by_story.items()):
        row = storms.join(conn, story_id, now=now,
                          copies=[(m.values["author"], m.values["reach"]) for m in members])
        if row is None:
            orphans.extend(members)
            if stories is not None:
                stories.forget(story_id)
            continue
        if stories is not None:
            stories.touch(story_id, now)
        storm_severity(conn, row["leader_id"], story_id, router=router, now=now, actor=actor, protocol=protocol,
                        crisis_factor=crisis_factor)
        due = storms.refresh_due(conn, row, now)
        if due is None:
            continue
        leader_relay = conn.execute(select(Mention.relay_outbox_id).where(col(Mention.id) == row["leader_id"])).scalar()
        if leader_relay is None:
            continue
        lane, relay_sent = card_lane(conn, leader_relay, row["leader_id"])
        outbox_id = enqueue(session, kind="story_card", method=CARD_METHOD, now=now, due=due if relay_sent else now,
                            mention_id=row["leader_id"],
                            args={"channel": lane, "mention_id": row["leader_id"], "ts_from_outbox": leader_relay})
        storms.record_refresh(conn, story_id, outbox_id, due)
    return orphans


def _queue_relays(session: Session, items: list[_Incoming], *, protocol: Protocol, now: datetime) -> None:
    if not items:
        return
    conn = session.connection()
    rows = [_relay_row(item, protocol, now) for item in items]
    ids = {r.dedupe_key: r.id for r in conn.execute(_insert_outbox_returning(_dialect(session)), rows).all()}
    for r in rows:  # queued before (a mention re-ingested after a crash): look the row up
        if r["dedupe_key"] not in ids:
            ids[r["dedupe_key"]] = conn.execute(select(Outbox.id).where(Outbox.dedupe_key == r["dedupe_key"])).scalar_one()
    conn.execute(_SET_RELAY, [{"m_id": i.id, "relay": ids[f"relay:{i.id}"]} for i in items])
    for i in items:
        i.values["relay_outbox_id"] = ids[f"relay:{i.id}"]


def volume_bucket(at: datetime) -> datetime:
    """The start of the 5-minute bucket `at` falls in (spike detection counts mentions per bucket)."""
    return at - timedelta(minutes=at.minute % BUCKET_MINUTES, seconds=at.second, microseconds=at.microsecond)


class Vigie(Cards, Feeds):
    """The use cases bound to one database, protocol and clock; each call is one transaction.

    After a transaction that queued Slack calls commits, `on_commit` wakes the outbox worker, so a relay
    leaves within milliseconds instead of at the next poll.
    """

    def __init__(self, *, engine: Engine, protocol: Protocol, clock: Clock, gateway: SlackGateway | None = None,
                 on_commit: Callable[[], None] = lambda: None,
                 deadline_of: Callable[[Mention], tuple[str, datetime, bool] | None] = lambda mention: None):
        self.engine = engine
        self.gateway = gateway  # for reads only (names, permalinks); every write goes through the outbox
        self.protocol = protocol
        self.router: Router = router_for(protocol)
        self.clock = clock
        self.on_commit = on_commit
        # The escalation rules: which deadline a stored mention is racing, for its card (none without them).
        self.deadline_of = deadline_of
        self.stories = StoryIndex()

    def ingest(self, mentions: Iterable[MentionIn], *, actor: str, forced_team: str | None = None,
               history: bool = False, history_after: timedelta | None = None,
               prepared: Sequence[Prepared] | None = None) -> list[IngestResult]:
        """Store a batch in one transaction: all are durable, or none is (then the caller reports an error).

        `history`: every mention is stored as history (no card); `history_after`: the ones published longer
        ago than that are. `prepared`: see `ingest_batch`."""
        now = self.clock.now()
        before = None if history_after is None else now - history_after
        mentions = list(mentions)

        def store() -> list[IngestResult]:
            with session_scope(self.engine) as session:
                return ingest_batch(session, mentions, protocol=self.protocol, router=self.router, now=now,
                                    actor=actor, forced_team=forced_team, stories=self.stories, history=history,
                                    history_before=before, prepared=prepared)

        # No pre-ping per request (bot.store.db): a connection the database closed is found here, and the
        # batch is stored again on a fresh one (a mention stored by the first try is a duplicate, not twice).
        results = retry_on_disconnect(store)
        if any(not r.duplicate for r in results):  # cards, and story card refreshes, to send
            self.on_commit()
        return results

    def retire_history_stories(self, *, since: datetime) -> int:
        """Put the stories history led since `since` out of the live window (their last activity long past):
        a live copy of an old text then leads a new story with its own card instead of joining one that
        nobody sees. Run after an import; returns how many were retired."""
        long_ago = since - storms.WINDOW - timedelta(minutes=1)
        leaders = select(Mention.id).where(col(Mention.state) == ARCHIVED, col(Mention.story_id).is_(None),
                                           col(Mention.received_at) >= since)
        with session_scope(self.engine) as session:
            done = session.connection().execute(update(Story).where(col(Story.id).in_(leaders.scalar_subquery()))
                                                .values(last_at=long_ago))
        return int(done.rowcount or 0)

    def preview(self, mentions: Iterable[MentionIn], *, actor: str, history: bool = False,
                history_after: timedelta | None = None) -> list[IngestResult]:
        """What `ingest` would do with a batch, worked out in a transaction that is rolled back: nothing is
        written, and the stories of the live index are left alone (ids in the results mean nothing)."""
        now = self.clock.now()
        before = None if history_after is None else now - history_after
        with Session(self.engine) as session:
            try:
                return ingest_batch(session, mentions, protocol=self.protocol, router=self.router, now=now,
                                    actor=actor, stories=StoryIndex(), history=history, history_before=before)
            finally:
                session.rollback()

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
        thread_ts: str | None = None,
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
            queue_ephemeral(session, channel=channel, user=flagged_by, text=reply, now=now, thread_ts=thread_ts)
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

    def tell_user_now(self, *, channel: str, user: str, lang: str) -> None:
        """Something failed before it could be recorded (the database may be what failed): say so at once, by a
        direct call rather than through the outbox, which lives in that database."""
        if self.gateway is None:
            return
        try:
            self.gateway.call("chat.postEphemeral", channel=channel, user=user, text=t("error.not_recorded", lang))
        except SlackCallError as exc:
            log.warning("not_recorded_notice_failed", error=exc.error)

    def tell_user(self, *, channel: str, user: str, text: str, thread_ts: str | None = None) -> None:
        """An ephemeral answer to one person, delivered by the outbox like every other Slack call; with
        `thread_ts` (the thread the person acted in), Slack shows it in that thread."""
        with session_scope(self.engine) as session:
            queue_ephemeral(session, channel=channel, user=user, text=text, now=self.clock.now(), thread_ts=thread_ts)
        self.on_commit()

    # --- read side ------------------------------------------------------------------------------

    def mention(self, mention_id: int) -> Mention | None:
        with Session(self.engine) as session:
            return session.get(Mention, mention_id)

    def outbox_counts(self) -> dict[str, int]:
        with Session(self.engine) as session:
            rows = session.exec(select(Outbox.status, func.count()).group_by(col(Outbox.status))).all()
        return {status: int(n) for status, n in rows}
