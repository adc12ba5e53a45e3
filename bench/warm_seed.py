"""Seeding the warm bench's database (bench/warm.py): set-based, in the server, on a database of the run's own."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.ack import TEAM_WORDS
from bench.floor import TABLE as FLOOR_TABLE
from bot.domain.storms import normalise, shape, signature_blob
from bot.store import db
from tests.fakes.slack_api import FakeSlack

TEAMS = (("general", "C0GENERAL1"), ("finance", "C0FINANCE1"), ("legal", "C0LEGAL001"), ("hr", "C0HR000001"))
BACKLOG_LANES = 20  # the backlog's channels (C0BACKLG00...): they do not hold up the team channels' lanes
VOCAB = [f"{a}{b}" for a in ("ar", "bo", "ci", "du", "el", "fa", "gu", "hi", "jo", "ka", "lu", "mo", "ne", "pi")
         for b in ("mor", "tel", "vane", "sac", "rine", "pot", "lis", "dun", "gar", "ber", "col", "fin", "tam",
                   "zor", "quel", "ni", "vo", "sil", "rac", "mun")]


@dataclass
class Sizes:
    mentions: int = 200_000
    stories: int = 50_000
    backlog: int = 10_000
    mix: int = 800  # requests per round
    rounds: int = 2
    click_rounds: int = 5
    control_rounds: int = 2  # the same clicks with no intake running, before
    copy_targets: int = 1_000  # live stories the copies are made of (their cards exist in the fake Slack)
    import_rows: int = 20_000  # rows of the export `vigie import --history` takes (bench/warm_more.py)
    wide_channels: int = 100  # channels the relay latency's and two instances' distinct mentions go to
    relay_seconds: float = 30.0  # intake at half its rate while relay latency is measured


QUICK = Sizes(mentions=2_000, stories=500, backlog=200, mix=60, rounds=1, click_rounds=2, control_rounds=1,
              copy_targets=50, import_rows=300, wide_channels=8, relay_seconds=3.0)


def story_text(k: int) -> tuple[str, str, str]:
    """The leader text of live story k, its team and channel (the team's word routes it there)."""
    team, channel = TEAMS[k % 4]
    rng = random.Random(k)
    words = " ".join(rng.choice(VOCAB) for _ in range(rng.randint(14, 26)))
    return f"{TEAM_WORDS[channel]} {words} {k}", team, channel


# ---------------------------------------------------------------------------- seeding

OLD_MENTIONS = """
INSERT INTO mention (id, source, external_id, url, author, text, published_at, received_at, language,
    language_detected, reach, tags, team, severity, reasons, status, channel, relay_ts, state, relay_outbox_id,
    reroutes, closed_at)
SELECT g, 'x', 'warm-' || g, 'https://social.example/warm/' || g, '@user' || (g % 5000),
    'Armorine ' || md5(g::text) || ' ' || md5((g * 7)::text), r - interval '5 minutes', r, 'fr', false, 100,
    '[]'::json, (ARRAY['general', 'finance', 'legal', 'hr'])[1 + g % 4], 'low', '[]'::json, 'relayed',
    (ARRAY['C0GENERAL1', 'C0FINANCE1', 'C0LEGAL001', 'C0HR000001'])[1 + g % 4],
    '1700000000.' || lpad(g::text, 6, '0'), 'dismissed', g, 0, r + interval '1 hour'
FROM (SELECT g, CAST(:now AS timestamptz) - interval '90 days' + (g::float / :n) * interval '86 days' AS r
      FROM generate_series(1, :n) AS g) AS s
"""
LIVE_MENTIONS = """
INSERT INTO mention (id, source, external_id, url, author, text, published_at, received_at, language,
    language_detected, reach, tags, team, severity, reasons, status, channel, relay_ts, state, relay_outbox_id,
    reroutes, first_response_due, published_due, closed_at, story_id)
SELECT id, 'x', 'live-' || id, 'https://social.example/live/' || id, '@author' || mod(id, 5000), txt,
    at - interval '2 minutes', at, 'fr', false, 50, '[]'::json, team, 'low', '[]'::json, 'relayed', channel,
    '1710000000.' || lpad(id::text, 6, '0'), state, id, 0, at + interval '4 hours', at + interval '16 hours',
    CASE WHEN state = 'dismissed' THEN at + interval '30 minutes' END, id
FROM unnest(%s::int[], %s::text[], %s::timestamptz[], %s::text[], %s::text[], %s::text[])
    AS u(id, txt, at, team, channel, state)
"""
LIVE_STORIES = """
INSERT INTO story (id, key, fingerprint, normalised, leader_id, team, size, reach, authors, first_at, last_at,
    signature)
SELECT id, fp, fp, norm, id, team, 1, 50, '[]'::json, at, at, sig
FROM unnest(%s::int[], %s::text[], %s::text[], %s::text[], %s::timestamptz[], %s::bytea[])
    AS u(id, fp, norm, team, at, sig)
"""
SENT_RELAYS = """
INSERT INTO outbox (id, dedupe_key, kind, mention_id, method, channel, payload, status, attempts, created_at,
    next_attempt_at, sent_at, ts)
SELECT id, 'relay:warm:' || id, 'relay', id, 'chat.postMessage', channel,
    json_build_object('_render', 'relay', 'channel', channel, 'mention_id', id), 'sent', 1, received_at,
    received_at, received_at, relay_ts
FROM mention
"""
BACKLOG = """
INSERT INTO outbox (dedupe_key, kind, method, channel, payload, status, attempts, created_at, next_attempt_at)
SELECT 'notice:warm:' || g, 'notice', 'chat.postMessage', ch, json_build_object('channel', ch, 'text',
    'backlog ' || g), 'pending', 0, CAST(:now AS timestamptz), CAST(:now AS timestamptz)
FROM (SELECT g, 'C0BACKLG' || lpad((g % :lanes)::text, 2, '0') AS ch FROM generate_series(1, :b) AS g) AS s
"""


def _admin(url: str) -> Any:
    return create_engine(url, isolation_level="AUTOCOMMIT")


@contextmanager
def warm_database(admin_url: str) -> Iterator[str]:
    """A database of this run's own on the server of `admin_url`, dropped after."""
    name = f"vigie_warm_{uuid.uuid4().hex[:8]}"
    engine = _admin(admin_url)
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        engine = _admin(admin_url)
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n "
                              "AND pid <> pg_backend_pid()"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        engine.dispose()


def seed(url: str, sizes: Sizes, now: datetime) -> dict[str, float]:
    """Fill the migrated database; return the seconds each step took."""
    engine = db.make_engine(url)
    took: dict[str, float] = {}
    old = sizes.mentions - sizes.stories
    try:
        db.upgrade(engine)
        started = time.perf_counter()
        ids, txts, ats, teams, channels, states, fps, norms, sigs = [], [], [], [], [], [], [], [], []
        for k in range(sizes.stories):
            txt, team, channel = story_text(k)
            s = shape(txt)
            ids.append(old + 1 + k)
            txts.append(txt)
            # Oldest first, the last one a minute ago, all within the index's 72-hour window.
            ats.append(now - timedelta(hours=70) + timedelta(hours=70) * (k / max(sizes.stories, 1)) - timedelta(minutes=1))
            teams.append(team)
            channels.append(channel)
            states.append("open" if k % 10 == 0 else "dismissed")
            fps.append(s.fingerprint)
            norms.append(normalise(txt))
            sigs.append(signature_blob(s))
        took["shapes"] = time.perf_counter() - started
        with engine.begin() as conn:
            for name, run in (
                ("old mentions", lambda: conn.execute(text(OLD_MENTIONS), {"n": old, "now": now})),
                ("live mentions", lambda: conn.exec_driver_sql(LIVE_MENTIONS, (ids, txts, ats, teams, channels, states))),
                ("live stories", lambda: conn.exec_driver_sql(LIVE_STORIES, (ids, fps, norms, teams, ats, sigs))),
                ("sent relay rows", lambda: conn.execute(text(SENT_RELAYS))),
            ):
                started = time.perf_counter()
                run()
                took[name] = time.perf_counter() - started
            for table in ("mention", "story", "outbox"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"))
            started = time.perf_counter()
            conn.execute(text(BACKLOG), {"b": sizes.backlog, "lanes": BACKLOG_LANES, "now": now})
            took["backlog"] = time.perf_counter() - started
            # The floor's table, as full as the mention table (bench/floor.py creates it if missing).
            conn.exec_driver_sql(FLOOR_TABLE.format(pk="SERIAL PRIMARY KEY", ts="TIMESTAMPTZ"))
            conn.execute(text("INSERT INTO floor_mention (source, external_id, url, author, text, published_at, "
                              "language, reach) SELECT 'x', 'seed-' || g, 'https://x.example/' || g, '@a', "
                              "md5(g::text), now(), 'fr', 1 FROM generate_series(1, :n) AS g"), {"n": sizes.mentions})
        started = time.perf_counter()
        with _admin(url).connect() as conn:
            conn.execute(text("VACUUM ANALYZE"))
        took["vacuum analyze"] = time.perf_counter() - started
    finally:
        engine.dispose()
    return took


def cards_in_fake(url: str, fake: FakeSlack, story_ids: list[int]) -> None:
    """The copy targets' cards as bot messages in the fake Slack (so their refreshes can update them), their ts
    written on the stored relay rows as if the outbox had posted them."""
    ts = []
    engine = db.make_engine(url)
    with engine.connect() as conn:
        channel_of = dict(conn.execute(text("SELECT id, channel FROM mention WHERE id = ANY(:ids)"),
                                       {"ids": story_ids}).all())
    with fake._cond:  # noqa: SLF001 - the fake stores a bot message as chat.postMessage would
        for sid in story_ids:
            ts.append(fake._new_message(channel_of[sid], text="card", blocks=None, metadata=None, thread_ts=None,  # noqa: SLF001
                                        user=fake.bot_user_id, bot=True)["ts"])
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE outbox SET ts = u.ts FROM unnest(%s::int[], %s::text[]) AS u(id, ts) "
                             "WHERE outbox.id = u.id", (story_ids, ts))
        conn.exec_driver_sql("UPDATE mention SET relay_ts = u.ts FROM unnest(%s::int[], %s::text[]) AS u(id, ts) "
                             "WHERE mention.id = u.id", (story_ids, ts))
    engine.dispose()
