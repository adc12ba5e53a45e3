"""Each Slack request handled once, across retries and instances.

Slack redelivers an event it thinks was not acknowledged (`X-Slack-Retry-Num`, reason `http_timeout` or
`http_error`), possibly to another instance behind the load balancer. A retry does not mean the first
delivery was lost, nor that it was processed: only the first one to insert the request's key does the work.
Keys are what Slack documents as unique per delivery: an event's `event_id`, an interaction's `trigger_id`
(with the user who made it).
Bolt itself processes retries like new requests, and a header check alone would drop a retry whose first
delivery never reached us (and misses replays without the header), hence the table.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from bot.models import SlackDelivery

KEEP = timedelta(days=1)  # Slack retries three times within about five minutes
# Requests answered in their own response (slash commands, option lists) are left out: an empty answer
# to a replay would hide the real one, and reading twice is harmless.
_INTERACTIONS = ("block_actions", "view_submission", "shortcut", "message_action")
_TABLE = SlackDelivery.__table__  # type: ignore[attr-defined]


def delivery_key(body: dict[str, Any]) -> str | None:
    kind = body.get("type")
    if kind == "event_callback" and body.get("event_id"):
        return f"event:{body['event_id']}"
    if kind in _INTERACTIONS and body.get("trigger_id"):
        user = (body.get("user") or {}).get("id", "")
        return f"{kind}:{user}:{body['trigger_id']}"[:200]
    return None


def first_delivery(engine: Engine, key: str, *, now: datetime) -> bool:
    """Record `key`; True only for the first caller, whichever instance it runs on."""
    insert = (postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert)(_TABLE)
    stmt = insert.on_conflict_do_nothing().returning(_TABLE.c.key)  # rowcount is -1 with psycopg 3 here
    with engine.begin() as conn:
        return conn.execute(stmt, {"key": key, "received_at": now}).scalar_one_or_none() is not None


def forget_deliveries(engine: Engine, *, now: datetime) -> int:
    with engine.begin() as conn:
        return conn.execute(delete(_TABLE).where(_TABLE.c.received_at < now - KEEP)).rowcount
