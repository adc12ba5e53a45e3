"""Each Slack request handled once, across retries and instances.

Slack redelivers an event it thinks was not acknowledged (`X-Slack-Retry-Num`, reason `http_timeout` or
`http_error`), possibly to another instance behind the load balancer. A retry does not mean the first
delivery was lost, nor that it was processed: only the first one to insert the request's key does the work.
Keys are what Slack documents as unique per delivery: an event's `event_id`, an interaction's or a slash
command's `trigger_id` (with the user who made it).
Bolt itself processes retries like new requests, and a header check alone would drop a retry whose first
delivery never reached us (and misses replays without the header), hence the table.

Slash commands are in too. Slack never retries one (a command not answered in 3 s fails in the person's Slack),
so the same signed command twice is a replay: someone who captured it resending it within the 5-minute
signature window, or a proxy repeating it. The replay gets an empty 200 and nothing runs twice (an escalation,
an on-call turn); the person saw their answer the first time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from bot.store.models import SlackDelivery

KEEP = timedelta(days=1)  # Slack retries three times within about five minutes
# Option lists (block_suggestion) are left out: they only read, and their answer must come every time.
_INTERACTIONS = ("block_actions", "view_submission", "shortcut", "message_action")
HEALTH_KEY = "health:write-probe"  # no request kind starts with "health:"
_TABLE = SlackDelivery.__table__  # type: ignore[attr-defined]


def delivery_key(body: dict[str, Any]) -> str | None:
    kind = body.get("type")
    if kind == "event_callback" and body.get("event_id"):
        return f"event:{body['event_id']}"
    if kind in _INTERACTIONS and body.get("trigger_id"):
        user = (body.get("user") or {}).get("id", "")
        return f"{kind}:{user}:{body['trigger_id']}"[:200]
    if kind is None and body.get("command") and body.get("trigger_id"):  # a slash command (a form, no type)
        return f"command:{body['command']}:{body.get('user_id', '')}:{body['trigger_id']}"[:200]
    return None


def first_delivery(engine: Engine, key: str, *, now: datetime) -> bool:
    """Record `key`; True only for the first caller, whichever instance it runs on."""
    insert = (postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert)(_TABLE)
    stmt = insert.on_conflict_do_nothing().returning(_TABLE.c.key)  # rowcount is -1 with psycopg 3 here
    with engine.begin() as conn:
        return conn.execute(stmt, {"key": key, "received_at": now}).scalar_one_or_none() is not None


def probe_write(engine: Engine, *, now: datetime) -> None:
    """A real write, committed, for /healthz: one row of this table (keys are namespaced, and the row is refreshed
    by every probe so the daily clean-up keeps it). Raises whatever the database raises when it cannot store:
    a full disk, a read-only database or file, a lost connection."""
    insert = (postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert)(_TABLE)
    stmt = insert.on_conflict_do_update(index_elements=[_TABLE.c.key], set_={"received_at": now})
    with engine.begin() as conn:
        conn.execute(stmt, {"key": HEALTH_KEY, "received_at": now})


def forget_deliveries(engine: Engine, *, now: datetime) -> int:
    with engine.begin() as conn:
        return conn.execute(delete(_TABLE).where(_TABLE.c.received_at < now - KEEP)).rowcount
