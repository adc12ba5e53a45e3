"""Relay cards kept true: rendered when sent, refreshed in place, and the list of a story's copies.

`Cards` is the part of `bot.usecases.intake.Vigie` that keeps a mention's card in the channel up to date (the
outbox renders a card when it sends it, so it never shows an older state) and answers "show this story's
mentions" in the card's thread. The blocks themselves come from `bot.slack.views.cards`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.clock import Clock
from bot.domain.access import sight_of
from bot.domain.workflow import CLOSED_STATES
from bot.i18n import t
from bot.outbox.queue import Deliver, enqueue
from bot.protocol.schema import Protocol
from bot.slack.gateway import SlackCallError, SlackGateway
from bot.slack.text import escape, excerpt, link
from bot.slack.views import cards as blocks
from bot.store import queries as q
from bot.store.db import session_scope
from bot.store.models import Mention, Outbox, OutboxStatus, Story

CARD_METHOD = Deliver.card  # an outbox "method": refresh a relay card, rendered when it is sent
MEMBERS_METHOD = Deliver.story_members  # an outbox "method": list a story's mentions in its thread
MEMBERS_SHOWN = 40
MESSAGE_TEXT_MAX = 3900  # Slack truncates a message's text beyond 4,000 characters

log = structlog.get_logger(__name__)


def card_lane(conn: Any, relay_outbox_id: int, mention_id: int) -> tuple[str, bool]:
    """The outbox lane (FIFO key) for an update of a card, and whether the card is already posted.

    Until the card is posted, its updates queue behind it in its channel's lane. Once it is, they get a
    lane of their own: updates of one card still go out in order, but wait neither behind the channel's
    new messages nor for its pace (an update is not a new message), and a throttled story refresh due in
    a few seconds holds up no relay.
    """
    relay = conn.execute(select(Outbox.status, Outbox.channel).where(col(Outbox.id) == relay_outbox_id)).first()
    if relay is None or relay.status != OutboxStatus.sent:
        return (relay.channel if relay is not None else f"card:{mention_id}"), False
    return f"card:{mention_id}", True


def relay_args(protocol: Protocol, *, mention_id: int, values: dict[str, Any], note: str | None = None,
               deadline: tuple[str, datetime, bool] | None = None, story: Story | None = None,
               closure: blocks.Closure | None = None) -> dict[str, Any]:
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
        story=None if story is None or story.size < 2 else
        blocks.StoryView(id=story.id, size=story.size, reach=story.reach, authors=tuple(story.authors)),  # type: ignore[arg-type]
        closure=closure,
        published_unknown=bool((values.get("extra") or {}).get("published_unknown")),
    )



class Cards:
    """Relay cards and story lists; mixed into `Vigie`, which provides these attributes."""

    engine: Engine
    protocol: Protocol
    clock: Clock
    gateway: SlackGateway | None
    on_commit: Callable[[], None]
    deadline_of: Callable[[Mention], tuple[str, datetime, bool] | None]

    def relay_args(self, mention: Mention, note: str | None = None, story: Story | None = None) -> dict[str, Any]:
        closure = None
        if (story is None and mention.story_id is None) or mention.state in CLOSED_STATES:
            with Session(self.engine) as s:
                if story is None and mention.story_id is None:
                    story = s.get(Story, mention.id)
                closing = q.closing_of(s, mention_id=mention.id, state=mention.state)  # type: ignore[arg-type]
            if closing is not None:
                closure = blocks.Closure(kind=mention.state, by=closing[0], reason=closing[1], url=closing[2])
        return relay_args(self.protocol, mention_id=mention.id, values=mention.model_dump(),  # type: ignore[arg-type]
                          note=note, deadline=self.deadline_of(mention), story=story, closure=closure)

    def render_relay(self, args: dict[str, Any]) -> dict[str, Any]:
        """chat.postMessage arguments of a relay card, rendered by the outbox when it sends it."""
        with Session(self.engine) as s:
            mention = s.get(Mention, args["mention_id"])
        assert mention is not None  # the row and its mention were committed together; mentions are never deleted
        card = self.relay_args(mention)
        card["channel"] = args["channel"]
        return card

    def queue_card_refresh(self, session: Session, mention: Mention, *, note: str | None = None,
                           relay_outbox_id: int | None = None, dedupe_key: str | None = None) -> int:
        """Queue an update of a mention's relay card, rendered when it is sent (`deliver_card`), so a card
        never goes back to an older state or count whatever order its updates were queued in."""
        relay = relay_outbox_id or mention.relay_outbox_id
        lane, _ = card_lane(session.connection(), relay, mention.id)  # type: ignore[arg-type]
        return enqueue(session, kind="card_update", method=CARD_METHOD, now=self.clock.now(), mention_id=mention.id,
                       dedupe_key=dedupe_key,
                       args={"channel": lane, "mention_id": mention.id, "note": note, "ts_from_outbox": relay})

    def deliver_card(self, args: dict[str, Any]) -> dict[str, Any]:
        """The outbox's deliverer for CARD_METHOD: render the card as it is now and update it in place.

        On PostgreSQL the story row is read FOR UPDATE: a copy being counted right now (whose transaction
        saw this refresh still pending, so queued none of its own) commits first and is on the card.
        """
        with Session(self.engine) as s:
            mention = s.get(Mention, args["mention_id"])
            if mention is None:
                return {"ok": True}
            query = select(Story).where(col(Story.id) == mention.id)
            if self.engine.dialect.name == "postgresql":
                query = query.with_for_update()
            story = s.exec(query).first()
            card = self.relay_args(mention, note=args.get("note"), story=story)
            s.commit()
        assert self.gateway is not None
        return self.gateway.call("chat.update", channel=args["channel"], ts=args["ts"], text=card["text"],
                                 blocks=card["blocks"])

    # --- stories ------------------------------------------------------------------------------

    def list_story_members(self, story_id: int, *, asked_by: str) -> str | None:
        """Someone asked to see a story's mentions: list them in the card's thread (rendered when sent, so
        the list is as long as the story is then). Only someone who may see the story's team asks
        (`bot.domain.access`, from the protocol, for the user Slack signed for): None when listed or when
        there is nothing to list, else why not: "no_role" (named nowhere in the protocol) or "not_team_member"."""
        sight = sight_of(asked_by, people=self.protocol.people)
        if not sight.has_role:
            return "no_role"
        with session_scope(self.engine) as s:
            story = s.get(Story, story_id)
            leader = s.get(Mention, story_id) if story is not None else None
            if story is None or leader is None or leader.relay_outbox_id is None:
                return None
            # The copies carry the story's team and the card its leader's (a reroute moves only the leader).
            if not (sight.team(story.team) and sight.team(leader.team)):
                return "not_team_member"
            channel = self.protocol.team(story.team).channel
            enqueue(s, kind="story_members", method=MEMBERS_METHOD, now=self.clock.now(), mention_id=story_id,
                    args={"channel": channel, "story_id": story_id, "asked_by": asked_by,
                          "thread_ts_from_outbox": leader.relay_outbox_id})
        log.info("story_members_asked", story=story_id, by=asked_by)
        self.on_commit()
        return None

    def deliver_story_members(self, args: dict[str, Any]) -> dict[str, Any]:
        """The outbox's deliverer for MEMBERS_METHOD: the largest-reach mentions in a thread message, and
        every one of them in a CSV file in the same thread when they do not fit."""
        lang = self.protocol.language
        story_id = args["story_id"]
        with Session(self.engine) as s:
            size = s.exec(select(func.count()).select_from(Mention).where(
                (col(Mention.story_id) == story_id) | (col(Mention.id) == story_id))).one()
            top = s.exec(select(Mention).where((col(Mention.story_id) == story_id) | (col(Mention.id) == story_id))
                         .order_by(func.coalesce(Mention.reach, 0).desc(), col(Mention.id)).limit(MEMBERS_SHOWN)).all()
        lines = [t("story.members_title", lang, n=blocks.number(size, lang))]
        lines += [t("story.member_line", lang, author=excerpt(m.author, 80), source=blocks.names.network_name(m.source, lang),
                    reach=blocks.number(m.reach or 0, lang), link=link(m.url, t("story.members_link", lang)))
                  for m in top]
        if size > len(top):
            lines.append(t("story.members_more", lang, n=blocks.number(size - len(top), lang)))
        assert self.gateway is not None
        answer = self.gateway.call("chat.postMessage", channel=args["channel"], thread_ts=args["thread_ts"],
                                   text="\n".join(lines)[:MESSAGE_TEXT_MAX], unfurl_links=False, unfurl_media=False)
        if size > len(top):
            self._upload_members(story_id, channel=str(answer.get("channel") or args["channel"]),
                                 thread_ts=args["thread_ts"])
        return answer

    def _upload_members(self, story_id: int, *, channel: str, thread_ts: str) -> None:
        buffer = io.StringIO()
        out = csv.writer(buffer)
        out.writerow(["id", "source", "author", "reach", "published_at", "url", "text"])
        with Session(self.engine) as s:
            rows = s.exec(select(Mention).where((col(Mention.story_id) == story_id) | (col(Mention.id) == story_id))
                          .order_by(col(Mention.id))).all()
            for m in rows:
                out.writerow([m.id, m.source, m.author, m.reach or "", m.published_at.isoformat(), m.url, m.text])
        assert self.gateway is not None
        try:
            self.gateway.upload_file(channel=channel, thread_ts=thread_ts, filename=f"vigie-story-{story_id}.csv",
                                     title=f"story {story_id}", content=buffer.getvalue().encode())
        except SlackCallError as exc:  # the thread message already says how many there are
            log.warning("story_members_upload_failed", story=story_id, error=exc.error)
