"""A shorter cut of the warm bench (bench/warm.py) for the clicks alone: 8 people clicking "claim" at once, with
no intake (control) and while intake runs at half its measured rate, on a warm PostgreSQL database with an
outbox backlog; the acknowledgement and click -> card updated, as bench/warm.py measures them (its own
functions), plus where the card update's time in the outbox goes: how many other rows were marked sent
between the card update's row being written and it being sent, by kind.

    VIGIE_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python -m bench.click_probe

It skips what the clicks do not need (the first request after a restart, the Slack calls of one mention's
flow); the sizes are options (the default seeds in about 15 s).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import text

from bench import warm
from bench.common import AUTH, SLACK_BURST, SLACK_RATE, Section, pct, wait_until
from bench.warm_seed import Sizes, cards_in_fake, seed, warm_database
from bot.store import db
from tests import dbutil
from tests.conftest import BOT_TOKEN
from tests.fakes.slack_api import FakeSlack

# Rows sent while a clicked card update waited in the outbox, by kind: what the worker did instead.
BEFORE_IT = text("""
    SELECT o.kind, count(*) FROM outbox c JOIN outbox o
      ON o.sent_at > c.created_at AND o.sent_at < c.sent_at AND o.id <> c.id
    WHERE c.kind = 'card_update' AND c.mention_id = ANY(:ids) AND c.sent_at IS NOT NULL
    GROUP BY o.kind ORDER BY 2 DESC""")


def probe(admin_url: str, sizes: Sizes, tmp: Path, *, rate: float | None) -> dict[str, object]:
    now = datetime.now(UTC)
    run_id = uuid.uuid4().hex[:6]
    old = sizes.mentions - sizes.stories
    out: dict[str, object] = {"load_start": os.getloadavg()}
    with warm_database(admin_url) as url:
        seed(url, sizes, now)
        fake = FakeSlack(token=BOT_TOKEN).start()
        fake.rate_limit(SLACK_RATE, burst=SLACK_BURST)
        for user in {u for u, _ in warm.CLICKERS}:
            fake.add_user(user, name=user, locale="fr-FR")
        cards_in_fake(url, fake, list(range(old + 1, old + 1 + sizes.copy_targets)))
        engine = db.make_engine(url)
        server, _ = warm.serve(url, fake, tmp)
        try:
            with httpx.Client(base_url=server.url, timeout=60) as client:  # as warm's first request does
                client.post("/intake/mentions", headers=AUTH,
                            json=warm.body("near", 1, run=run_id, old=old, targets=sizes.copy_targets))
            if not wait_until(lambda: warm._loaded(server.log) is not None, 120, 0.5):
                raise AssertionError("the story index never said it had loaded: "
                                     + server.log.read_text(errors="replace")[-3000:])
            rounds = warm.click_cards(server, engine, sizes.control_rounds + sizes.click_rounds, run_id)
            section = Section("clicks")
            control = rounds[:sizes.control_rounds]
            warm.clicks(server, fake, engine, section, control, rate=0, bodies=[])
            out["control"] = _spent(engine, control)
            if rate is None:
                rate = warm.intake_vs_floor(server, url, section, sizes, tmp, run=run_id, old=old)
            load_bodies = warm.mix(int(rate * 120) + 100, 50_000_000, run=run_id, old=old,
                                   targets=sizes.copy_targets)
            out["load_during"] = os.getloadavg()
            loaded = rounds[sizes.control_rounds:]
            warm.clicks(server, fake, engine, section, loaded, rate=rate / 2, bodies=load_bodies)
            out["loaded"] = _spent(engine, loaded)
            out["capacity"] = rate
            out["figures"] = [(f.name, round(f.value, 1) if f.value is not None else None, f.unit, f.note)
                              for f in section.figures]
            d = section.details
            for key in ("ack_control_ms", "ack_ms", "click_to_card_control_ms", "click_to_card_ms",
                        "outbox_control_ms", "outbox_ms"):
                v = d.get(key) or []
                out[key] = {"n": len(v), "p50": round(pct(v, 50)), "p95": round(pct(v, 95)),
                            "p99": round(pct(v, 99)), "max": round(max(v)) if v else None,
                            "mean": round(statistics.fmean(v)) if v else None}
        finally:
            server.stop()
            engine.dispose()
            fake.stop()
    out["load_end"] = os.getloadavg()
    return out


def _spent(engine: object, rounds: list[list[tuple[str, int, str, str]]]) -> dict[str, int]:
    ids = [mid for cards in rounds for _, mid, _, _ in cards]
    with engine.connect() as conn:  # type: ignore[attr-defined]
        return {kind: int(n) for kind, n in conn.execute(BEFORE_IT, {"ids": ids})}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.click_probe", description=__doc__.split("\n\n")[0])
    p.add_argument("--mentions", type=int, default=50_000)
    p.add_argument("--stories", type=int, default=10_000)
    p.add_argument("--backlog", type=int, default=10_000)
    p.add_argument("--mix", type=int, default=400, help="requests per round of the capacity measure")
    p.add_argument("--rounds", type=int, default=5, help="rounds of 8 clicks under load")
    p.add_argument("--control", type=int, default=2, help="rounds of 8 clicks with no intake")
    p.add_argument("--rate", type=float, help="the intake capacity to halve (default: measured, as warm does)")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    admin = dbutil.postgres_admin_url()
    if not admin:
        print("needs VIGIE_TEST_DATABASE_URL (PostgreSQL)", file=sys.stderr)
        return 2
    sizes = Sizes(mentions=args.mentions, stories=args.stories, backlog=args.backlog, mix=args.mix, rounds=1,
                  click_rounds=args.rounds, control_rounds=args.control, copy_targets=1_000)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="vigie-click-") as tmp:
        out = probe(admin, sizes, Path(tmp), rate=args.rate)
    out["seconds"] = round(time.monotonic() - started)
    text_out = json.dumps(out, indent=1, default=str)
    print(text_out)
    if args.json:
        args.json.write_text(text_out, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
