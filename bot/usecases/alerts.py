"""Alerts channels: a message a monitoring tool (or a person) posts in a channel the protocol lists becomes
mentions, stored like any other (deduplicated by URL), and the message gets a reaction saying it was relayed.

One transaction: the mentions, their cards and the reaction are queued together, or nothing is. Slack's
retries and a `message_changed` adding an unfurl find the same URLs and the same message, so they store nothing
new and queue no second reaction (its outbox key is the message's).
"""

from __future__ import annotations

from typing import Any

import structlog

from bot.intake.alerts import read_alert
from bot.outbox.queue import enqueue
from bot.store.db import session_scope
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
            enqueue(session, kind="reaction", method="reactions.add", now=now,
                    args={"channel": message.channel, "timestamp": message.ts, "name": RELAYED_REACTION},
                    dedupe_key=f"alerts-reaction:{message.channel}:{message.ts}")
        log.info("alerts_relayed", channel=message.channel, ts=message.ts,
                 new=sum(not r.duplicate for r in results), mentions=len(results))
        vigie.on_commit()
        return results
