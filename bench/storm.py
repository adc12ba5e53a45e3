"""The storm: 10,000 mentions in 60 s (9,900 copies or near-copies of 20 stories, 100 distinct), sent over
HTTP in small batches on a steady schedule, with the fake Slack enforcing one message per second per
channel. Reported: Slack calls made, mentions lost, 429s left unhandled, and the time until every card
is current (every outbox row delivered). What the grouping did is measured against the generator's truth."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import inspect, text

from bench.common import AUTH, App, Section, drained_at, outbox_counts
from bench.storm_data import Post, storm
from bot.store import db
from tests.fakes.slack_api import Call


def run(app: App, section: Section, *, copies: int, stories: int, distinct: int, duration: float,
        batch: int, drain_timeout: float, seed: int = 2026) -> None:
    posts = storm(seed, copies=copies, stories=stories, distinct=distinct, duration=duration)
    calls_before = len(app.slack.calls())
    engine = db.make_engine(app.database_url)
    try:
        sent = _send(app, posts, duration=duration, batch=batch)
        drained = drained_at(engine, drain_timeout)
        calls = app.slack.calls()[calls_before:]
        stored = _stored(engine)
        counts = outbox_counts(engine)
        grouping = _grouping(engine, posts)
    finally:
        engine.dispose()

    accepted = sent["accepted"]
    lost = [p.external_id for p in posts if p.external_id not in stored]
    lost_accepted = [x for x in accepted if x not in stored]
    unhandled = unhandled_429s(calls)
    by_method = Counter(c.method for c in calls)
    limited = sum(1 for c in calls if c.status == 429)
    n = len(posts)
    section.add("Mentions sent", n, "", note=f"{sent['requests']} requests of {batch}; sending took "
                f"{sent['elapsed']:.1f} s for a {duration:.0f} s schedule; {len(accepted)} accepted (202)")
    section.add("Slack calls made", len(calls), "", below=400, target="< 400",
                note=", ".join(f"{m} {k}" for m, k in by_method.most_common()) + f"; of which {limited} answered 429")
    section.add("Mentions lost (sent, not stored)", len(lost), "", below=1, target="0",
                note=f"{len(lost_accepted)} of them had been accepted" if lost else "")
    section.add("429s left unhandled", len(unhandled), "", below=1, target="0",
                note=f"{limited} answered 429, each followed by a successful retry of the same call"
                if not unhandled else f"{limited} answered 429; unhandled: {unhandled[:5]}")
    failed = counts.get("failed", 0)
    if drained is None:
        section.add("Time until every card is current (outbox empty), from the storm's start", None, "s",
                    note=f"not drained after {drain_timeout:.0f} s: {counts}")
    else:
        section.add("Time until every card is current (outbox empty), from the storm's start",
                    drained - sent["start"], "s",
                    note=f"{drained - sent['end']:.1f} s after the last mention was accepted"
                    + (f"; {failed} outbox rows failed" if failed else ""))
    per_channel = Counter(c.args.get("channel") for c in calls if c.method == "chat.postMessage" and c.ok)
    busiest = max(per_channel.values(), default=0)
    section.add("Relay cards posted (expected: one per story and per distinct post)", grouping["cards"], "",
                note=f"expected {stories + distinct}; the busiest channel got {busiest} messages: at least "
                f"{max(busiest - 1, 0)} s at Slack's pace")
    if grouping["stories_found"] is not None:
        section.add("Stories found by the app", grouping["stories_found"], "",
                    note=f"expected {stories + distinct}; {grouping['split']} generated stories split over "
                    f"several, {grouping['merged']} app stories mixing different generated ones")
    section.add("Server resident memory after the storm", app.rss_mb, "MB")
    updates, span = by_method.get("chat.update", 0), drain_span(sent, drained)
    if updates:
        section.notes.append(
            f"The fake Slack paces chat.postMessage per channel (1 a second) and chat.update for the workspace "
            f"(Tier 3: 50 a minute, bursts of 5), answering 429 with Retry-After beyond. Here: {updates} updates "
            f"in {span:.0f} s, {updates / max(span, 1.0) * 60:.0f} a minute.")


def drain_span(sent: dict[str, Any], drained: float | None) -> float:
    return (drained if drained is not None else time.monotonic()) - sent["start"]


def _send(app: App, posts: list[Post], *, duration: float, batch: int) -> dict[str, Any]:
    """Send the posts in batches on schedule (batch k at its first post's offset), 4 requests at most in
    flight, as several monitoring tools pushing at once."""
    start_wall = datetime.now(UTC)
    batches = [posts[i:i + batch] for i in range(0, len(posts), batch)]
    payloads = [[p.as_json(start_wall) for p in b] for b in batches]
    accepted: list[str] = []
    lock = threading.Lock()
    client = app.client(timeout=60)
    start = time.monotonic()

    def send(k: int) -> None:
        delay = start + batches[k][0].offset - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        r = client.post("/intake/mentions", headers=AUTH, json=payloads[k])
        if r.status_code == 202:
            with lock:
                accepted.extend(p.external_id for p in batches[k])

    with client, ThreadPoolExecutor(4) as pool:
        list(pool.map(send, range(len(batches))))
    end = time.monotonic()
    return {"start": start, "end": end, "elapsed": end - start, "accepted": accepted, "requests": len(batches)}


def _stored(engine: Any) -> set[str]:
    with engine.connect() as conn:
        return {x for (x,) in conn.execute(text("SELECT external_id FROM mention WHERE external_id LIKE 'storm-%'"))}


def unhandled_429s(calls: list[Call]) -> list[str]:
    """Every call answered 429 must be followed by a successful call doing the same thing: the same outbox
    row (its id travels in the message metadata), or the same method on the same channel and ts."""
    def key(c: Call) -> tuple[Any, ...]:
        outbox_id = ((c.args.get("metadata") or {}).get("event_payload") or {}).get("outbox_id") \
            if isinstance(c.args.get("metadata"), dict) else None
        if outbox_id is not None:
            return ("outbox", outbox_id)
        return (c.method, c.args.get("channel"), c.args.get("ts") or c.args.get("thread_ts"), c.args.get("user"))

    last_ok: dict[tuple[Any, ...], float] = {}
    for c in calls:
        if c.ok:
            last_ok[key(c)] = max(last_ok.get(key(c), 0.0), c.at)
    return [f"{c.method} {key(c)}" for c in calls if c.status == 429 and last_ok.get(key(c), -1.0) <= c.at]


def _grouping(engine: Any, posts: list[Post]) -> dict[str, Any]:
    """Cards posted, and how the app's stories (if it has them) compare with the generated ones."""
    truth = {p.external_id: p.story for p in posts}
    with engine.connect() as conn:
        cards = conn.execute(text("SELECT count(*) FROM outbox o JOIN mention m ON m.id = o.mention_id "
                                  "WHERE o.kind = 'relay' AND m.external_id LIKE 'storm-%'")).scalar_one()
        columns = {c["name"] for c in inspect(conn).get_columns("mention")}
        if "story_id" not in columns:
            return {"cards": cards, "stories_found": None, "split": None, "merged": None}
        rows = conn.execute(text("SELECT external_id, coalesce(story_id, id) FROM mention "
                                 "WHERE external_id LIKE 'storm-%'")).all()
    app_of_truth: dict[Any, set[int]] = defaultdict(set)
    truth_of_app: dict[int, set[Any]] = defaultdict(set)
    for external_id, story in rows:
        generated = truth[external_id] if truth[external_id] is not None else external_id  # distinct: itself
        app_of_truth[generated].add(story)
        truth_of_app[story].add(generated)
    return {"cards": cards, "stories_found": len(truth_of_app),
            "split": sum(1 for s in app_of_truth.values() if len(s) > 1),
            "merged": sum(1 for s in truth_of_app.values() if len(s) > 1)}
