"""Acknowledgement time of what people do in Slack: `/vigie status` and a click on a relay card's "claim"
button, signed exactly as Slack signs them, timed from the client as the HTTP response time of
`/slack/events` (Slack waits 3 s; the target is p99 under 100 ms)."""

from __future__ import annotations

import itertools
import time
from urllib.parse import urlencode

from sqlalchemy import text

from bench.common import AUTH, TEAM_CHANNELS, App, Section, pct, wait_until
from bot.store import db
from tests.conftest import SIGNING_SECRET, mention
from tests.slack_requests import block_action, interactive_body, signed_headers

TEAM_WORDS = {"C0FINANCE1": "résultats", "C0LEGAL001": "procès", "C0HR000001": "grève", "C0GENERAL1": "bonjour"}
# Who clicks: the community managers may claim anywhere, the leads and experts in their own team.
CLICKERS = {"C0FINANCE1": ("U0FIN0002", "U0FIN0001", "U0CM00001"), "C0LEGAL001": ("U0LEG0002", "U0CM00002"),
            "C0HR000001": ("U0CM00001", "U0CM00002"), "C0GENERAL1": ("U0CM00002", "U0CM00001")}
WARM_UP = 10  # first requests of each kind, not counted (imports and caches filling)


_TRIGGERS = itertools.count(1)


def _trigger_id() -> str:
    # Slack gives every interaction its own trigger_id, and Vigie handles each interaction once.
    return f"{int(time.time())}.{next(_TRIGGERS)}.bench"


def slash_body(text: str, *, user: str = "U0CM00001", channel: str = "C0GENERAL1") -> str:
    """What Slack POSTs for a slash command (form-encoded)."""
    return urlencode({"token": "legacy-verification-token", "team_id": "T0TEAM0001", "team_domain": "acme",
                      "channel_id": channel, "channel_name": "veille", "user_id": user, "user_name": "cm",
                      "command": "/vigie", "text": text, "api_app_id": "A0VIGIE001", "is_enterprise_install": "false",
                      "response_url": "https://hooks.slack.invalid/commands/T0/1/abc", "trigger_id": _trigger_id()})


def run(app: App, section: Section, *, requests: int, cards_per_channel: int = 5) -> None:
    cards = _relay_cards(app, per_channel=cards_per_channel)
    warm_up = min(WARM_UP, requests)
    slash_ms, slash_bad = _time(app, [slash_body("status") for _ in range(requests + warm_up)], warm_up)
    clicks = []
    for i in range(requests + warm_up):
        mention_id, channel, ts = cards[i % len(cards)]
        user = CLICKERS[channel][(i // len(cards)) % len(CLICKERS[channel])]
        payload = block_action(action_id="mention_claim", value=str(mention_id), user=user, channel=channel,
                               message_ts=ts)
        clicks.append(interactive_body({**payload, "trigger_id": _trigger_id()}))
    click_ms, click_bad = _time(app, clicks, warm_up)
    for label, values, bad in (("`/vigie status`", slash_ms, slash_bad), ("button click (claim)", click_ms, click_bad)):
        section.add(f"Ack of {label}, p50", pct(values, 50), "ms")
        section.add(f"Ack of {label}, p99", pct(values, 99), "ms", below=100, target="p99 < 100 ms",
                    note=f"{len(values)} requests, one at a time" + (f"; {bad} not answered 200" if bad else ""))
    section.details.update(slash_ms=slash_ms, click_ms=click_ms)


def _relay_cards(app: App, *, per_channel: int) -> list[tuple[int, str, str]]:
    """Mentions with their card posted in each team channel: (mention id, channel, card ts)."""
    batch = [mention(800_000 + i, text=f"{TEAM_WORDS[TEAM_CHANNELS[i % 4]]} : " + str(mention(800_000 + i)["text"]))
             for i in range(per_channel * len(TEAM_CHANNELS))]
    with app.client() as client:
        r = client.post("/intake/mentions", headers=AUTH, json=batch)
        r.raise_for_status()
    ids = [m["id"] for m in r.json()["mentions"]]
    engine = db.make_engine(app.database_url)

    def posted() -> dict[int, tuple[str, str]]:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, channel, relay_ts FROM mention WHERE relay_ts IS NOT NULL"))
            return {mid: (channel, ts) for mid, channel, ts in rows if mid in ids}

    try:
        if not wait_until(lambda: len(posted()) == len(ids), timeout=per_channel * 3 + 30, interval=0.2):
            raise AssertionError(f"only {len(posted())} of {len(ids)} relay cards posted")
        by_id = posted()
    finally:
        engine.dispose()
    return [(mid, *by_id[mid]) for mid in ids]


def _time(app: App, bodies: list[str], warm_up: int) -> tuple[list[float], int]:
    """Send each body (signed with a fresh timestamp, as Slack does) and time the answer in ms."""
    times, bad = [], 0
    with app.client(timeout=10) as client:
        for i, body in enumerate(bodies):
            headers = signed_headers(SIGNING_SECRET, body)
            start = time.perf_counter()
            r = client.post("/slack/events", content=body, headers=headers)
            elapsed = (time.perf_counter() - start) * 1000
            if i >= warm_up:
                times.append(elapsed)
                bad += r.status_code != 200
    return times, bad
