"""SQLModel tables. Everything that matters is a row, so a restart loses nothing.

Times are stored as UTC. SQLite keeps no timezone, so `UTCDateTime` gives back aware UTC datetimes on both
SQLite and PostgreSQL: rules never have to guess.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Date, DateTime, Index, LargeBinary, String, Text, TypeDecorator, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlmodel import Field, SQLModel

# Severity is a domain rule; re-exported here for code written before it moved.
from bot.domain.workflow import Severity as Severity


class UTCDateTime(TypeDecorator):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utc_column(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class MentionStatus(StrEnum):
    """Delivery of the relay card (the workflow state is `Mention.state`, see bot.domain.workflow)."""

    new = "new"  # stored, relay not yet delivered
    relayed = "relayed"  # card posted in the team channel


class OutboxStatus(StrEnum):
    pending = "pending"
    sending = "sending"  # claimed by a worker; if its lease runs out the row is "in doubt"
    sent = "sent"
    failed = "failed"  # gave up: needs a person (bot removed from channel, token revoked...)


_UNHANDLED = "published_at_reply IS NULL AND closed_at IS NULL"
_LIVE_OUTBOX = "status IN ('pending', 'sending')"  # = bot.outbox.queue.LIVE
# Open mentions (bot.domain.workflow.OPEN_STATES) whose next ladder step is not worked out: new, or reset by a
# change. The escalation sweep's query is this very text, so both databases use the partial index below.
UNSCHEDULED = "next_step_basis IS NULL AND state IN ('open', 'claimed', 'in_review', 'ready')"


class Mention(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_mention_source_external_id"),
        # The digest's response times read (milestone, received_at) pairs from the index alone, for the
        # company or a team; its overdue deadlines read (due, team, milestone, closed_at) likewise.
        Index("ix_mention_first_response_at_received_at_team", "first_response_at", "received_at", "team"),
        Index("ix_mention_published_at_reply_received_at_team", "published_at_reply", "received_at", "team"),
        Index("ix_mention_first_response_due_team", "first_response_due", "team", "first_response_at", "closed_at"),
        Index("ix_mention_published_due_team", "published_due", "team", "published_at_reply", "closed_at"),
        # Mentions with neither reply nor close: the digest counts and lists them without reading the table.
        Index("ix_mention_unhandled", "received_at", "team", "state", postgresql_where=sql_text(_UNHANDLED),
              sqlite_where=sql_text(_UNHANDLED)),
        # The escalation sweep reads only what it must look at: steps due, mentions changed since, and the
        # times worked out under another basis (bot.usecases.escalation).
        # Closed mentions have neither: partial indexes, so none of them holds the closed ones (a comparison
        # implies IS NOT NULL for both databases' planners; the last one's query is its condition's very text).
        Index("ix_mention_next_step_at", "next_step_at", postgresql_where=sql_text("next_step_at IS NOT NULL"),
              sqlite_where=sql_text("next_step_at IS NOT NULL")),
        Index("ix_mention_next_step_basis", "next_step_basis", postgresql_where=sql_text("next_step_basis IS NOT NULL"),
              sqlite_where=sql_text("next_step_basis IS NOT NULL")),
        Index("ix_mention_next_step_unset", "next_step_basis", "state", postgresql_where=sql_text(UNSCHEDULED),
              sqlite_where=sql_text(UNSCHEDULED)),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=200)
    external_id: str = Field(max_length=200)
    url: str = Field(sa_column=Column(Text, nullable=False))
    author: str = Field(max_length=300)
    text: str = Field(sa_column=Column(Text, nullable=False))
    published_at: datetime = utc_column()
    received_at: datetime = utc_column(index=True)
    language: str | None = Field(default=None, max_length=8)
    language_detected: bool = False
    reach: int | None = None
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    team: str = Field(max_length=64, index=True)
    severity: str = Field(max_length=16)
    # Why triage decided what it did: [{"code": "...", "params": {...}}]; rendered through i18n.
    reasons: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=MentionStatus.new, max_length=16)
    channel: str | None = Field(default=None, max_length=32)
    relay_ts: str | None = Field(default=None, max_length=32)
    flagged_by: str | None = Field(default=None, max_length=32)
    # Workflow (bot.domain.workflow.MentionState): open, claimed, in_review, ready, published, dismissed.
    state: str = Field(default="open", max_length=16, index=True)
    owner: str | None = Field(default=None, max_length=32)
    # The outbox row of the current relay card: updates and thread replies refer to it, so they can be
    # queued before Slack has even answered with the card's ts.
    relay_outbox_id: int | None = None
    reroutes: int = 0
    # Milestones and the deadlines they were due by, written when they happen, so the digest's figures
    # (response times, share of SLAs kept) are plain SQL aggregates over columns; the digest filters a day by
    # each milestone and each deadline (overdue ones), hence their indexes (measured over a million mentions
    # in BENCHMARKS.md).
    first_response_due: datetime | None = utc_column(nullable=True)
    published_due: datetime | None = utc_column(nullable=True)
    first_response_at: datetime | None = utc_column(nullable=True)
    approved_at: datetime | None = utc_column(nullable=True)
    published_at_reply: datetime | None = utc_column(nullable=True)
    closed_at: datetime | None = utc_column(nullable=True, index=True)
    # The story (storm of near-copies) it belongs to. Only the story's first mention has a card and a
    # workflow; the others are stored with state "grouped" and counted on that card.
    story_id: int | None = Field(default=None, index=True)
    # What the monitoring tool measured itself ({"engagement": 120, "sentiment": "negative"}, bot.intake.signals);
    # None when it said nothing. Data for reports and triage, never shown raw.
    extra: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # When the escalation sweep must look at this open mention again (its next ladder step) and what that time
    # was worked out under (the protocol's SLAs and ladders, crisis or not). Both NULL: not worked out yet, or
    # reset by a change of what it depends on (bot.domain.deadlines.LADDER_INPUTS); a time NULL with a basis:
    # no step left. Written by the sweep only (bot.store.queries.set_next_steps).
    next_step_at: datetime | None = utc_column(nullable=True)
    next_step_basis: str | None = Field(default=None, max_length=40)


class Story(SQLModel, table=True):
    """Mentions saying the same thing (retweets, copy-paste campaigns, a syndicated article): one card."""

    id: int | None = Field(default=None, primary_key=True)
    # Unique, so two instances receiving the first exact copies at once make one story. It is the
    # fingerprint itself while the story is current; a story gone quiet is retired (the key gets a suffix)
    # so that the same text coming back weeks later starts a new story with its own card.
    key: str = Field(max_length=64, unique=True)
    fingerprint: str = Field(max_length=32, index=True)
    normalised: str = Field(sa_column=Column(Text, nullable=False))  # the leader's, for near-copy checks
    leader_id: int = Field(index=True)
    team: str = Field(max_length=64)
    size: int = 1
    reach: int = 0
    authors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # a sample
    first_at: datetime = utc_column()
    last_at: datetime = utc_column(index=True)
    # The card refresh waiting in the outbox, if any: later copies only bump the counts it will render.
    refresh_outbox_id: int | None = None
    refreshed_at: datetime | None = utc_column(nullable=True, index=True)
    # Its leader's shape (`bot.domain.storms.signature_blob`): a restart loads it instead of recomputing it.
    signature: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class VolumeBucket(SQLModel, table=True):
    """Mentions received per 5-minute bucket, counted by the sweep from the mentions received since its
    last pass: spike detection sums a few hundred of these rows instead of counting a week of mentions."""

    __tablename__ = "volume_bucket"
    start: datetime = Field(sa_column=Column(UTCDateTime(), primary_key=True))
    count: int = 0


class DailyRollup(SQLModel, table=True):
    """Mentions received per local day (protocol timezone), team and source, or team and theme (a tag), kept
    by the sweep for each finished day (`bot.store.rollups`): the digest's growth figures and chart read these
    rows instead of the mentions. A day's total row (team, source and theme all "") marks it as rolled up.
    A team's total row (team, "", "") and the day's total row hold the digest's other counters too."""

    __tablename__ = "daily_rollup"
    day: date = Field(sa_column=Column(Date, primary_key=True))
    team: str = Field(sa_column=Column(String(64), primary_key=True))
    source: str = Field(sa_column=Column(String(200), primary_key=True))
    theme: str = Field(sa_column=Column(Text, primary_key=True))
    received: int = 0
    published: int = 0
    dismissed: int = 0
    first_response_n: int = 0
    first_response_met: int = 0
    published_n: int = 0
    published_met: int = 0
    escalations: int = 0
    at_deadline: int = 0
    first_response_p50: int | None = None  # seconds, that day's milestones (per team, or the whole day's)
    first_response_p90: int | None = None
    publication_p50: int | None = None
    publication_p90: int | None = None
    # Deadlines whose due passed that day with their milestone still missing at the day's end (the digest's
    # "overdue"), on the team and day total rows: exact for a one-day period, never summed (a week judges them
    # at its own end). NULL on the days rolled up before it was kept: the digest counts those from the mentions.
    overdue: int | None = None


class Draft(SQLModel, table=True):
    """One version of a reply, or a holding statement. A new version is a new row; approvals belong to a version,
    and are bound to its exact text (`approved_sha256`): the publisher sends nothing else."""

    __table_args__ = (
        UniqueConstraint("mention_id", "version", name="uq_draft_mention_version"),
        # One holding statement per mention, unless a community manager confirms another (its number goes up).
        UniqueConstraint("mention_id", "holding_no", name="uq_draft_mention_holding_no"),
    )

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mention.id", index=True)
    version: int
    kind: str = Field(default="reply", max_length=16)  # reply | holding
    author: str = Field(max_length=32)
    text: str = Field(sa_column=Column(Text, nullable=False))
    network: str = Field(max_length=32)
    language: str = Field(max_length=8)
    label: str = Field(max_length=16)  # public | internal | confidential
    state: str = Field(max_length=24, index=True)  # bot.domain.workflow.DraftState
    created_at: datetime = utc_column()
    # Findings of the pre-publish checks at submission: [{"code", "start", "end", "text", ...}]
    findings: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    card_outbox_id: int | None = None
    # The SHA-256 of the text as approved (hex): written when the last required approval lands, checked by
    # whoever publishes.
    approved_sha256: str | None = Field(default=None, max_length=64)
    holding_no: int | None = None  # 1, 2... for holding statements; None for replies
    published_at: datetime | None = utc_column(nullable=True)
    published_by: str | None = Field(default=None, max_length=32)
    public_url: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class ReviewDecision(SQLModel, table=True):
    """An approver's decision on one draft version: approve, request_changes or reject."""

    __tablename__ = "review_decision"
    # One decision of each kind per person and version: a double click stores one approval.
    __table_args__ = (UniqueConstraint("draft_id", "user", "kind", name="uq_review_decision_once"),)

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="draft.id", index=True)
    user: str = Field(max_length=32)
    kind: str = Field(max_length=24)
    comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Written reason given to approve despite failing checks (recorded, shown, exported).
    override_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    at: datetime = utc_column()
    text_sha256: str = Field(default="", max_length=64)  # the exact text this decision was about


class Publication(SQLModel, table=True):
    """A draft went out (by hand or through the webhook). The unique draft id makes it happen once, whatever
    the number of clicks, instances or retries."""

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="draft.id", unique=True)
    mention_id: int = Field(foreign_key="mention.id", index=True)
    by: str = Field(max_length=64)
    url: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    text_sha256: str = Field(max_length=64)
    at: datetime = utc_column()


class Outbox(SQLModel, table=True):
    """A Slack call to make, written in the same transaction as the change that needs it."""

    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        # The lanes' heads and the next row of a lane, read by index seeks (`bot.outbox.queue.lane_heads`).
        Index("ix_outbox_lane", "channel", "id", postgresql_where=sql_text(_LIVE_OUTBOX),
              sqlite_where=sql_text(_LIVE_OUTBOX)),
    )

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=32)  # relay, notice, ephemeral...
    mention_id: int | None = Field(default=None, foreign_key="mention.id", index=True)
    method: str = Field(max_length=64)  # Slack Web API method name
    channel: str = Field(max_length=32)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=OutboxStatus.pending, max_length=16)
    attempts: int = 0
    created_at: datetime = utc_column()
    next_attempt_at: datetime = utc_column()
    leased_until: datetime | None = utc_column(nullable=True)
    sent_at: datetime | None = utc_column(nullable=True)
    ts: str | None = Field(default=None, max_length=32)
    last_error: str | None = Field(default=None, max_length=500)


class FeedState(SQLModel, table=True):
    """What we know of each polled feed: conditional-GET validators and its health."""

    url: str = Field(primary_key=True, max_length=2000)
    etag: str | None = Field(default=None, max_length=500)
    last_modified: str | None = Field(default=None, max_length=100)
    last_polled_at: datetime | None = utc_column(nullable=True)
    last_ok_at: datetime | None = utc_column(nullable=True)
    consecutive_failures: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    # The last successful poll's warnings ([{"key": "feed.warn.no_date", "params": {...}}], bot.intake.feeds),
    # translated when shown; None when it had none.
    warnings: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class AuditEvent(SQLModel, table=True):
    """Append-only record of every decision (intake, routing, later claims and approvals)."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_column(index=True)
    actor: str = Field(max_length=64)  # a Slack user id, or "system", "intake:<token name>"
    action: str = Field(max_length=64)
    mention_id: int | None = Field(default=None, foreign_key="mention.id", index=True)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Reminder(SQLModel, table=True):
    """One rung of the escalation ladder, for one mention and one deadline. The unique key makes each step
    happen exactly once, whatever the number of instances or restarts."""

    __table_args__ = (UniqueConstraint("mention_id", "stage", "step", name="uq_reminder_step"),)

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mention.id", index=True)
    stage: str = Field(max_length=24)  # first_response | approved | published
    step: str = Field(max_length=24)  # the ladder step's key, e.g. "50%", "100%", "+30m"
    due_at: datetime = utc_column()
    sent_at: datetime = utc_column(index=True)
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class OncallOverride(SQLModel, table=True):
    """Someone takes the on-call for a period ("I take this weekend"); the latest one wins."""

    # A double click records one override.
    __table_args__ = (UniqueConstraint("role", "user", "start", "end", name="uq_oncall_override_once"),)

    id: int | None = Field(default=None, primary_key=True)
    role: str = Field(max_length=32)  # community_managers | decision_makers
    user: str = Field(max_length=32)
    start: datetime = utc_column()
    end: datetime = utc_column()
    created_at: datetime = utc_column()
    created_by: str = Field(max_length=32)


class Crisis(SQLModel, table=True):
    # At most one crisis at a time (two people declaring in the same second make one): a unique index over the
    # open crises, all of which have the same indexed value.
    __table_args__ = (Index("uq_crisis_active", sql_text("(ended_at IS NULL)"), unique=True,
                            postgresql_where=sql_text("ended_at IS NULL"), sqlite_where=sql_text("ended_at IS NULL")),)

    id: int | None = Field(default=None, primary_key=True)
    declared_at: datetime = utc_column()
    declared_by: str = Field(max_length=32)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    channel: str | None = Field(default=None, max_length=80)
    ended_at: datetime | None = utc_column(nullable=True)
    ended_by: str | None = Field(default=None, max_length=32)
    summary: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class CrisisSignal(SQLModel, table=True):
    """A crisis proposal sent to the community managers; the key (kind and time window) makes it once."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=120, unique=True)
    kind: str = Field(max_length=32)  # spike | crisis_words | high_reach
    at: datetime = utc_column()
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class DigestRun(SQLModel, table=True):
    """A digest posted (or being posted): the unique key makes each one go out once."""

    __table_args__ = (UniqueConstraint("kind", "scope", "day", name="uq_digest_run"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # daily | weekly
    scope: str = Field(max_length=64)  # a team key, or "*" for the company-wide digest
    day: str = Field(max_length=10)  # the local day (or the week's last day) it covers, YYYY-MM-DD
    posted_at: datetime = utc_column()


class SlackDelivery(SQLModel, table=True):
    """A Slack request already handled (an event_id, or an interaction's trigger_id): Slack retries an event
    it thinks was not acknowledged, so the primary key makes the second delivery a no-op on every instance."""

    key: str = Field(primary_key=True, max_length=200)
    received_at: datetime = utc_column(index=True)


class CompanyWord(SQLModel, table=True):
    """A word of the company dictionary (issue 13, item 2): an approver added it beside a spelling finding, and the
    checks never flag it again. The case-folded word is the key, so two approvers adding it at once store one row."""

    word: str = Field(primary_key=True, max_length=100)  # case-folded, as the checks compare it
    shown: str = Field(max_length=100)  # as it was written in the draft ("Colissimo")
    language: str = Field(max_length=8)  # the draft's language when it was added (the word counts in both)
    added_by: str = Field(max_length=64)
    added_at: datetime = utc_column()
    mention_id: int | None = Field(default=None)  # where it was flagged (no foreign key: kept if history is purged)
