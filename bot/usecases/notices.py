"""Direct messages about a mention (escalation notices, approval requests), kept true in place.

Each one is an outbox row (its kind in `NOTICE_KINDS`, its mention id set), so when someone acts on the mention
every recipient's copy is updated (`chat.update`, queued in the action's transaction) with one line saying who
did what, and when: nobody acts on a message that is no longer true, and nobody is pinged again (an update does
not notify).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from sqlmodel import Session

from bot.i18n import t
from bot.outbox.queue import enqueue
from bot.slack.gateway import SlackCallError, SlackGateway
from bot.slack.text import escape, slack_date
from bot.slack.views import alerts as views
from bot.store import queries as q
from bot.store.models import Mention

log = structlog.get_logger(__name__)
NOTICE_KINDS = ("reminder_dm", "approval_dm")
POST = "chat.postMessage"


def card_link(gateway: SlackGateway | None, mention: Mention, cache: dict[tuple[str, str], str]) -> str | None:
    """The link to a mention's relay card (`chat.getPermalink`, once per card and process), or None before the
    card is posted or when Slack cannot tell. A Slack call: never inside a transaction."""
    if not mention.channel or not mention.relay_ts or gateway is None:
        return None
    key = (mention.channel, mention.relay_ts)
    if key not in cache:
        try:
            answer = gateway.call("chat.getPermalink", channel=key[0], message_ts=key[1])
        except SlackCallError as exc:
            log.info("card_link_unavailable", mention_id=mention.id, error=exc.error)
            return None
        if not answer.get("permalink"):
            return None
        cache[key] = str(answer["permalink"])
    return cache[key]


def display_name(gateway: SlackGateway | None, user: str, cache: dict[str, str]) -> str:
    """A person named without pinging them (`users.info`'s display name, escaped), for a message whose reader
    is someone else or who would otherwise be pinged about their own act; their mention when Slack cannot
    tell. A Slack call: never inside a transaction."""
    if user not in cache:
        name = None
        if gateway is not None:
            try:
                info = gateway.call("users.info", user=user).get("user") or {}
                profile = info.get("profile") or {}
                name = profile.get("display_name") or info.get("real_name") or info.get("name")
            except SlackCallError as exc:
                log.info("user_name_unavailable", error=exc.error)
        if not name:
            return f"<@{user}>"
        cache[user] = escape(str(name))
    return cache[user]


def done_line(action: str, *, actor: str, at: datetime, lang: str, after: dict[str, Any] | None) -> str | None:
    """« Prise en charge par @X (date) »: what an audited action did, for the notices; None for an action that
    changes nothing a notice says."""
    key = f"notify.done.{action}"
    if t(key, lang) == key:
        return None
    return t(key, lang, user=f"<@{actor}>", at=slack_date(at), version=(after or {}).get("version", ""))


def update_notices(s: Session, mention_id: int, line: str, *, now: datetime) -> int:
    """Queue an update of every notice about this mention: its text and blocks as sent, plus `line`."""
    updated = 0
    for row in q.notices_of(s, mention_id=mention_id, kinds=NOTICE_KINDS):
        if row.method != POST:
            continue
        payload = row.payload
        text = f"{payload.get('text', '')}\n{line}"
        blocks = [b for b in payload.get("blocks") or [] if b.get("type") != "context"]
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": line[:views.MAX_TEXT]}]})
        enqueue(s, kind="notice_update", method="chat.update", now=now, mention_id=mention_id,
                args={"channel": row.channel, "ts_from_outbox": row.id, "text": text[:39000], "blocks": blocks})
        updated += 1
    return updated
