"""A post in doubt (its worker died mid-call, or the call timed out): was it posted? Look for the outbox id
the message carries in its metadata, in the channel's history (or the thread's replies for a reply), before
posting it again.

A direct message is queued under the person's user ID, which the history methods refuse
(`channel_not_found`): its DM channel is opened first (`conversations.open`, which Slack answers with the
existing DM), and that channel's history read (`im:history`). Before this, a DM post that timed out was
"unverifiable" and posted again: the PostgreSQL scale-out test saw it twice now and then.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog

from bot.slack.gateway import TOKEN_REFUSED, Failure, SlackCallError, SlackGateway
from bot.slack.ids import USER_ID, MetadataEvent

log = structlog.get_logger(__name__)

PAGES = 10  # at most 10 pages of 200: the lease is short, the message is recent


class InDoubt(Protocol):
    id: int
    channel: str
    payload: dict[str, Any]
    created_at: datetime


def look_for(gateway: SlackGateway, row: InDoubt, args: dict[str, Any]) -> str | None:
    """`find_posted`, for a row in doubt. When the channel's history cannot be read (a public channel the
    bot posts in without being a member), posting again is the only way not to lose the message: at least
    once, then. A transient failure or a refused token keeps it in doubt (raised)."""
    try:
        return find_posted(gateway, row, args)
    except SlackCallError as exc:
        if exc.failure in (Failure.rate_limited, Failure.retryable) or exc.error in TOKEN_REFUSED:
            raise
        log.warning("outbox_in_doubt_unverifiable", outbox_id=row.id, error=exc.error)
        return None


def find_posted(gateway: SlackGateway, row: InDoubt, args: dict[str, Any] | None = None) -> str | None:
    """The ts of this row's message if Slack has it (its outbox id in the metadata), else None."""
    oldest = f"{(row.created_at - timedelta(seconds=5)).timestamp():.6f}"
    args = args or {}
    channel = str(args.get("channel") or row.payload.get("_channel_id", row.channel))
    if USER_ID.fullmatch(channel):  # a DM queued under the person's ID: its channel is the DM's
        channel = str((gateway.call("conversations.open", users=channel).get("channel") or {}).get("id") or channel)
    method, where = "conversations.history", {"channel": channel}
    if args.get("thread_ts"):
        method, where = "conversations.replies", {"channel": channel, "ts": args["thread_ts"]}
    cursor = None
    for _ in range(PAGES):
        answer = gateway.call(method, **where, oldest=oldest, include_all_metadata=True, limit=200,
                              **({"cursor": cursor} if cursor else {}))
        for message in answer.get("messages", []):
            meta = message.get("metadata") or {}
            if (meta.get("event_type") == MetadataEvent.outbox.value
                    and (meta.get("event_payload") or {}).get("outbox_id") == row.id):
                return str(message["ts"])
        cursor = (answer.get("response_metadata") or {}).get("next_cursor")
        if not answer.get("has_more") or not cursor:
            return None
    return None
