"""Alerts channels: a message a monitoring tool (or a person) posts in a channel the protocol lists becomes
mentions, stored like any other (deduplicated by URL), and the message says it was relayed: a reaction, a reply in
its thread naming the team channel with a link to the card, or both (the protocol's `alerts[].mark`).

One transaction: the mentions, their cards, the reaction and the reply are queued together, or nothing is. Slack's
retries and a `message_changed` adding an unfurl find the same URLs and the same message, so they store nothing
new and queue no second reaction nor reply (their outbox keys are the message's).

The reply is rendered when the outbox sends it (`render_reply`): the cards queued with it are usually posted by
then, and their links are in it; a card not posted yet is named by its channel only.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlmodel import Session

from bot.i18n import t
from bot.intake.alerts import read_alert
from bot.outbox.queue import Render, enqueue
from bot.slack.gateway import SlackCallError
from bot.store.db import session_scope
from bot.store.models import Mention, Outbox, Story
from bot.usecases.intake import IngestResult, Vigie, ingest_batch

log = structlog.get_logger(__name__)
RELAYED_REACTION = "eyes"


class AlertsDesk:
    def __init__(self, vigie: Vigie):
        self.vigie = vigie
        self.channels = {entry.channel: entry for entry in vigie.protocol.alerts}

    def relay(self, event: dict[str, Any]) -> list[IngestResult]:
        """Store the mentions of one `message` event from an alerts channel; nothing for another channel."""
        entry = self.channels.get(str(event.get("channel") or ""))
        if entry is None:
            return []
        vigie = self.vigie
        message = read_alert(event, tool=entry.tool, zone=vigie.protocol.tz)
        if message is None or not message.mentions:
            return []
        now = vigie.clock.now()
        with session_scope(vigie.engine) as session:
            results = ingest_batch(session, message.mentions, protocol=vigie.protocol, router=vigie.router,
                                   now=now, actor=f"alerts:{message.channel}", forced_team=entry.team,
                                   stories=vigie.stories)
            if entry.mark in ("reaction", "both"):
                enqueue(session, kind="reaction", method="reactions.add", now=now,
                        args={"channel": message.channel, "timestamp": message.ts, "name": RELAYED_REACTION},
                        dedupe_key=f"alerts-reaction:{message.channel}:{message.ts}")
            if entry.mark in ("reply", "both"):
                enqueue(session, kind="alerts_reply", method="chat.postMessage", now=now,
                        args={"_render": Render.alerts_reply, "channel": message.channel, "thread_ts": message.ts,
                              "mention_ids": list(dict.fromkeys(r.id for r in results))},
                        dedupe_key=f"alerts-reply:{message.channel}:{message.ts}")
        log.info("alerts_relayed", channel=message.channel, ts=message.ts,
                 new=sum(not r.duplicate for r in results), mentions=len(results))
        vigie.on_commit()
        return results

    def render_reply(self, args: dict[str, Any]) -> dict[str, Any]:
        """chat.postMessage arguments of the reply in the alert's thread, in the protocol's language: one line per
        card (its team channel, and the card's link once it is posted), rendered when the outbox sends it."""
        lang = self.vigie.protocol.language
        lines: list[str] = []
        with Session(self.vigie.engine) as session:
            for mention_id in args["mention_ids"]:
                line = self._line(session, int(mention_id), lang)
                if line and line not in lines:
                    lines.append(line)
        text = "\n".join(lines) or t("alerts.reply.stored", lang)
        return {"channel": args["channel"], "thread_ts": args["thread_ts"], "text": text,
                "unfurl_links": False, "unfurl_media": False}

    def _line(self, session: Session, mention_id: int, lang: str) -> str | None:
        mention = session.get(Mention, mention_id)
        if mention is None:
            return None
        if mention.story_id is not None:  # a copy: its story's card is the one to see
            story = session.get(Story, mention.story_id)
            leader = session.get(Mention, story.leader_id) if story is not None else None
            mention = leader or mention
        channel = self.vigie.protocol.team(mention.team).channel
        relay = session.get(Outbox, mention.relay_outbox_id) if mention.relay_outbox_id else None
        if relay is None:  # history, or a card never queued: stored without a card
            return t("alerts.reply.stored", lang)
        where = relay.payload.get("_channel_id") or relay.channel or channel
        link = self._permalink(where, relay.ts) if relay.ts else None
        if link:
            return t("alerts.reply.card", lang, channel=f"<#{where}>", link=link)
        return t("alerts.reply.relayed", lang, channel=f"<#{where}>")

    def _permalink(self, channel: str, ts: str) -> str | None:
        gateway = self.vigie.gateway
        if gateway is None:
            return None
        try:
            return gateway.call("chat.getPermalink", channel=channel, message_ts=ts).get("permalink") or None
        except SlackCallError as exc:
            log.info("alerts_reply_no_permalink", channel=channel, error=exc.error)
            return None
